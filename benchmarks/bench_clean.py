"""Throughput of the clean stage's core, in articles per second per core (CPU time).

    python benchmarks/bench_clean.py /work/shared/data/egypt2013_stream.jsonl [--html-limit 600]

Text path: ``RawArticle.text`` = the stream article's text, cleaned by ``clean_article`` (line
rules, sentences, normalisation, hashing). HTML path: each article (up to ``--html-limit``) is
wrapped in a realistic news page (head with scripts and styles, navigation menu, breaking-news
ticker, share bar, sidebar of most-read headlines, footer) and cleaned through trafilatura.
Also prints normalize() throughput in MB/s. Times are ``time.process_time`` (CPU of this
process), so the figures are per core whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from monitor.core.arabic import normalize
from monitor.core.clean import clean_article
from monitor.core.records import CleanArticle, RawArticle

NAV = ["الرئيسية", "أخبار مصر", "عربي ودولي", "اقتصاد", "رياضة", "فن", "حوادث", "منوعات", "فيديو"]
SCRIPT = "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}" * 20


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def page(record: dict[str, str], headlines: Sequence[str]) -> str:
    title = html.escape(record.get("title") or "")
    paragraphs = "\n".join(
        f"<p>{html.escape(line)}</p>" for line in record["text"].splitlines() if line.strip()
    )
    nav = "".join(f'<li><a href="/section/{i}">{name}</a></li>' for i, name in enumerate(NAV))
    sidebar = "".join(
        f'<li><a href="/news/{i}">{html.escape(h)}</a></li>' for i, h in enumerate(headlines)
    )
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{title} | بوابة الأخبار</title><meta property="og:title" content="{title}">
<meta name="viewport" content="width=device-width"><link rel="stylesheet" href="/s.css">
<script>{SCRIPT}</script><style>.menu{{display:flex}} .ticker{{overflow:hidden}}</style></head>
<body><header><div class="logo"><a href="/">بوابة الأخبار</a></div><nav class="menu"><ul>{nav}</ul></nav>
<div class="ticker"><span>عاجل</span> {html.escape(headlines[0])}</div></header>
<main><div class="breadcrumb"><a href="/">الرئيسية</a> / <a href="/s/1">أخبار مصر</a></div>
<article><h1>{title}</h1><div class="meta"><span>كتب: محرر الموقع</span> <time>2013-03-01</time></div>
<div class="share"><a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a></div>
<div class="content">{paragraphs}</div>
<div class="tags">كلمات دلالية: <a href="/t/1">مصر</a> <a href="/t/2">الحكومة</a></div></article>
<aside><h3>الأكثر قراءة</h3><ul>{sidebar}</ul><div class="ad">إعلان</div></aside></main>
<footer><ul><li><a href="/about">من نحن</a></li><li><a href="/contact">اتصل بنا</a></li></ul>
<p>جميع الحقوق محفوظة © 2013 بوابة الأخبار</p></footer>
<script src="/app.js"></script><script>gtag('config','UA-1');</script></body></html>"""


def rate(
    articles: Sequence[RawArticle], clean: Callable[[RawArticle], object]
) -> tuple[float, int]:
    started = time.process_time()
    cleaned = sum(1 for raw in articles if isinstance(clean(raw), CleanArticle))
    return len(articles) / (time.process_time() - started), cleaned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path, help="JSON lines with id, outlet, title, text")
    parser.add_argument("--html-limit", type=int, default=600, help="articles for the HTML path")
    args = parser.parse_args()

    records = load(args.stream)
    texts = [
        RawArticle(id=r["id"], outlet=r["outlet"], title=r.get("title") or "", text=r["text"])
        for r in records
    ]
    clean_article(texts[0])  # warm-up: imports, regex compilation

    chars = sum(len(r.text) for r in texts)
    started = time.process_time()
    for raw in texts:
        normalize(raw.text)
    normalize_seconds = time.process_time() - started
    print(f"normalize: {chars / normalize_seconds / 1e6:.1f} M chars/s ({chars / 1e6:.1f} M chars)")

    text_rate, text_ok = rate(texts, clean_article)
    print(f"text path: {text_rate:,.0f} articles/s/core ({text_ok}/{len(texts)} cleaned)")

    rng = random.Random(13)
    titles = [r.get("title") or "" for r in records if r.get("title")]
    sample = records[: args.html_limit]
    pages = [
        RawArticle(id=r["id"], outlet=r["outlet"], html=page(r, rng.sample(titles, 10)))
        for r in sample
    ]
    clean_article(pages[0])
    html_rate, html_ok = rate(pages, clean_article)
    size = sum(len(p.html or "") for p in pages) / len(pages)
    print(
        f"html path: {html_rate:,.0f} articles/s/core ({html_ok}/{len(pages)} cleaned, "
        f"mean page {size / 1000:.1f} k chars)"
    )


if __name__ == "__main__":
    main()
