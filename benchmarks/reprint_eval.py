"""Evaluate reprint detection (issue 4) on real articles: recall on synthetic reprints, false
positives on hard negatives, and the real cross-outlet near copies the stream holds.

    .venv/bin/python benchmarks/reprint_eval.py /work/shared/data/egypt2013_stream.jsonl
    .venv/bin/python benchmarks/reprint_eval.py STREAM --sweep          # compare parameters
    .venv/bin/python benchmarks/reprint_eval.py STREAM --write-sample tests/data/reprint_pairs.jsonl

Every pair goes through the pipeline's real path: ``clean_article`` (the clean stage's core)
on both raw texts, then ``fingerprint_stage`` with a fresh ``MemoryFingerprintStore`` (same
semantics as the Redis store): the first article is stored, the second is classified.

Positives (label ``reprint``): a real article and a synthetic reprint of it by another outlet,
made the way outlets make them: a new headline, plus 3-5 of: wire tag/dateline added or
removed, boilerplate lines added or removed, a paragraph trimmed, a paragraph added
(analysis or unrelated), words substituted, orthography/punctuation/digit variants, sentences
reordered. A quarter are "wrapped" reprints: the wire copy trimmed and then as much new text
added again (containment matters, Jaccard is low). Detected = ``reprint`` or ``exact``.

Negatives (label ``negative``): (a) hard pairs mined from the stream: two different articles
with high word overlap (≥ 30% of the shorter one's distinct words; same topic, same days) but
less than 10% of word 3-shingles in common (not the same text); (b) the same pairs wrapped
in one outlet's template (masthead, promo and follow-us lines), published by that outlet.
False positive = anything but ``new``. Pairs whose true 3-shingle containment is between 10%
and 30% are ambiguous (shared quotes, re-written releases) and are in neither set.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.core.arabic import tokens
from monitor.core.clean import clean_article
from monitor.core.records import CleanArticle, RawArticle
from monitor.settings import Settings
from monitor.stages.fingerprint import fingerprint_stage
from monitor.stores.fingerprints import MemoryFingerprintStore

DETECTED = {"reprint", "exact"}
_DATELINE = re.compile(r"^[^\n:]{0,40}(?:ا\.?ش\.?ا|أ\.?\s?ش\.?\s?أ|وكالات)[^\n:]{0,12}[:\-–]\s*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!؟?])\s+")
WIRE_DATELINES = ["القاهرة - أ ش أ: ", "القاهرة (أ.ش.أ) - ", "وكالات - ", "كتب - محمد علي: "]
BOILERPLATE = [
    "اقرأ أيضا:",
    "تابعونا على فيسبوك وتويتر",
    "للمزيد من أخبار مصر اضغط هنا",
    "المصدر: وكالة أنباء الشرق الأوسط",
    "شارك الخبر",
    "طباعة",
]
TEMPLATE_HEAD = ["رئيس التحرير", "عصام كامل", "الرئيسية > أخبار مصر"]
TEMPLATE_FOOT = [
    "ونقدم لكم من خلال موقعنا تغطية ورصدا مستمرا على مدار الـ 24 ساعة لأسعار الذهب وأسعار "
    "الدولار وأخبار الرياضة وأخبار مصر وأخبار المحافظات وأخبار السياسة والحوادث.",
    "تابعونا على فيسبوك وتويتر ويوتيوب",
    "جميع الحقوق محفوظة",
]
SUBSTITUTES = {
    "قال": "أكد", "أكد": "قال", "وأضاف": "وتابع", "وأشار": "ولفت", "أن": "بأن",
    "اليوم": "الآن", "مصادر": "جهات", "الرئيس": "رئيس الجمهورية", "كبير": "ضخم",
    "وزير": "الوزير", "الحكومة": "مجلس الوزراء", "إلى": "الى", "على": "علي",
}  # fmt: skip
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True, slots=True)
class Pair:
    label: str  # "reprint" or "negative"
    kind: str  # how the pair was made
    first: dict[str, str]
    second: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(
            {"label": self.label, "kind": self.kind, "first": self.first, "second": self.second},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, line: str) -> Pair:
        data = json.loads(line)
        return cls(data["label"], data["kind"], data["first"], data["second"])


def load_stream(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [row for row in rows if (row.get("text") or "").strip()]


def _raw(record: dict[str, str]) -> RawArticle:
    return RawArticle(
        id=record["id"],
        outlet=record["outlet"],
        title=record.get("title", ""),
        text=record["text"],
        url=record.get("url") or None,
    )


_CLEANED: dict[tuple[str, str, str], CleanArticle | None] = {}


def clean(record: dict[str, str]) -> CleanArticle | None:
    """``clean_article`` of a record (memoised: the sweep re-runs the same pairs)."""
    key = (record["id"], record["outlet"], record["text"])
    if key not in _CLEANED:
        result = clean_article(_raw(record))
        _CLEANED[key] = result.model_copy(deep=True) if isinstance(result, CleanArticle) else None
    cached = _CLEANED[key]
    return cached.model_copy(deep=True) if cached is not None else None


def _record(row: dict[str, Any]) -> dict[str, str]:
    return {
        "id": row["id"],
        "outlet": row["outlet"],
        "title": row.get("title") or "",
        "text": row["text"],
    }


# --- synthetic reprints --------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _edit_words(paragraphs: list[str], rng: random.Random, share: float) -> list[str]:
    edited = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        for index, word in enumerate(words):
            if rng.random() < share:
                words[index] = SUBSTITUTES.get(word, rng.choice(list(SUBSTITUTES.values())))
        edited.append(" ".join(words))
    return edited


def _orthography(paragraph: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        paragraph = paragraph.replace("ة ", "ه ").replace("أ", "ا").replace("ى ", "ي ")
    else:
        paragraph = paragraph.replace("ه ", "ة ").replace("إ", "ا")
    if rng.random() < 0.5:
        paragraph = paragraph.translate(_ARABIC_DIGITS)
    return paragraph.replace("،", ",") if rng.random() < 0.5 else paragraph.replace(",", "،")


def make_reprint(
    row: dict[str, Any], others: Sequence[dict[str, Any]], rng: random.Random, outlet: str
) -> tuple[dict[str, str], list[str]]:
    """A reprint of ``row`` by ``outlet``, and the list of edits made."""
    paragraphs = _paragraphs(row["text"])
    edits = ["retitle"]
    wrapped = rng.random() < 0.25
    operations = ["dateline", "boilerplate", "trim", "add", "substitute", "orthography", "reorder"]
    for operation in rng.sample(operations, rng.randint(3, 5)) + (["wrap"] if wrapped else []):
        if operation == "dateline":
            if paragraphs and _DATELINE.match(paragraphs[0]):
                paragraphs[0] = _DATELINE.sub("", paragraphs[0])
                edits.append("dateline_removed")
            elif paragraphs:
                paragraphs[0] = rng.choice(WIRE_DATELINES) + paragraphs[0]
                edits.append("dateline_added")
        elif operation == "boilerplate":
            extra = rng.sample(BOILERPLATE, 2)
            paragraphs = [extra[0], *paragraphs, extra[1]]
            edits.append("boilerplate_added")
        elif operation == "trim" and len(paragraphs) >= 3:
            del paragraphs[rng.choice([0, -1]) if len(paragraphs) >= 4 else -1]
            edits.append("paragraph_trimmed")
        elif operation == "trim":
            sentences = _SENTENCE_SPLIT.split(" ".join(paragraphs))
            if len(sentences) >= 4:
                paragraphs = [" ".join(sentences[: max(3, int(len(sentences) * 0.75))])]
                edits.append("sentences_trimmed")
        elif operation == "add":
            other = _paragraphs(rng.choice(others)["text"])
            if other:
                paragraphs.append(rng.choice(other))
                edits.append("paragraph_added")
        elif operation == "substitute":
            paragraphs = _edit_words(paragraphs, rng, 0.04)
            edits.append("words_substituted")
        elif operation == "orthography":
            paragraphs = [_orthography(paragraph, rng) for paragraph in paragraphs]
            edits.append("orthography")
        elif operation == "reorder":
            sentences = _SENTENCE_SPLIT.split("\n".join(paragraphs))
            if len(sentences) >= 3:
                index = rng.randrange(len(sentences) - 1)
                sentences[index], sentences[index + 1] = sentences[index + 1], sentences[index]
                paragraphs = _paragraphs(" ".join(sentences))
                edits.append("sentences_reordered")
        elif operation == "wrap":
            # The wire copy cut to its first 60-80%, then as much new text again.
            words = " ".join(paragraphs).split(" ")
            kept = words[: int(len(words) * rng.uniform(0.6, 0.8))]
            added: list[str] = []
            while len(added) < len(kept):
                added += rng.choice(others)["text"].split()
            paragraphs = [" ".join(kept), " ".join(added[: len(kept)])]
            edits.append("wrapped")
    title = rng.choice(others).get("title") or "عاجل"
    reprint = {
        "id": f"{row['id']}-reprint",
        "outlet": outlet,
        "title": f"{title} (مصادر)",
        "text": "\n".join(paragraphs),
    }
    return reprint, edits


# --- mining real pairs -----------------------------------------------------------------------


def _shingles(words: Sequence[str], width: int = 3) -> set[str]:
    return {" ".join(words[i : i + width]) for i in range(max(1, len(words) - width + 1))}


@dataclass(frozen=True, slots=True)
class PairStats:
    first: int
    second: int
    word_containment: float
    shingle_containment: float


def mine_pairs(articles: Sequence[CleanArticle], max_df: int = 300) -> list[PairStats]:
    """Every pair sharing rarer words, with exact word and 3-shingle containments."""
    words = [set(tokens(article.match_text)) for article in articles]
    shingles = [_shingles(tokens(article.match_text)) for article in articles]
    postings: dict[str, list[int]] = collections.defaultdict(list)
    for index, bag in enumerate(words):
        for word in bag:
            postings[word].append(index)
    shared: collections.Counter[tuple[int, int]] = collections.Counter()
    for posting in postings.values():
        if len(posting) <= max_df:
            for a, first in enumerate(posting):
                for second in posting[a + 1 :]:
                    shared[(first, second)] += 1
    stats = []
    for (first, second), count in shared.items():
        smaller = min(len(words[first]), len(words[second]))
        if count < 5 or count / smaller < 0.1:
            continue
        common = len(shingles[first] & shingles[second])
        stats.append(
            PairStats(
                first,
                second,
                len(words[first] & words[second]) / smaller,
                common / min(len(shingles[first]), len(shingles[second])),
            )
        )
    return stats


def _wrap_in_template(record: dict[str, str], outlet: str) -> dict[str, str]:
    text = "\n".join([*TEMPLATE_HEAD, record["text"], *TEMPLATE_FOOT])
    return {**record, "id": f"{record['id']}-tpl", "outlet": outlet, "text": text}


def build_pairs(
    rows: Sequence[dict[str, Any]], positives: int, negatives: int, seed: int = 13
) -> tuple[list[Pair], dict[str, Any]]:
    rng = random.Random(seed)
    cleaned = [(row, clean(_record(row))) for row in rows]
    usable = [(row, article) for row, article in cleaned if article is not None]
    articles = [article for _, article in usable]
    stats = mine_pairs(articles)
    outlets = sorted({row["outlet"] for row, _ in usable})
    real = {
        threshold: sum(
            1
            for s in stats
            if s.shingle_containment >= threshold
            and articles[s.first].outlet != articles[s.second].outlet
        )
        for threshold in (0.3, 0.5, 0.8)
    }
    hard = sorted(
        (
            s
            for s in stats
            if s.word_containment >= 0.3
            and s.shingle_containment < 0.1
            and min(
                len(tokens(articles[s.first].match_text)),
                len(tokens(articles[s.second].match_text)),
            )
            >= 30
        ),
        key=lambda s: s.word_containment,
        reverse=True,
    )
    pairs: list[Pair] = []
    bases = [row for row, article in usable if len(tokens(article.match_text)) >= 40]
    for row in rng.sample(bases, min(positives, len(bases))):
        outlet = rng.choice([o for o in outlets if o != row["outlet"]])
        reprint, edits = make_reprint(row, bases, rng, outlet)
        pairs.append(Pair("reprint", "+".join(edits), _record(row), reprint))
    for s in hard[:negatives]:
        first, second = _record(usable[s.first][0]), _record(usable[s.second][0])
        pairs.append(Pair("negative", f"hard(word={s.word_containment:.2f})", first, second))
    for s in hard[: negatives // 4]:
        outlet = rng.choice(outlets)
        first = _wrap_in_template(_record(usable[s.first][0]), outlet)
        second = _wrap_in_template(_record(usable[s.second][0]), outlet)
        pairs.append(Pair("negative", "template", first, second))
    info = {
        "articles": len(articles),
        "mined_pairs": len(stats),
        "hard_negative_pool": len(hard),
        "real_cross_outlet_pairs_by_containment": real,
    }
    return pairs, info


# --- evaluation --------------------------------------------------------------------------------


@dataclass
class Report:
    positives: int = 0
    detected: int = 0
    negatives: int = 0
    false_positives: int = 0
    misses: list[tuple[str, str, float]] | None = None
    false: list[tuple[str, str, float]] | None = None

    @property
    def recall(self) -> float:
        return self.detected / self.positives if self.positives else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0


async def evaluate(pairs: Iterable[Pair], settings: Settings) -> Report:
    """Run every pair through clean -> fingerprint stage (fresh memory store per pair)."""
    report = Report(misses=[], false=[])
    for pair in pairs:
        first, second = clean(pair.first), clean(pair.second)
        if first is None or second is None:
            continue
        store = MemoryFingerprintStore(
            ttl_seconds=settings.fingerprint.ttl_seconds,
            generation_seconds=settings.fingerprint.generation_seconds,
            min_shared=settings.fingerprint.min_shared,
        )
        await fingerprint_stage(first, store, settings)
        result = await fingerprint_stage(second, store, settings)
        if pair.label == "reprint":
            report.positives += 1
            if result.kind in DETECTED:
                report.detected += 1
            else:
                assert report.misses is not None
                report.misses.append((pair.kind, result.kind, result.overlap))
        else:
            report.negatives += 1
            if result.kind != "new":
                report.false_positives += 1
                assert report.false is not None
                report.false.append((pair.kind, result.kind, result.overlap))
    return report


async def replay_stream(rows: Sequence[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Every stream article in time order through one store, checked against exact overlaps.

    Returns the count of each kind; for articles flagged reprint/revision, how many share
    less than 10% / 10-30% / at least 30% of their 3-shingles with the article they were
    matched to (exact containment); and the share of articles that have an earlier
    cross-outlet near copy (exact containment >= 0.5) that were flagged.
    """
    store = MemoryFingerprintStore(
        ttl_seconds=settings.fingerprint.ttl_seconds, min_shared=settings.fingerprint.min_shared
    )
    kinds: collections.Counter[str] = collections.Counter()
    shingles: dict[str, set[str]] = {}
    outlets: dict[str, str] = {}
    postings: dict[str, list[str]] = collections.defaultdict(list)
    matched_overlap: collections.Counter[str] = collections.Counter()
    with_copy = flagged_with_copy = 0
    for row in rows:
        article = clean(_record(row))
        if article is None:
            continue
        own = _shingles(tokens(article.match_text))
        result = await fingerprint_stage(article, store, settings)
        kinds[result.kind] += 1
        if result.kind in ("reprint", "revision") and result.matched_id in shingles:
            other = shingles[result.matched_id]
            truth = len(own & other) / max(1, min(len(own), len(other)))
            matched_overlap["<0.1" if truth < 0.1 else "0.1-0.3" if truth < 0.3 else ">=0.3"] += 1
        common: collections.Counter[str] = collections.Counter()
        for shingle in own:
            for earlier in postings.get(shingle, ())[-50:]:
                common[earlier] += 1
        if any(
            outlets[earlier] != article.outlet
            and count / max(1, min(len(own), len(shingles[earlier]))) >= 0.5
            for earlier, count in common.items()
        ):
            with_copy += 1
            flagged_with_copy += result.kind != "new"
        shingles[article.id] = own
        outlets[article.id] = article.outlet
        for shingle in own:
            postings[shingle].append(article.id)
    return {
        "kinds": dict(kinds),
        "flagged_by_exact_containment_with_match": dict(matched_overlap),
        "articles_with_earlier_cross_outlet_copy": with_copy,
        "of_which_flagged": flagged_with_copy,
    }


def exact_measures(pairs: Iterable[Pair], width: int = 3) -> dict[str, str]:
    """What an ideal Jaccard estimator (MinHash, SimHash) could do, against containment.

    Exact shingle-set Jaccard and containment of every pair; for each measure, the best
    recall among thresholds whose false-positive rate is at most 0.1%.
    """
    scored: list[tuple[str, float, float]] = []
    for pair in pairs:
        first, second = clean(pair.first), clean(pair.second)
        if first is None or second is None:
            continue
        a = _shingles(tokens(first.match_text), width)
        b = _shingles(tokens(second.match_text), width)
        common = len(a & b)
        scored.append((pair.label, common / len(a | b), common / min(len(a), len(b))))
    report = {}
    for index, name in ((1, "jaccard"), (2, "containment")):
        positives = sorted(float(s[index]) for s in scored if s[0] == "reprint")
        negatives = sorted((float(s[index]) for s in scored if s[0] == "negative"), reverse=True)
        allowed = int(len(negatives) * 0.001)  # false positives allowed at 0.1%
        threshold = negatives[allowed] + 1e-9 if negatives else 0.0
        recall = sum(value >= threshold for value in positives) / len(positives)
        report[name] = f"recall {recall:.4f} at threshold {threshold:.3f} (FP <= 0.1%)"
    return report


def _settings(**fingerprint: Any) -> Settings:
    return Settings(fingerprint=fingerprint)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--positives", type=int, default=2000)
    parser.add_argument("--negatives", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sweep", action="store_true", help="Compare fingerprint parameters.")
    parser.add_argument("--write-sample", type=Path, help="Write a small labelled sample here.")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = load_stream(args.stream)
    pairs, info = build_pairs(rows, args.positives, args.negatives, args.seed)
    print(f"stream: {info['articles']} clean articles, {info['mined_pairs']} candidate pairs")
    print(
        "real cross-outlet near-copy pairs in the stream (exact 3-shingle containment >= 0.3 / "
        f"0.5 / 0.8): {info['real_cross_outlet_pairs_by_containment']}"
    )
    print(
        f"hard negative pool: {info['hard_negative_pool']}; built {len(pairs)} pairs "
        f"in {time.perf_counter() - started:.1f}s"
    )

    if args.write_sample:
        _write_sample(pairs, args.write_sample, random.Random(args.seed))

    for name, line in exact_measures(pairs).items():
        print(f"exact 3-shingle {name}, best threshold: {line}")
    configurations: list[dict[str, Any]] = [{}]
    if args.sweep:
        configurations = [
            {"shingle_words": words, "sample_rate": rate, "threshold": threshold}
            for words in (2, 3, 4)
            for rate in (4, 8)
            for threshold in (0.2, 0.25, 0.3, 0.35, 0.4)
        ] + [
            {"min_samples": min_samples, "min_shared": min_shared, "threshold": threshold}
            for min_samples in (6, 16)
            for min_shared in (2, 3)
            for threshold in (0.3, 0.35)
        ]
    for overrides in configurations:
        settings = _settings(**overrides)
        report = asyncio.run(evaluate(pairs, settings))
        fp = settings.fingerprint
        print(
            f"shingle={fp.shingle_words} rate=1/{fp.sample_rate} threshold={fp.threshold}: "
            f"recall {report.recall:.4f} ({report.detected}/{report.positives}), "
            f"false positives {report.false_positive_rate:.4%} "
            f"({report.false_positives}/{report.negatives})"
        )
        if not args.sweep:
            misses = collections.Counter(kind for kind, _, _ in report.misses or [])
            print("  missed by edit set:", misses.most_common(8))
            print("  false positives:", (report.false or [])[:10])
            replay = asyncio.run(replay_stream(rows, settings))
            print(f"  stream replay (one store, time order): {replay}")
    return 0


def _write_sample(pairs: Sequence[Pair], path: Path, rng: random.Random) -> None:
    def small(pair: Pair) -> bool:
        return len(pair.first["text"]) + len(pair.second["text"]) < 2200

    positives = [pair for pair in pairs if pair.label == "reprint" and small(pair)]
    negatives = [pair for pair in pairs if pair.label == "negative" and small(pair)]
    hard = [pair for pair in negatives if pair.kind != "template"]
    template = [pair for pair in negatives if pair.kind == "template"]
    chosen = rng.sample(positives, 40) + hard[:30] + template[:10]
    path.write_text("".join(pair.to_json() + "\n" for pair in chosen), encoding="utf-8")
    print(f"wrote {len(chosen)} pairs to {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
