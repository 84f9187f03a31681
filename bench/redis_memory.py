"""Redis bytes per conversation with its order and one pending follow-up:
our RedisStore (10,000 orders placed through the engine: conversation,
order, dedupe and timer fields, timer index, link token, channel binding,
transcript entry) next to aiogram's RedisStorage (state + data holding the
same order) plus APScheduler's RedisJobStore (one pending job), the ~1.1 KB
reference. INFO used_memory delta over N, and MEMORY USAGE per key type.

    python -m bench.redis_memory [--n 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import redis
import redis.asyncio as aioredis

from bench.common import BenchRedis, bench_policy, machine, order_placed, ratio, seed_orders, table, utc
from tests.redis_server import RedisServer

N = 10_000
TARGET = 2048


@dataclass
class Footprint:
    name: str
    n: int
    used_delta: int
    #: key pattern -> (keys, mean MEMORY USAGE bytes, keys of that kind per conversation)
    keys: dict[str, tuple[int, float, float]] = field(default_factory=dict)

    @property
    def per_conversation(self) -> float:
        return self.used_delta / self.n


def _used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def _kind(key: str) -> str:
    head, sep, _ = key.partition(":")
    if head in ("bb", "fsm"):
        second, _, _ = key[len(head) + 1 :].partition(":")
        return f"{head}:{second}:*" if sep and ":" in key[len(head) + 1 :] else key
    return key


def _breakdown(client: redis.Redis, n: int, sample: int = 200) -> dict[str, tuple[int, float, float]]:
    groups: dict[str, list[str]] = {}
    for key in client.scan_iter(count=1000):
        name = key.decode()
        kind = "fsm:<bot>:<chat>:<user>:" + name.rsplit(":", 1)[1] if name.startswith("fsm:") else _kind(name)
        groups.setdefault(kind, []).append(name)
    found = {}
    for kind, names in sorted(groups.items()):
        picked = names[:: max(1, len(names) // sample)][:sample]
        sizes = [int(client.memory_usage(k, samples=0) or 0) for k in picked]
        found[kind] = (len(names), sum(sizes) / len(sizes), len(names) / n)
    return found


async def ours(server: RedisServer, n: int) -> Footprint:
    sync = redis.Redis(host="127.0.0.1", port=server.port)
    sync.flushall()
    before = _used(sync)
    ids = [f"{1_000_000_000_000 + i}" for i in range(n)]  # marketplace-like order ids
    policy = bench_policy()
    # placed an hour ago (an order placed in the future is planned from now)
    due = utc(time.time() - 3_600) + policy.unpaid.nudge_after
    await seed_orders(server.url, policy, ids, [due] * n)
    delta = _used(sync) - before
    result = Footprint("ours: RedisStore", n, delta, _breakdown(sync, n))
    sync.close()
    return result


def _remind(chat_id: int, order_id: str) -> None:
    """The job function of the reference (never runs)."""


async def reference(server: RedisServer, n: int) -> Footprint:
    from aiogram.fsm.storage.base import StorageKey
    from aiogram.fsm.storage.redis import RedisStorage
    from apscheduler.job import Job
    from apscheduler.jobstores.redis import RedisJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.util import datetime_to_utc_timestamp

    from dialogs.orders import apply_event, new_order

    sync = redis.Redis(host="127.0.0.1", port=server.port)
    sync.flushall()
    before = _used(sync)
    storage = RedisStorage(aioredis.Redis(host="127.0.0.1", port=server.port))
    scheduler = BackgroundScheduler(timezone="UTC")
    jobstore = RedisJobStore(host="127.0.0.1", port=server.port)
    due = utc(time.time() + 86_400)
    for start in range(0, n, 50):  # the same order record as ours, folded the same way
        pipe = jobstore.redis.pipeline()
        writes = []
        for i in range(start, min(start + 50, n)):
            order_id, chat_id = f"{1_000_000_000_000 + i}", 10_000_000 + i
            inbound = order_placed(order_id, i, due - timedelta(hours=12))
            order = apply_event(new_order(order_id), "order.placed", inbound.payload["data"], inbound.received_at)
            key = StorageKey(bot_id=7_000_000_001, chat_id=chat_id, user_id=chat_id)
            writes.append(storage.set_state(key, "UnpaidJourney:placed"))
            writes.append(storage.set_data(key, {"order": order.to_dict(), "step": 1, "language": "en"}))
            job = Job(
                scheduler,
                id=f"{order_id}:nudge",
                func=_remind,
                trigger=DateTrigger(run_date=due),
                executor="default",
                args=(chat_id, order_id),
                kwargs={},
                name="nudge",
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
                next_run_time=due,
            )
            pipe.hset(jobstore.jobs_key, job.id, pickle.dumps(job.__getstate__(), jobstore.pickle_protocol))
            pipe.zadd(jobstore.run_times_key, {job.id: datetime_to_utc_timestamp(due)})
        await asyncio.gather(*writes)
        pipe.execute()
    await storage.close()
    jobstore.redis.close()
    delta = _used(sync) - before
    result = Footprint("aiogram RedisStorage + APScheduler RedisJobStore", n, delta, _breakdown(sync, n))
    sync.close()
    return result


def report(results: Sequence[Footprint]) -> str:
    ref = next((r for r in results if "aiogram" in r.name), None)
    rows = [
        [
            r.name,
            f"{r.n:,}",
            f"{r.used_delta / 1024 / 1024:,.1f} MiB",
            f"{r.per_conversation:,.0f} B",
            ratio(r.per_conversation, ref.per_conversation) if ref else "n/a",
            "met" if r.per_conversation <= TARGET else "NOT met",
        ]
        for r in results
    ]
    out = [
        f"### Redis memory per conversation with its order and one pending follow-up ({machine()})",
        "",
        table(
            ["layout", "conversations", "used_memory delta", "per conversation", "vs reference", "target ≤ 2 KB"], rows
        ),
        "",
        "MEMORY USAGE by key kind (mean of up to 200 keys; shared hashes/zsets counted whole):",
        "",
    ]
    rows = []
    for r in results:
        for kind, (count, mean, _per) in r.keys.items():
            rows.append([r.name, f"`{kind}`", f"{count:,}", f"{mean:,.0f} B", f"{mean * count / r.n:,.0f} B"])
    out.append(table(["layout", "key", "keys", "mean MEMORY USAGE", "bytes per conversation"], rows))
    return "\n".join(out)


async def run(n: int = N) -> tuple[str, list[Footprint]]:
    with BenchRedis() as server:
        results = [await ours(server, n), await reference(server, n)]
    return report(results), results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=N)
    args = parser.parse_args(argv)
    text, _ = asyncio.run(run(args.n))
    print(text)


if __name__ == "__main__":
    main()
