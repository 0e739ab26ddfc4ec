"""Story statistics of a replayed stream, a sample of stories to read, and pair accuracy.

    python benchmarks/story_eval.py /work/shared/data/egypt2013_stream.jsonl
    python benchmarks/story_eval.py STREAM --sample 20 --seed 1      # stories to read
    python benchmarks/story_eval.py --pairs tests/data/story_pairs.jsonl   # precision/recall
    python benchmarks/story_eval.py STREAM --build-df monitor/data/df.json  # rebuild IDF table

Replays STREAM (JSONL, in file order = time order) through the embedded pipeline with memory
stores and prints: stories, share of articles in multi-outlet stories, alerts per hour of
stream time, decision counts, and ``--sample`` random multi-article stories (titles, outlets,
decisions) for a person to judge. ``--pairs`` scores labelled pairs with ``monitor
similarity``'s function and prints precision/recall of ``same_story`` per threshold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

from monitor.commands.replay import read_articles
from monitor.commands.similarity import score_pair
from monitor.core.arabic import normalize, tokens
from monitor.core.records import Decision
from monitor.pipeline import Pipeline
from monitor.settings import Settings


async def replay(path: Path) -> list[Decision]:
    decisions: list[Decision] = []
    async with Pipeline() as pipeline:
        async for decision, _ in pipeline.process_many(read_articles([path])):
            decisions.append(decision)
    return decisions


def report(decisions: list[Decision], sample: int, seed: int) -> None:
    counts = Counter(d.decision for d in decisions)
    by_story: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.story:
            by_story[decision.story].append(decision)
    in_story = sum(len(members) for members in by_story.values())
    multi_outlet = [s for s, members in by_story.items() if len({m.outlet for m in members}) > 1]
    in_multi = sum(len(by_story[s]) for s in multi_outlet)
    times = [d.published for d in decisions if d.published is not None]
    hours = (max(times) - min(times)).total_seconds() / 3600 if len(times) > 1 else 0.0
    alerts = counts["new_story"] + counts["development"]
    sizes = Counter(min(len(m), 10) for m in by_story.values())
    print(f"articles: {len(decisions)}; decisions: {dict(counts.most_common())}")
    print(f"stories: {len(by_story)}; size histogram (10 = 10+): {dict(sorted(sizes.items()))}")
    print(f"largest stories: {sorted((len(m) for m in by_story.values()), reverse=True)[:10]}")
    print(
        f"articles in multi-outlet stories: {in_multi}/{in_story} = {in_multi / max(1, in_story):.1%}"
        f" ({len(multi_outlet)} stories)"
    )
    if hours:
        print(
            f"stream time {hours:.1f} h: {alerts / hours:.1f} alerts/h "
            f"({counts['new_story'] / hours:.1f} new stories/h, "
            f"{counts['development'] / hours:.1f} developments/h)"
        )
    multi = [s for s, members in by_story.items() if len(members) > 1]
    rng = random.Random(seed)
    for number, story in enumerate(rng.sample(multi, min(sample, len(multi))), 1):
        members = by_story[story]
        print(f"\n#{number} story {story} ({len(members)} articles)")
        for member in members[:12]:
            when = member.published.strftime("%d %H:%M") if member.published else "?"
            news = f" +{len(member.new_sentences)}" if member.decision == "development" else ""
            print(
                f"  {when} {member.decision:<11}{news:<4} {member.outlet:<18} {member.title[:90]}"
            )
            if member.decision == "development":
                for sentence in member.new_sentences[:2]:
                    print(f"        + {sentence[:120]}")


def pair_accuracy(path: Path) -> None:
    settings = Settings()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    scored = [(score_pair(r["a"], r["b"], settings)[0], bool(r["same_story"])) for r in rows]
    print(
        f"{len(rows)} labelled pairs, {sum(t for _, t in scored)} same story; "
        f"threshold in use {settings.stories.same_story_threshold}"
    )
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        tp = sum(s >= threshold and t for s, t in scored)
        fp = sum(s >= threshold and not t for s, t in scored)
        fn = sum(s < threshold and t for s, t in scored)
        print(
            f"  threshold {threshold:.2f}: precision {tp / max(1, tp + fp):.2f} "
            f"recall {tp / max(1, tp + fn):.2f} (tp {tp}, fp {fp}, fn {fn})"
        )


def build_df(stream: Path, out: Path, min_df: int = 3) -> None:
    """Document frequencies of normalised tokens (the IDF table of ``monitor.core.terms``)."""
    df: Counter[str] = Counter()
    documents = 0
    with stream.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            documents += 1
            df.update(set(tokens(normalize(f"{row.get('title', '')} {row.get('text', '')}"))))
    kept = {t: c for t, c in df.most_common() if c >= min_df and not t[0].isdigit()}
    out.write_text(
        json.dumps(
            {
                "documents": documents,
                "source": f"{stream.name} ({documents} articles), terms in >={min_df} documents, "
                f"built {datetime.now():%Y-%m-%d}",
                "df": kept,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    print(f"{len(kept)} terms from {documents} documents -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path, nargs="?")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=Path)
    parser.add_argument("--build-df", type=Path, metavar="OUT")
    args = parser.parse_args()
    if args.build_df:
        build_df(args.stream, args.build_df)
        return
    if args.pairs:
        pair_accuracy(args.pairs)
    if args.stream:
        report(asyncio.run(replay(args.stream)), args.sample, args.seed)


if __name__ == "__main__":
    main()
