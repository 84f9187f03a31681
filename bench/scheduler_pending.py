"""100,000 pending follow-ups spread over the next SPREAD seconds, on our
FollowUpScheduler with each store: start-up time to rebuild the jobs from the
store, process memory, firing lag (due -> `on_due` on the loop) for all of
them, and due -> handed to the sender for a sample of real conversations
(the others are bare timers: `on_due` only notes the time). A 5 ms ticker
measures the serving loop's stalls meanwhile.

    python -m bench.scheduler_pending [--n 100000] [--spread 30] [--sample 1000] [--backends sqlite,redis]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.common import (
    BenchRedis,
    StallMonitor,
    bench_policy,
    machine,
    ms,
    pct,
    rss_mb,
    seed_bare_timers,
    seed_orders,
    start_stack,
    table,
    utc,
)
from dialogs.model import Timer

N, SPREAD, SAMPLE = 100_000, 30.0, 1_000


@dataclass
class Pending:
    backend: str
    n: int
    spread: float
    startup_s: float
    rebuilt: int
    rss_before: float
    rss_after_start: float
    rss_end: float
    lags: list[float]
    handed: list[float]
    sample: int
    stall: StallMonitor
    overdue_at_start: int
    notes: list[str] = field(default_factory=list)


async def pending_run(backend: str, store_url: str, n: int, spread: float, sample: int) -> Pending:
    policy = bench_policy()
    sample = min(sample, n)
    began = time.time()
    # first due time: after seeding and start-up (measured up to ~130 µs a timer with 100k, plus the
    # sample orders, on 2 cores); timers due before start-up ends are left out of the lag figures
    start = float(int(began + 5.0 + n * 150e-6 + sample * 4e-3) + 1)
    step = spread / n
    every = max(1, n // sample) if sample else n + 1
    sample_ids: list[str] = []
    sample_due: list[datetime] = []
    bare: list[Timer] = []
    for i in range(n):
        due = utc(start + i * step)
        if i % every == 0 and len(sample_ids) < sample:
            sample_ids.append(f"ord-{i:06d}")
            sample_due.append(due)
        else:
            bare.append(Timer(f"bare-{i:06d}", "nudge", due))
    await seed_orders(store_url, policy, sample_ids, sample_due)
    await seed_bare_timers(store_url, bare)
    seeded = time.time() - began
    gc.collect()
    rss_before = rss_mb()
    stack = await start_stack(store_url, policy, forward=set(sample_ids))
    rss_after_start = rss_mb()
    monitor = StallMonitor()
    monitor.start()
    started_at = time.time()
    due_of = {t.conversation_id: t.due_at.timestamp() for t in bare}
    due_of.update({c: d.timestamp() for c, d in zip(sample_ids, sample_due, strict=True)})
    overdue = sum(1 for d in due_of.values() if d < started_at)
    last = start + spread
    while time.time() < last + 1.0 or (len(stack.on_due_at) < n and time.time() < last + 30):
        await asyncio.sleep(0.1)
    while len(stack.sender.enqueued_at) < len(sample_ids) and time.time() < last + 30:
        await asyncio.sleep(0.05)
    await monitor.stop()
    rss_end = rss_mb()
    lags = [at - due_of[c] for c, at in stack.on_due_at.items() if due_of[c] >= started_at]
    handed = [at - due_of[c] for c, at in stack.sender.enqueued_at.items() if due_of[c] >= started_at]
    result = Pending(
        backend,
        n,
        spread,
        stack.startup_s,
        stack.rebuilt,
        rss_before,
        rss_after_start,
        rss_end,
        lags,
        handed,
        len(sample_ids),
        monitor,
        overdue,
    )
    result.notes.append(
        f"seeding took {seeded:.1f} s; {overdue:,} timers were already due at start-up (left out of the lag figures)"
    )
    if len(stack.on_due_at) < n:
        result.notes.append(f"{n - len(stack.on_due_at):,} timers had not fired 30 s after the last due time")
    await stack.close()
    return result


def report(results: Sequence[Pending]) -> str:
    rows = []
    for r in results:
        met = pct(r.lags, 99) < 1.0
        rows.append(
            [
                r.backend,
                f"{r.rebuilt:,}",
                ms(r.startup_s),
                f"{r.rss_after_start - r.rss_before:,.0f} MiB",
                f"{r.rss_end:,.0f} MiB",
                f"{len(r.lags):,}",
                ms(pct(r.lags, 50)),
                ms(pct(r.lags, 99)),
                ms(max(r.lags, default=float("nan"))),
                f"{len(r.handed):,}/{r.sample:,}",
                ms(pct(r.handed, 50)),
                ms(pct(r.handed, 99)),
                ms(r.stall.max),
                ms(r.stall.p(99)),
                "met" if met else "NOT met",
            ]
        )
    head = results[0]
    out = [
        f"### Pending: {head.n:,} follow-ups due over {head.spread:.0f} s ({machine()})",
        "",
        table(
            [
                "store",
                "jobs rebuilt",
                "start-up",
                "RSS for the jobs",
                "RSS at end",
                "fired",
                "due→on_due p50",
                "p99",
                "max",
                "sample handed",
                "due→sender p50",
                "p99",
                "loop stall max",
                "stall p99",
                "target p99 < 1 s",
            ],
            rows,
        ),
    ]
    notes = [f"- {r.backend}: {note}" for r in results for note in r.notes]
    return "\n".join([*out, "", *notes])


async def run(
    n: int = N, spread: float = SPREAD, sample: int = SAMPLE, backends: Sequence[str] = ("sqlite", "redis")
) -> tuple[str, list[Pending]]:
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="buyerbot-bench-"))
    results = []
    try:
        if "sqlite" in backends:
            results.append(await pending_run("SqliteStore", f"sqlite:///{tmp / 'pending.db'}", n, spread, sample))
        if "redis" in backends:
            with BenchRedis() as server:
                results.append(await pending_run("RedisStore", server.url, n, spread, sample))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report(results), results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--spread", type=float, default=SPREAD, help="seconds over which they come due")
    parser.add_argument("--sample", type=int, default=SAMPLE, help="real conversations among them")
    parser.add_argument("--backends", default="sqlite,redis")
    args = parser.parse_args(argv)
    text, _ = asyncio.run(run(args.n, args.spread, args.sample, args.backends.split(",")))
    print(text)


if __name__ == "__main__":
    main()
