"""Every benchmark in one run (about 4-5 minutes on 2 cores), printed as one
Markdown summary. Numbers only: nothing here asserts on wall-clock times.

    python -m bench.run_all [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

from bench import redis_memory, scheduler_burst, scheduler_pending
from bench.common import machine


async def run(quick: bool = False) -> str:
    began = time.perf_counter()
    burst_n, pending_n, memory_n = (2_000, 20_000, 2_000) if quick else (10_000, 100_000, 10_000)
    parts = [f"# BuyerBot benchmarks ({machine()})", ""]
    text, _ = await scheduler_burst.run(burst_n)
    parts += [text, ""]
    text, _ = await scheduler_pending.run(pending_n, spread=10.0 if quick else scheduler_pending.SPREAD)
    parts += [text, ""]
    text, _ = await redis_memory.run(memory_n)
    parts += [text, "", f"_Whole run: {time.perf_counter() - began:.0f} s._"]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    print(asyncio.run(run(args.quick)))


if __name__ == "__main__":
    main()
