"""``monitor replay`` end to end, as a user runs it: process start to last line written.

    python benchmarks/bench_cli.py STREAM [--rounds 3] [--workers 1 2] [--before DIR]

Each round runs every variant once, one after the other (A, B, A, B, ...: on a shared
machine, interleaving keeps the load the same for all, so the ratios are steadier than the
figures), as a child process ``python -m monitor.cli replay [--workers N] STREAM > FILE``.
Per run: wall seconds, articles per second, CPU seconds of the process and its children
(``wait4``), peak RSS of the largest process (``ru_maxrss``) and of all its processes
together (sampled from ``/proc`` every 50 ms), the SHA-256 of the output, and the load
average before it. ``--before DIR``: also the code in DIR (for instance
``git archive REV | tar -x -C DIR``), run with ``PYTHONPATH=DIR`` and without
``--workers`` (``--before-workers``: with each ``--workers N``, for code that has the
option). Also times ``monitor --help`` and ``monitor replay EMPTY_FILE`` (``--quick``
runs of each, median). Outputs must be identical across variants (checked).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variant:
    name: str
    pythonpath: str | None
    args: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    max_rss_kb: int
    tree_rss_kb: int
    """Largest sum of the RSS of the process and its workers seen (sampled)."""
    digest: str
    load: float


def run(variant: Variant, argv: list[str], out: Path) -> Run:
    env = dict(os.environ)
    if variant.pythonpath:
        env["PYTHONPATH"] = variant.pythonpath
    load = os.getloadavg()[0]
    with out.open("wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", *argv],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tempfile.gettempdir(),  # not the checkout: PYTHONPATH decides the code
        )
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, tree_rss_kb(child.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{variant.name}: exit status {child.returncode}")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss, max(tree_peak, usage.ru_maxrss), digest, load)


def tree_rss_kb(pid: int) -> int:
    """Resident KiB of ``pid`` and its descendants now (0 for those already gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pending += map(int, children)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--before", metavar="DIR", help="code to compare with (PYTHONPATH)")
    parser.add_argument(
        "--before-workers",
        action="store_true",
        help="run the code in --before DIR with each --workers N too (it has the option)",
    )
    parser.add_argument("--quick", type=int, default=7, help="runs of --help and EMPTY (0: none)")
    args = parser.parse_args()
    stream = args.stream.resolve()
    articles = sum(1 for _ in stream.open("rb"))
    variants: list[Variant] = []
    if args.before:
        before = str(Path(args.before).resolve())
        if args.before_workers:
            variants += [
                Variant(f"before w{n}", before, ("--workers", str(n))) for n in args.workers
            ]
        else:
            variants.append(Variant("before", before, ()))
    variants += [Variant(f"workers {n}", None, ("--workers", str(n))) for n in args.workers]
    out = Path(tempfile.mkdtemp(prefix="bench-cli-")) / "out.jsonl"
    results: dict[str, list[Run]] = {v.name: [] for v in variants}
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {articles} articles, "
          f"{os.cpu_count()} CPUs, affinity {len(os.sched_getaffinity(0))}")  # fmt: skip
    for round_ in range(1, args.rounds + 1):
        for variant in variants:
            result = run(variant, ["replay", *variant.args, str(stream)], out)
            results[variant.name].append(result)
            print(
                f"round {round_} {variant.name:>10}: {result.wall:6.2f} s wall "
                f"= {articles / result.wall:5.0f} articles/s, CPU {result.cpu:5.2f} s, "
                f"peak RSS {result.max_rss_kb / 1024:5.0f} MiB (all processes "
                f"{result.tree_rss_kb / 1024:5.0f}), load {result.load:4.1f}, "
                f"{result.digest[:12]}",
                flush=True,
            )
    digests = {r.digest for runs in results.values() for r in runs}
    print("outputs identical:", len(digests) == 1)
    reference = variants[0].name
    for variant in variants:
        walls = [r.wall for r in results[variant.name]]
        ratios = [
            ref.wall / r.wall
            for ref, r in zip(results[reference], results[variant.name], strict=True)
        ]
        print(
            f"{variant.name:>10}: best {articles / min(walls):5.0f}/s, median "
            f"{articles / statistics.median(walls):5.0f}/s; speed vs {reference} per round: "
            + ", ".join(f"{ratio:.2f}" for ratio in ratios)
        )
    if args.quick:
        empty = out.with_name("empty.jsonl")
        empty.write_bytes(b"")
        for label, argv in (("--help", ["--help"]), ("replay EMPTY", ["replay", str(empty)])):
            for variant in variants[: 2 if args.before else 1]:
                walls = [run(variant, argv, out).wall for _ in range(args.quick)]
                print(
                    f"monitor {label:<13} {variant.name:>10}: median "
                    f"{statistics.median(walls):.3f} s (min {min(walls):.3f}, "
                    f"max {max(walls):.3f})"
                )


if __name__ == "__main__":
    main()
