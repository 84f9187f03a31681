"""Small helpers for driving the real bot process through the fake Telegram:
start it in polling or webhook mode, get an order's deep-link token, read chats."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.process import SECONDS_POLICY, BotProcess
from tests.fakes.telegram_api import FakeTelegram, SentMessage

TG_TOKEN = "4242:fake-telegram-token"
SECRET = "webhook-secret_0123456789"


def telegram_bot(
    tmp: Path,
    fake: FakeTelegram,
    *,
    webhook: bool = False,
    policy: str = SECONDS_POLICY,
    store_url: str | None = None,
) -> BotProcess:
    bot = BotProcess(
        tmp, store_url, policy=policy, BUYERBOT_TELEGRAM_TOKEN=TG_TOKEN, BUYERBOT_TELEGRAM_API_URL=fake.base_url
    )
    if webhook:
        bot.env.update(
            BUYERBOT_TELEGRAM_MODE="webhook",
            BUYERBOT_TELEGRAM_WEBHOOK_URL=f"{bot.url}/telegram/webhook",
            BUYERBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
    return bot.start()


def link_token(bot: BotProcess, order_id: str, timeout: float = 10) -> str:
    """The token of the order's deep link, once the bot has taken the order in."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            token = bot.order(order_id)["link_token"]
            if token:
                return str(token)
        except httpx.HTTPStatusError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"order {order_id} has no link token after {timeout}s")


def press(fake: FakeTelegram, chat_id: int, message: SentMessage, label: str) -> str:
    """The buyer taps the button of `message` whose label contains `label`."""
    return fake.user_presses(chat_id, message.message_id, message.button_data(label))


def texts(fake: FakeTelegram, chat_id: int, containing: str = "") -> list[str]:
    return [m.text or "" for m in fake.messages_to(chat_id) if containing in (m.text or "")]


def labels(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons]


def send_attempts(fake: FakeTelegram, chat_id: int) -> int:
    return sum(
        1 for c in list(fake.calls) if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(chat_id)
    )
