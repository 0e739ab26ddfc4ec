"""Write a JSONL stream N times over, each copy with new ids: a longer stream for memory runs.

    python benchmarks/stream_copies.py STREAM --copies 5 > stream_x5.jsonl

Copy k (0-based) gets ids ``<id>~k`` and URLs and GUIDs with ``#k`` appended (so no article
is taken for another's revision by its page), and its publication times moved ``k`` times
the stream's span later (the 2013 stream covers two days: copy 4 ends ten days after it
began), so the stores see time go on and their age bounds (fingerprints: 7 days) apply.
Copy 0 is the stream as it is; every later article repeats an earlier one's text.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.stream.open(encoding="utf-8")]
    times = [datetime.fromisoformat(row["published"]) for row in rows if row.get("published")]
    span = (max(times) - min(times)) + timedelta(hours=1) if times else timedelta(0)
    out = sys.stdout
    for copy in range(args.copies):
        for row in rows:
            if copy:
                row = dict(row)
                row["id"] = f"{row['id']}~{copy}"
                for field in ("url", "guid"):
                    if row.get(field):
                        row[field] = f"{row[field]}#{copy}"
                if row.get("published"):
                    moved = datetime.fromisoformat(row["published"]) + copy * span
                    row["published"] = moved.isoformat()
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
