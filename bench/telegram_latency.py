"""(c) Buyer message -> bot reply latency at a steady 200 updates/s.

`--buyers` chats are bound first (off the clock). Then "thanks" messages are
injected into the in-process fake Bot API at `--rate` per second for
`--seconds`, round-robin over the chats (one message per chat every
buyers/rate seconds: the per-chat limit is never the bottleneck; fake rate
limits off and the bot's [limits.telegram] at 100,000/s as in (a)). Latency =
the fake's `SentMessage.monotonic` of the reply - the monotonic time just before
the injection (same process, same clock), matched per chat in order. The bare
aiogram echo bot runs the same load first, as the reference.

    python -m bench.telegram_latency [--rate 200] [--seconds 15] [--buyers 600] [--no-redis] [--no-echo]
"""

from __future__ import annotations

import argparse
import collections
import time
from contextlib import ExitStack

from bench.common import pct, table
from bench.telegram_common import (
    THANKS,
    CpuTimes,
    Target,
    machine,
    sent_count,
    sent_since,
    start_targets,
    wait_sent,
)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def run(t: Target, chats: list[int], rate: float, seconds: float) -> list[object]:
    n = int(rate * seconds)
    start = sent_count(t.fake)
    polls0 = t.fake.requests_by_method.get("getUpdates", 0)
    cpu = CpuTimes(t.pid)
    cpu0 = cpu.read()
    injected: dict[int, list[float]] = collections.defaultdict(list)
    late = 0.0
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        else:
            late = max(late, now - due)
        chat = chats[i % len(chats)]
        injected[chat].append(time.monotonic())
        t.fake.user_sends(chat, THANKS)
    offered = n / (time.monotonic() - t0)
    done = wait_sent(t.fake, start + n, 60)
    cpu1 = cpu.read()
    time.sleep(0.5)
    replies = sent_since(t.fake, start)
    by_chat: dict[int, list[float]] = collections.defaultdict(list)
    wrong = 0
    for m in replies:
        by_chat[m.chat_id].append(m.monotonic)
        wrong += t.expect not in (m.text or "")
    latencies = [r - s for chat, sent in injected.items() for s, r in zip(sent, by_chat[chat], strict=False)]
    problems = []
    if not done or len(replies) != n:
        problems.append(f"{len(replies)} replies for {n} messages")
    if wrong:
        problems.append(f"{wrong} unexpected replies")
    polls = t.fake.requests_by_method.get("getUpdates", 0) - polls0
    return [
        t.name,
        f"{n:,} at {offered:,.0f}/s",
        fmt_ms(pct(latencies, 50)),
        fmt_ms(pct(latencies, 95)),
        fmt_ms(pct(latencies, 99)),
        fmt_ms(max(latencies, default=float("nan"))),
        f"{polls:,} ({n / max(1, polls):.1f} updates each)",
        f"{(cpu1 - cpu0) / (time.monotonic() - t0 - 0.5) * 100:.0f}%",
        "; ".join(problems) or "ok",
        f"{late * 1000:.1f} ms",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="(c) Telegram buyer message -> reply latency at a steady rate")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--buyers", type=int, default=600)
    parser.add_argument("--no-redis", dest="redis_off", action="store_true", help="skip the Redis-store row")
    parser.add_argument("--no-echo", dest="echo_off", action="store_true", help="skip the echo-bot reference")
    args = parser.parse_args(argv)
    chats = list(range(200_001, 200_001 + args.buyers))
    with ExitStack() as stack:
        targets = start_targets(stack, chats, redis=not args.redis_off, echo=not args.echo_off)
        rows = [run(t, chats, args.rate, args.seconds) for t in targets]
    print(f"## (c) Telegram message -> reply latency at {args.rate:,.0f} updates/s over {args.buyers} bound chats\n")
    headers = ["bot", "messages", "p50", "p95", "p99", "max", "getUpdates calls", "bot CPU", "replies"]
    print(table(headers, [r[:-1] for r in rows]))
    lateness = ", ".join(f"{r[0]}: {r[-1]}" for r in rows)
    print(f"\nfake rate limits off; bot limits 100,000/s; injector lateness (max) {lateness}; {machine()}")


if __name__ == "__main__":
    main()
