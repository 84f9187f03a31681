"""An in-process bot (the real `start_services`: store, engine, runtime, sender,
scheduler and the Telegram door polling a fake Bot API) with an `AgentDesk`
attached the way the lead wires it: sharing the door's Bot and receiving the
door's group updates. The buyer and the agents act through the fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.api.events import OrderEvent, to_inbound
from bot.app import Services, start_services
from bot.channels.agents import AgentDesk
from bot.config import load_settings
from dialogs.model import Conversation
from dialogs.policy import Policy, policy_from_dict
from tests.e2e.process import placed_event
from tests.fakes.telegram_api import FakeTelegram, SentMessage

TOKEN = "123:ABC"
GROUP = -1001234567890
AGENT, SECOND_AGENT, STRANGER = 777, 778, 999
ALWAYS_OPEN = {
    "store": {"timezone": "UTC", "holiday_country": "",
              "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "opens": "00:00", "closes": "23:59:59"}},
    "quiet_hours": {"start": "00:00", "end": "00:00"},
    "follow_ups": {"min_gap": "0s"},
    "unpaid": {"payment_help_after": "3s", "nudge_after": "30s", "offer_after": "60s", "abandon_after": "30s"},
    "handoff": {"response_within": "1h", "check_every": "200ms"},
}  # fmt: skip


class MovableClock:
    """Real time shifted: starts at `start` and can jump forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = (start - datetime.now(UTC)) if start else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.05)


@dataclass
class DeskEnv:
    fake: FakeTelegram
    services: Services
    desk: AgentDesk
    clock: MovableClock

    async def place(self, order_id: str, chat_id: int, **buyer: Any) -> None:
        event = OrderEvent.model_validate(placed_event(order_id, telegram_chat_id=chat_id, **buyer))
        await self.services.runtime.submit(to_inbound(event, self.clock.now()))
        await self.services.runtime.idle(5)

    async def conversation(self, order_id: str) -> Conversation:
        conversation, _ = await self.services.store.load(order_id)
        assert conversation is not None
        return conversation

    async def topic(self, order_id: str, timeout: float = 5.0) -> int:
        return int(await eventually(lambda: self.desk.topics.topic_of(order_id), timeout, f"topic of {order_id}"))

    def agent_says(self, thread: int | None, text: str, user_id: int = AGENT) -> int:
        return self.fake.user_sends(GROUP, text, user_id=user_id, first_name=f"Agent{user_id}",
                                    message_thread_id=thread)  # fmt: skip

    async def in_topic(self, thread: int | None, n: int = 1, timeout: float = 5.0) -> list[SentMessage]:
        found = await self.fake.await_messages(GROUP, n, timeout, thread_id=thread)
        return list(found)

    async def settle(self, seconds: float = 0.3) -> None:
        await asyncio.sleep(seconds)
        await self.services.runtime.idle(5)
        await self.desk.drained()


async def start_env(tmp: Path, fake: FakeTelegram, policy: dict[str, Any] | None = None,
                    clock: MovableClock | None = None) -> DeskEnv:  # fmt: skip
    settings = load_settings(
        store_url=f"sqlite:///{tmp}/bot.sqlite3",
        telegram_token=TOKEN,
        telegram_api_url=fake.base_url,
        agent_chat_id=GROUP,
        agent_ids=f"{AGENT},{SECOND_AGENT}",
        api_token="console-token-0123456789",
    )
    rules: Policy = policy_from_dict(policy or ALWAYS_OPEN)
    clock = clock or MovableClock()
    services = await start_services(settings, rules, clock)
    wired = next((e for e in services.extras if isinstance(e, AgentDesk)), None)
    if wired is not None:  # start_services builds the desk itself
        return DeskEnv(fake, services, wired, clock)
    door = next(e for e in services.extras if type(e).__name__ == "TelegramDoor")
    desk = AgentDesk(settings, services.runtime, rules, door.bot)
    door.intake.on_group_update = desk.on_group_update  # until the door routes group updates itself
    services.extras.append(desk)
    await desk.start()
    return DeskEnv(fake, services, desk, clock)
