"""Telegram updates handled per second by 1 and by 2 `buyerbot run` processes
on one redis-server, each against the bare aiogram echo bot of the same run,
and what each handled update costs Redis.

Every variant has its own instance of the fake Bot API (rate limits off, the
bot's limits raised): `--n` "thanks" messages at once, round-robin over
`--buyers` bound chats, and the figure is n / (last reply - first message).

- `--mode polling` (the default): with two processes on one Redis only the
  scheduler leader polls (Telegram allows one getUpdates at a time); the
  other stands by, sweeps and renews its presence.
- `--mode webhook`: the fake delivers by webhook with Telegram's default
  concurrency (max_connections 40 POSTs at once, for the bot as a whole), and
  with two processes it spreads the POSTs round-robin over both processes'
  webhook URLs, as a load balancer would. The echo bot is aiogram's own
  webhook handler (it answers 200 before handling; BuyerBot answers once the
  update is accepted in the store).

Every chat must get exactly as many replies as it sent messages (0 lost, 0
doubled, counted at the fake). Redis's own counters, read around each round
of the Redis variants: commands processed and read events (each read event
is one round trip from a client: a command or a whole pipeline) per handled
update, and Redis's CPU per update. The bot's CPU per handled update (its
processes together), and the cores busy during the round (from /proc) of
each bot process, Redis, this process (the fake and the driver) and the
whole machine (/proc/stat: the others' work on a shared machine shows). The
ratio is the median over rounds of variant/echo within the same round.

    python -m bench.telegram_processes [--mode polling|webhook] [--n 2000] [--buyers 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.common import table
from bench.telegram_common import THANKS as ECHOED
from bench.telegram_common import (
    WELCOME,
    CpuTimes,
    bind_buyers,
    check_one_reply_each,
    echo_bot,
    fake_telegram,
    full_bot,
    machine,
    median,
    own_cpu,
    policy_text,
    redis_server,
    sent_count,
    sent_since,
    wait_sent,
)
from tests.fakes.telegram_api import FakeTelegram

#: Telegram's default max_connections for a webhook
MAX_CONNECTIONS = 40


@dataclass
class Variant:
    name: str
    fake: FakeTelegram
    expect: str
    #: the bot's processes, then Redis's (if any)
    pids: list[int]
    redis_url: str | None = None
    rates: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    trips: list[float] = field(default_factory=list)
    redis_cpu_ms: list[float] = field(default_factory=list)
    #: per round: cores busy of each pid, then of this process (the fake), then of the machine
    cores: list[list[float]] = field(default_factory=list)
    #: per round: CPU of the bot's processes together per handled update
    bot_cpu_ms: list[float] = field(default_factory=list)
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


def machine_cpu() -> float:
    """CPU seconds all processes of the machine have used (/proc/stat): what else runs shows."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> list[float]:
    """Each pid's, this process's (the fake), the whole machine's."""
    return [CpuTimes(pid).read() for pid in pids] + [own_cpu(), machine_cpu()]


def check_replies(v: Variant, sent_to: list[int], start: int) -> None:
    """Each chat got exactly as many replies as it sent messages."""
    got = Counter(m.chat_id for m in sent_since(v.fake, start))
    wanted = Counter(sent_to)
    lost = sum((wanted - got).values())
    doubled = sum((got - wanted).values())
    if lost or doubled:
        v.problems.append(f"{lost} lost, {doubled} doubled of {len(sent_to)}")
    if any(v.expect not in (m.text or "") for m in sent_since(v.fake, start)):
        v.problems.append("unexpected replies")


def run_round(v: Variant, chats: list[int], n: int) -> None:
    start, attempts = sent_count(v.fake), len(v.fake.webhook_attempts)
    before = redis_counters(v.redis_url) if v.redis_url else None
    cpu_before = cpu_seconds(v.pids)
    t0 = time.monotonic()
    sent_to = [chats[i % len(chats)] for i in range(n)]
    for chat in sent_to:
        v.fake.user_sends(chat, ECHOED)
    wait_sent(v.fake, start + n, timeout=max(60.0, n / 20))
    after = redis_counters(v.redis_url) if v.redis_url else None
    cpu_after, t1 = cpu_seconds(v.pids), time.monotonic()
    time.sleep(1.0)  # a doubled reply would show by now
    check_replies(v, sent_to, start)
    refused = sum(1 for a in v.fake.webhook_attempts[attempts:] if not a.ok)
    if refused:
        v.problems.append(f"{refused} webhook POSTs refused (delivered again)")
    replies = sent_since(v.fake, start)[:n]
    if not replies:
        return
    took = max(m.monotonic for m in replies) - t0
    v.rates.append(len(replies) / took)
    used = [a - b for a, b in zip(cpu_after, cpu_before, strict=True)]
    v.cores.append([u / (t1 - t0) for u in used])
    v.bot_cpu_ms.append(sum(used[: bot_processes(v)]) / n * 1000)
    if before and after:
        v.commands.append((after[0] - before[0]) / n)
        v.trips.append((after[1] - before[1]) / n)
        v.redis_cpu_ms.append((after[2] - before[2]) / n * 1000)


def bot_processes(v: Variant) -> int:
    return len(v.pids) - (1 if v.redis_url else 0)


def cores_text(v: Variant) -> str:
    """Median cores busy: each bot process, Redis, the fake (this process)."""
    names = [f"bot {k + 1}" for k in range(bot_processes(v))]
    names += ["Redis"] if v.redis_url else []
    names += ["fake", "whole machine"]
    return ", ".join(f"{name} {median([r[k] for r in v.cores]):.2f}" for k, name in enumerate(names))


def start_variants(stack: ExitStack, chats: list[int], webhook: bool) -> list[Variant]:
    """The echo bot and 1 and 2 processes on one Redis (key prefixes apart), each on its
    own fake, bound and warmed up."""
    connections = MAX_CONNECTIONS if webhook else 1
    echo_fake = stack.enter_context(fake_telegram(rate_limits=False, webhook_connections=connections))
    echo = stack.enter_context(echo_bot(echo_fake, webhook=webhook))
    check_one_reply_each(echo_fake, chats, expect=ECHOED)
    variants = [Variant("echo (bare aiogram 3)", echo_fake, ECHOED, [echo.pid])]
    server = stack.enter_context(redis_server())
    assert server.process is not None
    for count, prefix in ((1, "one:"), (2, "two:")):
        url = f"{server.url}?prefix={prefix}"
        fake = stack.enter_context(fake_telegram(rate_limits=False, webhook_connections=connections))
        bots = [stack.enter_context(full_bot(fake, policy_text(), store_url=url, webhook=webhook))]
        if count == 2:
            bots.append(stack.enter_context(full_bot(fake, policy_text(), store_url=url, webhook=webhook)))
            if bots[1].health()["scheduler"] != "standby":
                raise RuntimeError("the second process should stand by")
        if webhook:
            fake.balance_webhook([f"{bot.url}/telegram/webhook" for bot in bots])
        bind_buyers(bots[0], fake, chats)
        pids = [bot.proc.pid for bot in bots if bot.proc is not None] + [server.process.pid]
        name = f"{count} process{'es' if count > 1 else ''} on one Redis"
        variants.append(Variant(name, fake, WELCOME, pids, url))
    return variants


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram updates/s with 1 and 2 processes on one Redis")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    chats = list(range(200_001, 200_001 + args.buyers))
    with ExitStack() as stack:
        variants = start_variants(stack, chats, args.mode == "webhook")
        for _ in range(args.rounds):
            for v in variants:
                run_round(v, chats, args.n)
    echo, one = variants[0], variants[1]
    rows = []
    for v in variants:
        ratios = [r / e for r, e in zip(v.rates, echo.rates, strict=False)]
        to_one = [r / o for r, o in zip(v.rates, one.rates, strict=False)]
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
                f"{median(to_one):.2f}x" if v is not echo else "",
                *redis_cols,
                f"{median(v.bot_cpu_ms):.2f} ms" if v.bot_cpu_ms else "",
                cores_text(v) if v.cores else "",
                "; ".join(v.problems) or "0 lost, 0 doubled",
            ]
        )
    how = f"webhook, {MAX_CONNECTIONS} POSTs at once" if args.mode == "webhook" else "polling"
    print(f"## Telegram updates/s, 1 and 2 processes on one Redis, {how}", end=" ")
    print(f"({args.n} messages over {args.buyers} chats)\n")
    headers = ["bot", "updates/s per round", "median", "ratio to echo", "ratio to 1 process"]
    headers += ["Redis commands / update", "round trips / update", "Redis CPU / update", "bot CPU / update"]
    headers += ["CPU (cores busy)", "replies"]
    print(table(headers, rows))
    print(f"\nfake rate limits off; bot limits raised; Redis AOF everysec; {machine()}")


if __name__ == "__main__":
    main()
