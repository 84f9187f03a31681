"""The fault suite's harness: one real `buyerbot run` on a real redis-server
and the local Telegram fake, bursts of first-time buyers (one payment guide
each, due 1 s after the order), and the tally of each run (inputs, lost,
doubled) written where `make faults` collects it."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.e2e.process import BotProcess, placed_event
from tests.e2e.telegram_helpers import SECRET, TG_TOKEN
from tests.fakes.telegram_api import FakeTelegram

#: each buyer's one message in a burst: the payment guide, 1 s after the order
POLICY = """
[unpaid]
payment_help_after = "1s"
nudge_after = "10m"
offer_after = "20m"
abandon_after = "30m"
[quiet_hours]
start = "00:00"
end = "00:00"
[follow_ups]
min_gap = "0s"
[limits.telegram]
rate = 30
per_chat_rate = 1
per_chat_burst = 3
"""
GUIDE = "Step-by-step help"
#: where `make faults` collects the tallies (unset: not recorded)
REPORT_ENV = "BUYERBOT_FAULT_REPORT"
#: how many runs of each fault (`make faults` raises it; `make test` runs one)
RUNS_ENV = "BUYERBOT_FAULT_RUNS"


def runs(full: int) -> int:
    """One run in `make test`; `full` under `make faults` (BUYERBOT_FAULT_RUNS=full)."""
    return full if os.environ.get(RUNS_ENV) == "full" else 1


@dataclass
class Tally:
    fault: str
    runs: int = 0
    inputs: int = 0
    lost: int = 0
    doubled: int = 0
    #: the most messages that were in flight at one fault (the bound for doubled)
    in_flight_max: int = 0

    def add(self, inputs: int, lost: int, doubled: int) -> None:
        """One run of the fault: its inputs and what they came to."""
        self.runs, self.inputs = self.runs + 1, self.inputs + inputs
        self.lost, self.doubled = self.lost + lost, self.doubled + doubled

    def record(self) -> None:
        path = os.environ.get(REPORT_ENV)
        if path:
            with Path(path).open("a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(self)) + "\n")


def start_bot(tmp: Path, fake: FakeTelegram, redis_url: str, *, webhook: bool = False) -> BotProcess:
    env = {"BUYERBOT_TELEGRAM_TOKEN": TG_TOKEN, "BUYERBOT_TELEGRAM_API_URL": fake.base_url}
    bot = BotProcess(tmp, redis_url, policy=POLICY, **env)
    if webhook:
        bot.env.update(
            BUYERBOT_TELEGRAM_MODE="webhook",
            BUYERBOT_TELEGRAM_WEBHOOK_URL=f"{bot.url}/telegram/webhook",
            BUYERBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
    return bot.start(90)


def burst(bot: BotProcess, chats: list[int], prefix: str) -> None:
    """The orders, posted as a store backend does: an answer other than 202
    (e.g. a 5xx on a pooled connection that died with a Redis restart) means
    not stored, so the same event goes again."""
    for chat in chats:
        event = placed_event(f"{prefix}-{chat}", telegram_chat_id=chat)
        for _ in range(5):
            response = bot.post_event(event)
            if response.status_code < 500:
                break
            time.sleep(0.2)
        assert response.status_code == 202, response.text


def guides(fake: FakeTelegram, chats: list[int]) -> Counter[int]:
    wanted = set(chats)
    return Counter(m.chat_id for m in fake.sent_messages() if m.chat_id in wanted and GUIDE in (m.text or ""))


def settle(fake: FakeTelegram, chats: list[int], timeout: float = 60) -> tuple[int, int]:
    """Wait until every chat has its guide (or the timeout), then a moment
    for doubles to show; (lost, doubled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(guides(fake, chats)) < len(chats):
        time.sleep(0.1)
    time.sleep(2)
    counts = guides(fake, chats)
    return sum(1 for chat in chats if not counts[chat]), sum(n - 1 for n in counts.values() if n > 1)


def sent_to(fake: FakeTelegram, chats: list[int]) -> int:
    return sum(guides(fake, chats).values())
