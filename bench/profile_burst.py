"""Profiling aid for the follow-up burst (not a benchmark of record): seeds N
orders on SQLite (or Redis), starts the stack as `bench.scheduler_burst` does,
and profiles only the burst window (cProfile of the loop thread; it prints
the timeline of the prepared writes and Redis's CPU and bytes), or waits
for an external sampler (`--wait-for-spy`: prints the pid, e.g. for
`py-spy record --pid PID --duration 10`).

    python -m bench.profile_burst [--n 10000] [--lead S] [--store sqlite|redis] [--no-sender] [--cprofile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    BenchRedis,
    StallMonitor,
    bench_policy,
    ms,
    pct,
    seed_orders,
    start_stack,
    wait_until,
    whole_second_after,
)
from bot.runtime import PREPARE_AHEAD


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) per live thread of this process, by name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[names.get(int(task.name), name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def timed_writes(store: Any) -> list[tuple[float, float, int]]:
    """Records each `commit_prepared` call on `store`: (began, ended, commits)."""
    writes: list[tuple[float, float, int]] = []
    write = store.commit_prepared

    async def timed(prepared: Sequence[object]) -> list[bool]:
        began = time.time()
        written: list[bool] = await write(prepared)
        writes.append((began, time.time(), len(prepared)))
        return written

    store.commit_prepared = timed
    return writes


async def redis_cpu(store_url: str) -> float | None:
    """CPU seconds the redis-server has used (user + system), None for SQLite."""
    if not store_url.startswith("redis"):
        return None
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(store_url.split("?")[0])
    try:
        info = await client.info("cpu")
        persistence = await client.info("persistence")
        traffic = await client.info("stats")
        got, sent = traffic["total_net_input_bytes"], traffic["total_net_output_bytes"]
        print(f"redis bytes so far: {got:,} in, {sent:,} out")
        rewrites, saves = persistence.get("aof_rewrites"), persistence.get("rdb_saves")
        print(f"redis AOF rewrites so far: {rewrites}, RDB saves: {saves}")
        stats = await client.info("commandstats")
        top = sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:6]
        busiest = ", ".join(f"{k} {v['calls']}x{v['usec_per_call']:.1f}" for k, v in top)
        print(f"redis commandstats (calls x usec each, so far): {busiest}")
    finally:
        await client.aclose()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def burst(store_url: str, n: int, *, sender: bool, profile: str | None, lead: float) -> None:
    policy = bench_policy()
    ids = [f"ord-{i:06d}" for i in range(n)]
    began = time.perf_counter()
    # due after seeding (~0.5 ms each, x2) and `lead` seconds more: long enough
    # for the follow-ups to be prepared ahead, as in production
    due = whole_second_after(n * 0.001 + lead)
    await seed_orders(store_url, policy, ids, [due] * n)
    seeded = time.perf_counter() - began
    stack = await start_stack(store_url, policy)
    if not sender:

        async def no_send(messages: Any) -> None:
            now = time.time()
            for message in messages:
                stack.sender.enqueued_at.setdefault(message.conversation_id, now)

        stack.sender.enqueue = no_send  # type: ignore[method-assign]
    print(
        f"seeded {n:,} in {seeded:.1f} s; pid {os.getpid()}; due in {due.timestamp() - time.time():.1f} s", flush=True
    )
    monitor = StallMonitor()
    monitor.start()
    due_ts = due.timestamp()
    writes = timed_writes(stack.store)
    await wait_until(due_ts - 0.5)
    monitor.reset()
    cpu_before = thread_cpu()
    redis_before = await redis_cpu(store_url)
    prof = cProfile.Profile() if profile else None
    if prof is not None:
        prof.enable()
    deadline = due_ts + 120
    done = stack.channel.sent_at if sender else stack.sender.enqueued_at
    while len(done) < n and time.time() < deadline:
        await asyncio.sleep(0.02)
    end = time.time()
    if prof is not None:
        prof.disable()
    await monitor.stop()
    cpu_after = thread_cpu()
    redis_after = await redis_cpu(store_url)
    if redis_after is not None and redis_before is not None:
        print(f"redis-server CPU s in the window: {redis_after - redis_before:.2f}")
    print(
        "CPU s per thread in the window: "
        + ", ".join(
            f"{k} {v - cpu_before.get(k, 0):.2f}" for k, v in cpu_after.items() if v - cpu_before.get(k, 0) > 0.005
        )
    )
    handed = [t - due_ts for t in stack.sender.enqueued_at.values()]
    for began, ended, count in writes:
        print(f"prepared write of {count:,}: {began - due_ts:+.3f} s .. {ended - due_ts:+.3f} s from the due time")
    fired = [t - due_ts for t in stack.on_due_at.values()]
    sent = [t - due_ts for t in stack.channel.sent_at.values()]
    print(
        f"fired max {ms(max(fired, default=0))}; handed p50 {ms(pct(handed, 50))} max {ms(max(handed, default=0))} "
        f"({len(handed):,}, {sum(h <= 1 for h in handed):,} within 1 s, "
        f"{len(handed) / max(handed, default=1):,.0f}/s); "
        f"sent max {ms(max(sent, default=0))}; window {end - due_ts:.2f} s; "
        f"stall max {ms(monitor.max)} p99 {ms(monitor.p(99))}; GC max {ms(monitor.gc_max)} "
        f"({len(monitor.gc_pauses)} passes)",
        flush=True,
    )
    await stack.close()
    if prof is not None and profile:
        prof.dump_stats(profile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


async def main_async(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="buyerbot-prof-"))
    server = BenchRedis() if args.store == "redis" else None
    try:
        if server is not None:
            server.start()
            url = f"{server.url}?prefix=bb:"
        else:
            url = f"sqlite:///{tmp / 'ours.db'}"
        await burst(url, args.n, sender=not args.no_sender, profile=args.cprofile, lead=args.lead)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--no-sender", action="store_true", help="enqueue only notes the time")
    parser.add_argument("--cprofile", default=None, help="write the burst window's cProfile stats here")
    parser.add_argument("--switch", type=float, default=None, help="sys.setswitchinterval for the run")
    parser.add_argument(
        "--lead",
        type=float,
        default=PREPARE_AHEAD.total_seconds() + 3,
        help="seconds from seeding to the due time (at least the preparation ahead)",
    )
    args = parser.parse_args(argv)
    if args.switch is not None:
        sys.setswitchinterval(args.switch)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
