"""Telegram updates handled per second by 1 and by 2 `buyerbot run` processes
on one redis-server, each against the bare aiogram echo bot of the same run,
and what each handled update costs Redis.

Every variant polls its own instance of the fake Bot API (rate limits off,
the bot's limits raised): `--n` "thanks" messages at once, round-robin over
`--buyers` bound chats, and the figure is n / (last reply - first message).
With two processes on one Redis only the scheduler leader polls (Telegram
allows one getUpdates at a time); the other stands by, sweeps and renews its
presence. Redis's own counters, read around each round of the Redis
variants: commands processed and read events (each read event is one round
trip from a client: a command or a whole pipeline) per handled update, and
Redis's CPU per update. The ratio is the median over rounds of
variant/echo within the same round.

    python -m bench.telegram_processes [--n 2000] [--buyers 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.common import table
from bench.telegram_common import (
    ROOT,
    TG_TOKEN,
    WELCOME,
    bind_buyers,
    check_one_reply_each,
    echo_bot,
    fake_telegram,
    full_bot,
    machine,
    median,
    policy_text,
    redis_server,
    sent_count,
    sent_since,
    wait_sent,
)
from bench.telegram_common import THANKS as ECHOED
from tests.e2e.process import BotProcess
from tests.fakes.telegram_api import FakeTelegram


@dataclass
class Variant:
    name: str
    fake: FakeTelegram
    expect: str
    redis_url: str | None = None
    rates: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    trips: list[float] = field(default_factory=list)
    redis_cpu_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def redis_counters(url: str) -> tuple[int, int, float]:
    """(commands processed, read events, CPU seconds) of the server."""
    client = redis.Redis.from_url(url.split("?")[0])
    try:
        stats: Any = client.info("stats")
        cpu: Any = client.info("cpu")
    finally:
        client.close()
    return (
        int(stats["total_commands_processed"]),
        int(stats["total_reads_processed"]),
        float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
    )


def run_round(v: Variant, chats: list[int], n: int) -> None:
    start = sent_count(v.fake)
    before = redis_counters(v.redis_url) if v.redis_url else None
    t0 = time.monotonic()
    for i in range(n):
        v.fake.user_sends(chats[i % len(chats)], ECHOED)
    done = wait_sent(v.fake, start + n, timeout=max(60.0, n / 20))
    after = redis_counters(v.redis_url) if v.redis_url else None
    time.sleep(0.5)
    replies = sent_since(v.fake, start)
    if not done or len(replies) != n:
        v.problems.append(f"{len(replies)} replies for {n} messages")
    if sum(1 for m in replies if v.expect not in (m.text or "")):
        v.problems.append("unexpected replies")
    if not replies:
        return
    v.rates.append(min(n, len(replies)) / (max(m.monotonic for m in replies[:n]) - t0))
    if before and after:
        v.commands.append((after[0] - before[0]) / n)
        v.trips.append((after[1] - before[1]) / n)
        v.redis_cpu_ms.append((after[2] - before[2]) / n * 1000)


def second_process(stack: ExitStack, fake: FakeTelegram, url: str) -> BotProcess:
    """Another process on the same Redis and fake: a standby (it does not poll)."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tg2-")))
    bot = BotProcess(
        tmp, store_url=url, policy=policy_text(), BUYERBOT_TELEGRAM_TOKEN=TG_TOKEN,
        BUYERBOT_TELEGRAM_API_URL=fake.base_url, PYTHONPATH=str(ROOT),
    )  # fmt: skip
    bot.start(timeout=90)
    stack.callback(bot.stop)
    if bot.health()["scheduler"] != "standby":
        raise RuntimeError("the second process should stand by")
    return bot


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram updates/s with 1 and 2 processes on one Redis")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    chats = list(range(200_001, 200_001 + args.buyers))
    with ExitStack() as stack:
        echo_fake = stack.enter_context(fake_telegram(rate_limits=False))
        stack.enter_context(echo_bot(echo_fake))
        check_one_reply_each(echo_fake, chats, expect=ECHOED)
        variants = [Variant("echo (bare aiogram 3)", echo_fake, ECHOED)]
        server = stack.enter_context(redis_server())
        for count, prefix in ((1, "one:"), (2, "two:")):
            url = f"{server.url}?prefix={prefix}"
            fake = stack.enter_context(fake_telegram(rate_limits=False))
            first = stack.enter_context(full_bot(fake, policy_text(), store_url=url))
            if count == 2:
                second_process(stack, fake, url)
            bind_buyers(first, fake, chats)
            variants.append(Variant(f"{count} process{'es' if count > 1 else ''} on one Redis", fake, WELCOME, url))
        for _ in range(args.rounds):
            for v in variants:
                run_round(v, chats, args.n)
    echo = variants[0]
    rows = []
    for v in variants:
        ratios = [r / e for r, e in zip(v.rates, echo.rates, strict=False)]
        redis_cols = (
            [f"{median(v.commands):.1f}", f"{median(v.trips):.2f}", f"{median(v.redis_cpu_ms) * 1000:.0f} us"]
            if v.redis_url
            else ["", "", ""]
        )
        rows.append(
            [
                v.name,
                " / ".join(f"{r:,.0f}" for r in v.rates),
                f"{median(v.rates):,.0f}",
                f"{median(ratios):.2f}x" if v is not echo else "1.00x",
                *redis_cols,
                "; ".join(v.problems) or "ok",
            ]
        )
    print(f"## Telegram updates/s, 1 and 2 processes on one Redis ({args.n} messages over {args.buyers} chats)\n")
    print(
        table(
            [
                "bot",
                "updates/s per round",
                "median",
                "ratio to echo",
                "Redis commands / update",
                "round trips / update",
                "Redis CPU / update",
                "replies",
            ],
            rows,
        )
    )
    print(f"\nfake rate limits off; bot limits raised; Redis AOF everysec; {machine()}")


if __name__ == "__main__":
    main()
