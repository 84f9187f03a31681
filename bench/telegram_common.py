"""Shared pieces of the Telegram benchmarks: the fake Bot API (in this process,
so its `SentMessage.monotonic` and our injection times share one clock), the
real `buyerbot run` process on SQLite or Redis, the bare aiogram echo bot,
order seeding over the event API, and small number/table helpers.

All traffic stays on 127.0.0.1. Nothing here asserts on wall-clock time."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine as base_machine
from bench.common import pct
from tests.e2e.process import TOKEN as API_TOKEN
from tests.e2e.process import BotProcess, free_port, placed_event
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
TG_TOKEN = "4242:bench-telegram-token"
WEBHOOK_SECRET = "bench-webhook-secret"
#: a text the bot answers with exactly one message ("You're welcome! ..."), every time
THANKS = "thanks"
WELCOME = "You're welcome"

#: limits so high that (a) and (c) measure processing, not pacing
RELAXED_LIMITS = """
[limits.telegram]
rate = 100000
per_chat_rate = 100000
per_chat_burst = 100000
"""


def policy_text(*, nudge_after: str = "10h", offer_after: str = "20h", limits: str = RELAXED_LIMITS) -> str:
    """Returning buyers only get the nudge (at placed_at + nudge_after); no quiet hours."""
    return f"""
[unpaid]
payment_help_after = "1s"
nudge_after = "{nudge_after}"
offer_after = "{offer_after}"
abandon_after = "10h"
[quiet_hours]
start = "00:00"
end = "00:00"
{limits}
"""


# -- numbers ----------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return pct(values, 50) if len(values) % 2 else (sorted(values)[len(values) // 2 - 1] + pct(values, 50)) / 2


def machine() -> str:
    load = os.getloadavg()
    return f"{base_machine()}, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)"


@dataclass
class CpuTimes:
    """CPU seconds (user + system) of a process, from /proc (Linux)."""

    pid: int

    def read(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# -- the fake Bot API -------------------------------------------------------
@contextmanager
def fake_telegram(*, rate_limits: bool, webhook_connections: int = 1) -> Iterator[FakeTelegram]:
    """The fake in a daemon thread of this process, on 127.0.0.1 and a free port;
    `webhook_connections` POSTs at once in webhook mode (Telegram's default is 40)."""
    fake = FakeTelegram(TG_TOKEN, rate_limits=rate_limits, webhook_connections=webhook_connections)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def sent_since(fake: FakeTelegram, start: int) -> list[SentMessage]:
    with fake._lock:
        return fake.sent[start:]


def sent_count(fake: FakeTelegram) -> int:
    return len(fake.sent)  # list length: atomic under the GIL


def wait_polling(fake: FakeTelegram, timeout: float = 30.0) -> None:
    """Until the bot has made its first getUpdates call (it is ready for buyers)."""
    fake.wait_for(lambda: fake.requests_by_method.get("getUpdates", 0) >= 1, timeout, what="the first getUpdates")


def wait_webhook(fake: FakeTelegram, before: int, timeout: float = 60.0) -> None:
    """Until a bot has called setWebhook once more than `before` times (it is ready for buyers)."""
    fake.wait_for(lambda: fake.requests_by_method.get("setWebhook", 0) > before, timeout, what="setWebhook")


def wait_sent(fake: FakeTelegram, total: int, timeout: float) -> bool:
    """Until the fake has recorded `total` sent messages; False on timeout."""
    deadline = time.monotonic() + timeout
    while sent_count(fake) < total:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


# -- the bots ----------------------------------------------------------------
@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """tests/redis_server.py's server with the production advice: AOF, appendfsync everysec."""
    server = RedisServer(fsync="everysec")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def full_bot(
    fake: FakeTelegram, policy: str, *, store_url: str | None = None, log_level: str = "INFO", webhook: bool = False
) -> Iterator[BotProcess]:
    """The real `buyerbot run` (tests/e2e/process.py) polling `fake` (or on its webhook, on
    its own URL); SQLite in a temp dir unless `store_url`."""
    with tempfile.TemporaryDirectory(prefix="bench-tg-") as tmp:
        bot = BotProcess(
            Path(tmp),
            store_url=store_url,
            policy=policy,
            BUYERBOT_TELEGRAM_TOKEN=TG_TOKEN,
            BUYERBOT_TELEGRAM_API_URL=fake.base_url,
            BUYERBOT_LOG_LEVEL=log_level,
            PYTHONPATH=str(ROOT),
        )
        if webhook:
            bot.env.update(
                BUYERBOT_TELEGRAM_MODE="webhook",
                BUYERBOT_TELEGRAM_WEBHOOK_URL=f"{bot.url}/telegram/webhook",
                BUYERBOT_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            )
        webhooks_set = fake.requests_by_method.get("setWebhook", 0)
        bot.start(timeout=60)
        try:
            wait_webhook(fake, webhooks_set) if webhook else wait_polling(fake)
            yield bot
        finally:
            bot.stop()


@contextmanager
def echo_bot(fake: FakeTelegram, *, webhook: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """bench/telegram_echo_bot.py (bare aiogram 3 Dispatcher) polling `fake`, or on its webhook."""
    args = [sys.executable, "-m", "bench.telegram_echo_bot", "--api", fake.base_url, "--token", TG_TOKEN]
    if webhook:
        args += ["--webhook-port", str(free_port()), "--secret", WEBHOOK_SECRET]
    webhooks_set = fake.requests_by_method.get("setWebhook", 0)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_webhook(fake, webhooks_set) if webhook else wait_polling(fake)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


# -- seeding -------------------------------------------------------------------
def order_id_for(chat_id: int) -> str:
    return f"TG-{chat_id}"


def place_orders(
    bot: BotProcess, chats: Sequence[int], *, occurred_at: datetime | None = None, concurrency: int = 32
) -> float:
    """One unpaid order of a returning buyer per chat, bound to it by `telegram_chat_id`
    (a returning buyer gets no message when the order is placed, only the nudge later).
    Returns the seconds it took."""
    when = (occurred_at or datetime.now(UTC)).isoformat()
    headers = {"Authorization": f"Bearer {API_TOKEN}"}

    async def run() -> None:
        limit = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=bot.url, headers=headers, timeout=60) as client:

            async def one(chat: int) -> None:
                event = placed_event(order_id_for(chat), first_order=False, telegram_chat_id=chat)
                event["occurred_at"] = when
                async with limit:
                    response = await client.post("/api/v1/events", json=event)
                    response.raise_for_status()

            await asyncio.gather(*(one(chat) for chat in chats))

    began = time.monotonic()
    asyncio.run(run())
    return time.monotonic() - began


def pending_follow_ups(bot: BotProcess) -> int:
    return int(httpx.get(f"{bot.url}/healthz", timeout=10).json()["pending_follow_ups"])


def wait_follow_ups(bot: BotProcess, n: int, timeout: float) -> int:
    """Until the bot's scheduler holds `n` follow-ups (every order taken in and bound)."""
    deadline = time.monotonic() + timeout
    while (pending := pending_follow_ups(bot)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return pending


def bind_buyers(bot: BotProcess, fake: FakeTelegram, chats: Sequence[int]) -> None:
    """Place and bind one order per chat, then check (off the clock) that a "thanks"
    from each chat gets exactly one "You're welcome"."""
    place_orders(bot, chats)
    got = wait_follow_ups(bot, len(chats), 120)
    if got < len(chats):
        raise RuntimeError(f"only {got} of {len(chats)} orders taken in")
    check_one_reply_each(fake, chats)


def check_one_reply_each(fake: FakeTelegram, chats: Sequence[int], expect: str = WELCOME) -> None:
    """Every chat says "thanks" once; each must get exactly one reply containing `expect`."""
    start = sent_count(fake)
    for chat in chats:
        fake.user_sends(chat, THANKS)
    if not wait_sent(fake, start + len(chats), 60):
        raise RuntimeError(f"warm-up: {sent_count(fake) - start} of {len(chats)} replies")
    time.sleep(0.5)
    replies = sent_since(fake, start)
    per_chat = {m.chat_id for m in replies}
    wrong = [m.text for m in replies if expect not in (m.text or "")]
    if len(replies) != len(chats) or per_chat != set(chats) or wrong:
        raise RuntimeError(
            f"warm-up: {len(replies)} replies to {len(per_chat)} chats for {len(chats)} chats; unexpected: {wrong[:3]}"
        )


def stop_quietly(*procs: Any) -> None:
    for proc in procs:
        with suppress(Exception):
            proc.stop()


@dataclass
class Target:
    """One bot under test, polling its own fake."""

    name: str
    fake: FakeTelegram
    pid: int
    #: what every reply to "thanks" contains
    expect: str


def start_targets(stack: ExitStack, chats: Sequence[int], *, redis: bool, echo: bool = True) -> list[Target]:
    """The echo bot and the full bot on SQLite (and on Redis), each on its own fake with
    rate limits off and relaxed bot limits; `chats` bound and warmed up (one "thanks" each)."""
    targets: list[Target] = []
    if echo:
        fake = stack.enter_context(fake_telegram(rate_limits=False))
        proc = stack.enter_context(echo_bot(fake))
        check_one_reply_each(fake, chats, expect=THANKS)
        targets.append(Target("echo (bare aiogram 3)", fake, proc.pid, THANKS))
    stores: list[tuple[str, str | None]] = [("SQLite", None)]
    if redis:
        stores.append(("Redis", stack.enter_context(redis_server()).url))
    for label, url in stores:
        fake = stack.enter_context(fake_telegram(rate_limits=False))
        bot = stack.enter_context(full_bot(fake, policy_text(), store_url=url))
        assert bot.proc is not None
        bind_buyers(bot, fake, chats)
        targets.append(Target(f"full bot ({label} store)", fake, bot.proc.pid, WELCOME))
    return targets
