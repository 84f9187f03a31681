"""(a) Updates handled per second, end to end, through the fake Bot API:

- echo: a bare aiogram 3 echo bot (bench/telegram_echo_bot.py), the baseline;
- full (SQLite) and full (Redis): the real `buyerbot run` process (long polling,
  intake, store, engine, sender), on SQLite and on a redis-server.

Each variant polls its own instance of the same in-process fake server, with the
fake's rate limits OFF and the bot's [limits.telegram] raised to 100,000/s, so
this measures processing, not pacing. `--buyers` orders are placed and bound to
as many chats first (off the clock); then `--n` "thanks" messages are injected
at once, round-robin over the chats, and the figure is n / (last reply recorded
by the fake - first injection). Each reply is checked ("You're welcome" once per
message; the echo bot echoes). Rounds alternate the variants; the ratio is the
median over rounds of full/echo within the same round.

    python -m bench.telegram_throughput [--n 3000] [--buyers 300] [--rounds 3] [--no-redis]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.common import table
from bench.telegram_common import (
    THANKS,
    CpuTimes,
    machine,
    median,
    own_cpu,
    sent_count,
    sent_since,
    start_targets,
    wait_sent,
)
from tests.fakes.telegram_api import FakeTelegram


@dataclass
class Variant:
    name: str
    fake: FakeTelegram
    cpu: Callable[[], float]
    expect: str
    rates: list[float] = field(default_factory=list)
    cpu_per_update_ms: list[float] = field(default_factory=list)
    fake_cpu_share: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run_round(v: Variant, chats: list[int], n: int) -> None:
    start = sent_count(v.fake)
    cpu0, fake_cpu0 = v.cpu(), own_cpu()
    t0 = time.monotonic()
    for i in range(n):
        v.fake.user_sends(chats[i % len(chats)], THANKS)
    done = wait_sent(v.fake, start + n, timeout=max(60.0, n / 20))
    t_wait = time.monotonic()
    cpu1, fake_cpu1 = v.cpu(), own_cpu()
    time.sleep(0.5)  # late extra replies would show up here
    replies = sent_since(v.fake, start)
    if not done or len(replies) != n:
        v.problems.append(f"{len(replies)} replies for {n} messages")
    wrong = sum(1 for m in replies if v.expect not in (m.text or ""))
    if wrong:
        v.problems.append(f"{wrong} unexpected replies")
    if not replies:
        return
    elapsed = max(m.monotonic for m in replies[:n]) - t0
    v.rates.append(min(n, len(replies)) / elapsed)
    v.cpu_per_update_ms.append((cpu1 - cpu0) / n * 1000)
    v.fake_cpu_share.append((fake_cpu1 - fake_cpu0) / (t_wait - t0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="(a) Telegram updates per second, full bot vs bare aiogram echo")
    parser.add_argument("--n", type=int, default=3000, help="messages per round")
    parser.add_argument("--buyers", type=int, default=300, help="bound chats the messages are spread over")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-redis", dest="redis_off", action="store_true", help="skip the Redis-store row")
    args = parser.parse_args(argv)
    chats = list(range(100_001, 100_001 + args.buyers))

    with ExitStack() as stack:
        targets = start_targets(stack, chats, redis=not args.redis_off)
        variants = [Variant(t.name, t.fake, CpuTimes(t.pid).read, t.expect) for t in targets]
        for _ in range(args.rounds):
            for v in variants:
                run_round(v, chats, args.n)

    echo = variants[0]
    rows = []
    for v in variants:
        ratios = [r / e for r, e in zip(v.rates, echo.rates, strict=False)]
        rows.append(
            [
                v.name,
                " / ".join(f"{r:,.0f}" for r in v.rates),
                f"{median(v.rates):,.0f}",
                f"{median(ratios):.2f}x" if v is not echo else "1.00x",
                f"{median(v.cpu_per_update_ms):.2f} ms",
                f"{median(v.fake_cpu_share) * 100:.0f}%",
                "; ".join(v.problems) or "ok",
            ]
        )
    print(f"## (a) Telegram updates handled per second, {args.n} messages over {args.buyers} bound chats\n")
    print(
        table(
            [
                "bot",
                "updates/s per round",
                "median updates/s",
                "median ratio to echo",
                "bot CPU per update",
                "fake+driver CPU (of one core)",
                "replies",
            ],
            rows,
        )
    )
    print(f"\nrounds alternate echo, full SQLite, full Redis; fake rate limits off; bot limits 100,000/s; {machine()}")


if __name__ == "__main__":
    main()
