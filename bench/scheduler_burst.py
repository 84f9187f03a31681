"""10,000 follow-ups due in the same second, side by side in one run:

1. baseline: bare APScheduler AsyncIOScheduler + MemoryJobStore, each job
   appending to a list;
2. reference: the same with SQLAlchemyJobStore (SQLite file) and RedisJobStore
   (their clients are synchronous and run on the loop), default 1 s grace;
3. our design on the SQLite and the Redis store: store + DialogEngine (unpaid
   dialog) + Runtime + FollowUpScheduler + Sender on a recording channel,
   10,000 orders (returning buyers, so the pending follow-up is the `nudge`).

For each: missed, due -> fired, due -> handed to the sender (decided), and how
late a 5 ms ticker on the serving loop woke up (the longest event-loop stall).

    python -m bench.scheduler_burst [--n 10000] [--only baseline,sqlalchemy,redisjobstore,ours-sqlite,ours-redis]
                                    [--sender-rate 30,80,1000]  # one run per sender limit (default: unpaced)

With a rate limit, the run of our design ends once every follow-up is decided
and reports the sender's pace in that window (`bench.sender_pace`): 30/s and
80/s are the policy's Telegram and WhatsApp limits, 1,000/s a stress figure
(far above what any platform allows) that shows what deciding the burst costs
the sender.
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

from bench.burst_ours import Result, ours_burst, ours_report
from bench.common import BenchRedis, StallMonitor, machine, ms, pct, ratio, table, wait_until, whole_second_after

N = 10_000
#: set by record_fire (runs in the scheduler's executor threads)
FIRED: list[float] = []


def record_fire() -> None:
    """The baseline job: note when it ran."""
    FIRED.append(time.time())


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
        out += ours_report(ours)
    notes = [f"- {r.name}: {note}" for r in results for note in r.notes]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


#: what a rate is called in the report (the policy's limits, and a stress figure)
RATE_NAMES = {30.0: "Telegram's 30/s", 80.0: "WhatsApp's 80/s", 1000.0: "1,000/s, stress only"}


def _paced(rate: float | None) -> str:
    if rate is None:
        return "sender unpaced"
    return f"sender at {RATE_NAMES.get(rate, f'{rate:,.0f}/s')}"


async def run(
    n: int = N, only: set[str] | None = None, sender_rates: Sequence[float | None] = (None,)
) -> tuple[str, list[Result]]:
    """`sender_rates`: our setups run once per rate limit of the sender (None: unpaced)."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # 10,000 "missed" warnings otherwise
    only = only or {"baseline", "sqlalchemy", "redisjobstore", "ours-sqlite", "ours-redis"}
    tmp = Path(tempfile.mkdtemp(prefix="buyerbot-bench-"))
    server = BenchRedis()
    server.start()
    try:
        results = await reference_runs(n, only, server.port, tmp)
        for i, rate in enumerate(sender_rates):
            if "ours-sqlite" in only:
                results.append(
                    await ours_burst(
                        f"ours, SQLite, {_paced(rate)}",
                        f"sqlite:///{tmp / f'ours{i}.db'}",
                        f"sqlite:///{tmp / f'cal{i}.db'}",
                        n,
                        rate,
                    )
                )
            if "ours-redis" in only:
                results.append(
                    await ours_burst(
                        f"ours, Redis, {_paced(rate)}",
                        f"{server.url}?prefix=bb{i}:",
                        f"{server.url}?prefix=cal{i}:",
                        n,
                        rate,
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
        "--sender-rate",
        default="",
        help="our sender's limits, messages/s, comma-separated: one run each (default: unpaced; e.g. 30,80,1000)",
    )
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    rates: list[float | None] = [float(r) for r in args.sender_rate.split(",") if r.strip()]
    text, _ = asyncio.run(run(args.n, only, rates or [None]))
    print(text)


if __name__ == "__main__":
    main()
