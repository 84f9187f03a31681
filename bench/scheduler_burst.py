"""10,000 follow-ups due in the same second, side by side in one run:

1. baseline: bare APScheduler AsyncIOScheduler + MemoryJobStore, each job
   appending to a list;
2. reference: the same with SQLAlchemyJobStore (SQLite file) and RedisJobStore
   (their clients are synchronous and run on the loop), default 1 s grace;
3. our design on the SQLite and the Redis store: store + DialogEngine (unpaid
   dialog) + Runtime + FollowUpScheduler + Sender on a recording channel,
   10,000 orders (returning buyers, so the pending follow-up is the `nudge`).

For each: missed, due -> fired, due -> handed to the sender, and how late a
5 ms ticker on the serving loop woke up (the longest event-loop stall).

    python -m bench.scheduler_burst [--n 10000] [--only baseline,sqlalchemy,redisjobstore,ours-sqlite,ours-redis]
                                    [--sender-rate 30]   # our sender paced like Telegram (default: unpaced)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import datetime_to_utc_timestamp

from bench.common import (
    BenchRedis,
    StallMonitor,
    bench_policy,
    machine,
    ms,
    pct,
    ratio,
    seed_orders,
    start_stack,
    table,
    wait_until,
    whole_second_after,
)

N = 10_000
#: the target: every follow-up decided (handed to the sender) this soon after its due time
DECIDED_WITHIN = 5.0
#: set by record_fire (runs in the scheduler's executor threads)
FIRED: list[float] = []


def record_fire() -> None:
    """The baseline job: note when it ran."""
    FIRED.append(time.time())


@dataclass
class Result:
    name: str
    n: int
    fired: list[float]  # lag after the due time, s
    missed: int
    stall: StallMonitor
    handed: list[float] | None = None  # due -> handed to the sender, s
    sent: list[float] | None = None  # due -> the channel's send(), s
    notes: list[str] = field(default_factory=list)
    prepare_s: float = 0.0

    @property
    def spread(self) -> float:
        return max(self.fired, default=float("nan"))


# -- APScheduler's own AsyncIOScheduler ---------------------------------------
def _jobs(scheduler: AsyncIOScheduler, due: datetime, n: int) -> list[Job]:
    trigger = DateTrigger(run_date=due)
    return [
        Job(
            scheduler,
            id=f"job-{i}",
            func="bench.scheduler_burst:record_fire",
            trigger=trigger,
            executor="default",
            args=(),
            kwargs={},
            name="record_fire",
            misfire_grace_time=1,
            coalesce=False,
            max_instances=1,
            next_run_time=due,
        )
        for i in range(n)
    ]


def _bulk_sqlalchemy(store: Any, jobs: Sequence[Job]) -> None:
    rows = [
        {
            "id": j.id,
            "next_run_time": datetime_to_utc_timestamp(j.next_run_time),
            "job_state": pickle.dumps(j.__getstate__(), store.pickle_protocol),
        }
        for j in jobs
    ]
    with store.engine.begin() as conn:
        conn.execute(store.jobs_t.insert(), rows)


def _bulk_redis(store: Any, jobs: Sequence[Job]) -> None:
    with store.redis.pipeline() as pipe:
        for j in jobs:
            pipe.hset(store.jobs_key, j.id, pickle.dumps(j.__getstate__(), store.pickle_protocol))
            pipe.zadd(store.run_times_key, {j.id: datetime_to_utc_timestamp(j.next_run_time)})
        pipe.execute()


async def apscheduler_burst(
    name: str, make_store: Callable[[], BaseJobStore], bulk: Callable[[Any, Sequence[Job]], None] | None, n: int
) -> Result:
    """APScheduler as documented: AsyncIOScheduler, job defaults untouched
    (misfire_grace_time 1 s). Persistent stores are filled in one bulk write
    before start (adding 10,000 jobs one by one would take minutes)."""
    FIRED.clear()
    missed = 0

    def on_missed(event: JobExecutionEvent) -> None:
        nonlocal missed
        missed += 1

    store = make_store()
    scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    began = time.perf_counter()
    due = whole_second_after(2.0)
    if bulk is None:
        for i in range(n):
            scheduler.add_job(record_fire, DateTrigger(run_date=due), id=f"job-{i}")
    else:
        store.start(scheduler, "default")  # creates the table; start() does it again, idempotently
        bulk(store, _jobs(scheduler, due, n))
    monitor = StallMonitor()
    monitor.start()
    scheduler.start()
    prepare = time.perf_counter() - began
    due_ts = due.timestamp()
    await wait_until(due_ts - 0.5)
    monitor.reset()
    deadline = due_ts + 90
    while len(FIRED) + missed < n and time.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    await monitor.stop()
    scheduler.shutdown(wait=True)
    fired = [t - due_ts for t in FIRED]
    result = Result(name, n, fired, missed, monitor, prepare_s=prepare)
    if len(fired) + missed < n:
        result.notes.append(f"{n - len(fired) - missed} neither fired nor missed within 90 s")
    return result


async def reference_runs(n: int, only: set[str], redis_url_port: int | None, tmp: Path) -> list[Result]:
    from apscheduler.jobstores.redis import RedisJobStore

    results = []
    if "baseline" in only:
        results.append(
            await apscheduler_burst("APScheduler AsyncIO + MemoryJobStore (baseline)", MemoryJobStore, None, n)
        )
    if "sqlalchemy" in only:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # needs SQLAlchemy (bench only)

        url = f"sqlite:///{tmp / 'apscheduler.db'}"
        results.append(
            await apscheduler_burst(
                "APScheduler AsyncIO + SQLAlchemyJobStore (SQLite)",
                lambda: SQLAlchemyJobStore(url=url),
                _bulk_sqlalchemy,
                n,
            )
        )
    if "redisjobstore" in only and redis_url_port is not None:
        port = redis_url_port
        results.append(
            await apscheduler_burst(
                "APScheduler AsyncIO + RedisJobStore",
                lambda: RedisJobStore(host="127.0.0.1", port=port),
                _bulk_redis,
                n,
            )
        )
    return results


# -- our design -----------------------------------------------------------------
async def _calibrate(store_url: str, n: int) -> float:
    """Seconds per seeded conversation on this backend (256 thrown away)."""
    ids = [f"cal-{i}" for i in range(256)]
    due = whole_second_after(3600)
    began = time.perf_counter()
    await seed_orders(store_url, bench_policy(), ids, [due] * len(ids))
    return (time.perf_counter() - began) / len(ids)


async def ours_burst(name: str, store_url: str, calibrate_url: str, n: int, sender_rate: float | None = None) -> Result:
    policy = bench_policy()
    per_conversation = await _calibrate(calibrate_url, n)
    began = time.perf_counter()
    # due: after seeding (estimated x1.5) and the start-up; the leader reads
    # them from the store up to 10 s ahead (as in production)
    due = whole_second_after(per_conversation * n * 1.5 + 6.0)
    ids = [f"ord-{i:06d}" for i in range(n)]
    await seed_orders(store_url, policy, ids, [due] * n)
    seeded = time.perf_counter() - began
    stack = await start_stack(store_url, policy, sender_rate=sender_rate)
    missed = 0

    def on_missed(event: JobExecutionEvent) -> None:
        nonlocal missed
        missed += 1

    stack.scheduler.scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    monitor = StallMonitor()
    monitor.start()
    due_ts = due.timestamp()
    notes = [
        f"seeding {n:,} orders took {seeded:.1f} s; start-up read {stack.rebuilt:,} due soon in {ms(stack.startup_s)}"
    ]
    if time.time() > due_ts - 1:
        notes.append("WARNING: start-up finished less than 1 s before the due time")
    # the stalls of reading them from the store ahead count too
    await asyncio.sleep(0.2)
    monitor.reset()
    deadline = due_ts + 120
    while len(stack.channel.sent_at) < n and time.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    await monitor.stop()
    fired = [t - due_ts for t in stack.on_due_at.values()]
    handed = [t - due_ts for t in stack.sender.enqueued_at.values()]
    sent = [t - due_ts for t in stack.channel.sent_at.values()]
    wrong = [m for m in stack.channel.sent_at if not m.startswith("timer:ord-")]
    if wrong:
        notes.append(f"{len(wrong)} unexpected messages sent, e.g. {wrong[:2]}")
    not_handed = n - len(handed)
    notes.append(f"longest loop stall ended {monitor.worst_at() - due_ts:+.2f} s from the due time")
    if sender_rate and len(sent) > 1:
        span = max(sent) - min(sent)
        rate = (len(sent) - 1) / span if span > 0 else float("inf")
        notes.append(f"sender: {rate:,.0f} messages/s = {rate / sender_rate:.2f}x its limit of {sender_rate:,.0f}/s")
    await stack.close()
    result = Result(name, n, fired, missed + not_handed, monitor, handed, sent, notes, prepare_s=seeded)
    if not_handed:
        result.notes.append(f"{not_handed} follow-ups were never handed to the sender")
    return result


# -- report -----------------------------------------------------------------
def report(results: Sequence[Result]) -> str:
    base = next((r for r in results if "baseline" in r.name), None)
    rows = []
    for r in results:
        rows.append(
            [
                r.name,
                f"{len(r.fired):,}",
                f"{r.missed:,}",
                ms(pct(r.fired, 50)),
                ms(pct(r.fired, 99)),
                ms(r.spread),
                ms(r.stall.max),
                ms(r.stall.p(99)),
                ms(r.stall.gc_max),
                ratio(r.spread, base.spread) if base else "n/a",
                ratio(r.stall.max, base.stall.max) if base else "n/a",
            ]
        )
    out = [
        f"### Burst: {results[0].n:,} follow-ups due in the same second ({machine()})",
        "",
        table(
            [
                "setup",
                "fired",
                "missed",
                "due→fired p50",
                "p99",
                "max (spread)",
                "loop stall max",
                "stall p99",
                "longest GC pass",
                "spread vs baseline",
                "stall vs baseline",
            ],
            rows,
        ),
    ]
    ours = [r for r in results if r.handed is not None]
    if ours:
        rows = []
        for r in ours:
            handed, sent = r.handed or [], r.sent or []
            within = sum(1 for h in handed if h <= DECIDED_WITHIN)
            met = r.missed == 0 and within == r.n and r.stall.max <= 0.050
            rows.append(
                [
                    r.name,
                    f"{r.missed:,}",
                    ms(pct(handed, 50)),
                    ms(pct(handed, 99)),
                    ms(max(handed, default=0)),
                    f"{within:,}/{r.n:,}",
                    ms(pct(sent, 50)),
                    ms(max(sent, default=0)),
                    ms(r.stall.max),
                    "met" if met else "NOT met",
                ]
            )
        out += [
            "",
            "Our design, due → handed to the sender (`Sender.enqueue`) and → the channel's `send()`; "
            f"targets: 0 missed, all decided and handed within {DECIDED_WITHIN:.0f} s, stall ≤ 50 ms.",
            "",
            table(
                [
                    "setup",
                    "missed",
                    "handed p50",
                    "handed p99",
                    "handed max",
                    f"handed ≤ {DECIDED_WITHIN:.0f} s",
                    "sent p50",
                    "sent max",
                    "loop stall max",
                    "targets",
                ],
                rows,
            ),
        ]
    notes = [f"- {r.name}: {note}" for r in results for note in r.notes]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


async def run(n: int = N, only: set[str] | None = None, sender_rate: float | None = None) -> tuple[str, list[Result]]:
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # 10,000 "missed" warnings otherwise
    only = only or {"baseline", "sqlalchemy", "redisjobstore", "ours-sqlite", "ours-redis"}
    tmp = Path(tempfile.mkdtemp(prefix="buyerbot-bench-"))
    server = BenchRedis()
    server.start()
    try:
        results = await reference_runs(n, only, server.port, tmp)
        if "ours-sqlite" in only:
            results.append(
                await ours_burst(
                    "ours: FollowUpScheduler + SqliteStore",
                    f"sqlite:///{tmp / 'ours.db'}",
                    f"sqlite:///{tmp / 'cal.db'}",
                    n,
                    sender_rate,
                )
            )
        if "ours-redis" in only:
            results.append(
                await ours_burst(
                    "ours: FollowUpScheduler + RedisStore",
                    f"{server.url}?prefix=bb:",
                    f"{server.url}?prefix=cal:",
                    n,
                    sender_rate,
                )
            )
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return report(results), results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--only", default="", help="comma-separated subset of the setups")
    parser.add_argument(
        "--sender-rate", type=float, default=None, help="our sender's limit, messages/s (default: none; Telegram: 30)"
    )
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    text, _ = asyncio.run(run(args.n, only, args.sender_rate))
    print(text)


if __name__ == "__main__":
    main()
