"""The fault suite (issue: nothing lost, nothing doubled): the real process,
a real redis-server (AOF, fsync always) and the local Telegram fake, each
fault injected in the middle of a burst. `make test` runs each fault once;
`make faults` runs them 20 times (Redis: 10) and writes RELIABILITY.md's
table (`python -m tests.faults.report`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.faults.harness import Tally, burst, runs, sent_to, settle, start_bot
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.faults]
BUYERS = 30
#: the sender's most calls in flight at once: what a kill can cut off
IN_FLIGHT_MAX = 16


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    (tmp_path / "redis").mkdir()
    with RedisServer(tmp_path / "redis") as server:
        yield server


def chats_of(run: int, base: int) -> list[int]:
    return list(range(base + run * 1000, base + run * 1000 + BUYERS))


def test_sigkill_of_the_bot_mid_burst(tmp_path: Path, redis: RedisServer) -> None:
    tally = Tally("SIGKILL of the bot mid-burst")
    with FakeTelegram("4242:fake-telegram-token") as fake:
        fake.add_latency(0.05, "sendMessage")  # calls really in flight at the kill
        bot = start_bot(tmp_path, fake, redis.url)
        try:
            for run in range(runs(20)):
                chats = chats_of(run, 60_000)
                burst(bot, chats, f"K{run}")
                fake.wait_for(lambda chats=chats: sent_to(fake, chats) >= BUYERS // 3, 30, what="a third sent")
                bot.kill()
                bot.start(90)
                lost, doubled = settle(fake, chats)
                tally.add(len(chats), lost, doubled)
                tally.in_flight_max = IN_FLIGHT_MAX
                assert lost == 0 and doubled <= IN_FLIGHT_MAX, (run, lost, doubled)
        finally:
            bot.stop()
            tally.record()


def test_redis_killed_and_restarted_mid_burst(tmp_path: Path, redis: RedisServer) -> None:
    tally = Tally("Redis killed and restarted (AOF) mid-burst")
    with FakeTelegram("4242:fake-telegram-token") as fake:
        bot = start_bot(tmp_path, fake, redis.url)
        try:
            for run in range(runs(10)):
                chats = chats_of(run, 70_000)
                burst(bot, chats, f"R{run}")
                fake.wait_for(lambda chats=chats: sent_to(fake, chats) >= BUYERS // 3, 30, what="a third sent")
                redis.kill()
                time.sleep(0.5)
                redis.start()
                lost, doubled = settle(fake, chats, timeout=90)
                tally.add(len(chats), lost, doubled)
                assert lost == 0 and doubled == 0, (run, lost, doubled)
        finally:
            bot.stop()
            tally.record()


@pytest.mark.parametrize(("status", "name"), [(429, "a 429 storm"), (502, "a 5xx storm")])
def test_a_storm_of_platform_errors(tmp_path: Path, redis: RedisServer, status: int, name: str) -> None:
    tally = Tally(f"{name} from the platform")
    with FakeTelegram("4242:fake-telegram-token") as fake:
        bot = start_bot(tmp_path, fake, redis.url)
        try:
            for run in range(runs(5)):
                chats = chats_of(run, 80_000 + status * 10)
                burst(bot, chats, f"S{status}-{run}")
                fake.wait_for(lambda chats=chats: sent_to(fake, chats) >= 5, 30, what="sending")
                fake.fail_next("sendMessage", status, times=15, retry_after=1)
                lost, doubled = settle(fake, chats, timeout=90)
                tally.add(len(chats), lost, doubled)
                assert lost == 0 and doubled == 0, (run, lost, doubled)
            ok = sorted(c.time for c in fake.calls if c.method == "sendMessage" and c.status == 200)
            assert ok, "sending resumed"
        finally:
            bot.stop()
            tally.record()


def test_webhook_redelivery_of_every_update(tmp_path: Path, redis: RedisServer) -> None:
    tally = Tally("webhook redelivery of every update")
    with FakeTelegram("4242:fake-telegram-token") as fake:
        bot = start_bot(tmp_path, fake, redis.url, webhook=True)
        try:
            for run in range(runs(5)):
                chats = chats_of(run, 90_000)
                burst(bot, chats, f"W{run}")
                assert settle(fake, chats) == (0, 0)  # bound, guided
                before = len(fake.sent_messages())
                updates = [fake.user_sends(chat, "thanks") for chat in chats]
                expected = before + len(chats)
                fake.wait_for(lambda n=expected: len(fake.sent_messages()) >= n, 30, what="answers")
                for update_id in updates:
                    fake.redeliver(update_id)
                fake.wait_for(lambda: fake.pending_updates() == [], 30, what="redelivered")
                time.sleep(2)
                answers = [m for m in fake.sent_messages()[before:] if m.chat_id in set(chats)]
                doubled = len(answers) - len(chats)
                lost = len(chats) - len({m.chat_id for m in answers})
                tally.add(len(chats), lost, doubled)
                assert lost == 0 and doubled == 0, (run, lost, doubled)
        finally:
            bot.stop()
            tally.record()
