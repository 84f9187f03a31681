"""RELIABILITY.md's table from the tallies `make faults` collected:
python -m tests.faults.report var/faults.jsonl"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = ["| fault | runs | inputs | lost | doubled |", "|---|---|---|---|---|"]
    for row in rows:
        doubled = str(row["doubled"])
        if row.get("in_flight_max"):
            doubled += f" (bound: ≤ {row['in_flight_max']} in flight per kill)"
        out.append(f"| {row['fault']} | {row['runs']} | {row['inputs']} | {row['lost']} | {doubled} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table(Path(sys.argv[1] if len(sys.argv) > 1 else "var/faults.jsonl")))
