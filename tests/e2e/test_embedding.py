"""BuyerBot inside a store's own bot, run as a real process from the examples
in docs/examples (python-telegram-bot and aiogram) against the fake Bot API:
the unpaid journey runs while the store's commands, buttons and echo keep
answering; a chat is handed over and taken back; restarts lose no follow-up."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import ROOT, TOKEN, BotProcess, placed_event, simple_event
from tests.e2e.telegram_helpers import TG_TOKEN, labels, link_token, press, texts
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow
ANN, BOB, OLGA, AGENT = 7101, 7102, 7103, 777
GROUP = -1001234567890
EXAMPLES = ROOT / "docs" / "examples"
POLICY = """
[unpaid]
payment_help_after = "3s"
nudge_after = "10m"
[quiet_hours]
start = "00:00"
end = "00:00"
[store]
timezone = "UTC"
holiday_country = ""
[store.working_hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
opens = "00:00"
closes = "23:59:59"
"""


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TG_TOKEN, rate_limits=False) as running:
        yield running


def store_bot(tmp: Path, fake: FakeTelegram, library: str, policy: str = POLICY) -> BotProcess:
    bot = BotProcess(
        tmp, policy=policy, STORE_BOT_TOKEN=TG_TOKEN, TELEGRAM_API_URL=fake.base_url,
        BUYERBOT_AGENT_CHAT_ID=str(GROUP), BUYERBOT_AGENT_IDS=str(AGENT),
    )  # fmt: skip
    bot.command = [sys.executable, str(EXAMPLES / f"{library}_store_bot.py")]
    return bot.start()


def reply(fake: FakeTelegram, chat: int) -> str:
    return fake.next_message(chat, 10).text or ""


def the_store_answers(fake: FakeTelegram, chat: int, *, echo: bool = True) -> None:
    """The store's own command, its own button and (while BuyerBot waits for
    no answer in this chat) its echo, untouched."""
    fake.user_sends(chat, "/catalog")
    catalogue = fake.next_message(chat, 10)
    assert catalogue.text == "Our catalogue: solar lamps, desk lamps."
    query = press(fake, chat, catalogue, "More lamps")
    assert reply(fake, chat) == "More lamps: garden lamps, night lights."
    # the answer to the press and the reply race each other: wait for both
    fake.wait_for(lambda: fake.answer_for(query) is not None, 10, what="the press answered")
    if echo:
        fake.user_sends(chat, "do you sell cables?")
        assert reply(fake, chat) == "You said: do you sell cables?"


@pytest.mark.parametrize("library", ["ptb", "aiogram"])
def test_the_unpaid_journey_runs_inside_the_store_bot_and_the_store_keeps_answering(
    tmp_path: Path, fake: FakeTelegram, library: str
) -> None:
    bot = store_bot(tmp_path, fake, library)
    try:
        fake.user_sends(ANN, "/start")
        assert reply(fake, ANN) == "Welcome to Lamp Shop! /catalog shows what we sell."
        the_store_answers(fake, ANN)

        bot.post_event(placed_event("EM-1"))
        fake.user_sends(ANN, f"/start {link_token(bot, 'EM-1')}")
        assert "linked to your order EM-1" in reply(fake, ANN)
        the_store_answers(fake, ANN, echo=False)  # in a chat BuyerBot talks in, the store's commands still work
        guide = fake.next_message(ANN, 10)  # a follow-up, fired by BuyerBot's scheduler
        assert "Step-by-step help" in (guide.text or "")
        assert labels(guide) == ["Payment guide", "I've paid", "Payment failed", "Talk to a person"]
        fake.user_sends(ANN, "thank you!")  # an answer to BuyerBot: BuyerBot's, not the echo's
        assert reply(fake, ANN).startswith("You're welcome")
        query = press(fake, ANN, guide, "I've paid")
        assert "platform usually confirms a payment" in reply(fake, ANN)
        # the answer to the press and the reply race each other: wait for both
        fake.wait_for(lambda: fake.answer_for(query) is not None, 10, what="the press answered")
        bot.post_event(simple_event("EM-1", "order.paid"))
        assert "Payment received" in reply(fake, ANN)
        fake.user_sends(ANN, "do you have red lamps?")  # the journey is over: the store's again
        assert reply(fake, ANN) == "You said: do you have red lamps?"
        press(fake, ANN, guide, "I've paid")  # BuyerBot's old button stays BuyerBot's
        assert "no longer current" in reply(fake, ANN)

        fake.user_sends(BOB, "hi")
        assert reply(fake, BOB) == "You said: hi"
        fake.user_sends(BOB, "/support")  # the store hands the chat to BuyerBot
        assert "order number" in reply(fake, BOB)
        fake.user_sends(BOB, "hello?")
        assert "order number" in reply(fake, BOB)
        fake.user_sends(BOB, "/shop")  # and takes it back
        assert reply(fake, BOB) == "Back in the shop. /catalog shows what we sell."
        fake.user_sends(BOB, "hello?")
        assert reply(fake, BOB) == "You said: hello?"
        time.sleep(1)
        assert fake.unread(ANN) == [] and fake.unread(BOB) == []
        assert fake.internal_errors == []
        transcript = [e["text"] for e in transcript_of(bot, "EM-1")]
        assert "thank you!" in transcript and "do you sell cables?" not in transcript
    finally:
        bot.stop()


def transcript_of(bot: BotProcess, order_id: str) -> list[dict[str, str]]:
    """What the buyer said, as BuyerBot recorded it."""
    response = httpx.get(f"{bot.url}/api/v1/orders/{order_id}/transcript", headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    return [e for e in response.json() if e["author"] == "buyer"]


@pytest.mark.parametrize(("library", "crash"), [("ptb", False), ("aiogram", True)])
def test_a_restart_of_the_store_bot_loses_no_follow_up(
    tmp_path: Path, fake: FakeTelegram, library: str, crash: bool
) -> None:
    """Stopped (SIGTERM) or killed (SIGKILL) while the guide is pending and
    back after it was due: the guide arrives once, in the buyer's language."""
    policy = POLICY.replace('payment_help_after = "3s"', 'payment_help_after = "5s"')
    bot = store_bot(tmp_path, fake, library, policy)
    try:
        bot.post_event(placed_event("EM-2", language="ru", country="RU"))
        fake.user_sends(OLGA, f"/start {link_token(bot, 'EM-2')}", language_code="ru")
        fake.next_message(OLGA, 10)  # linked
        # not in the instant between Telegram's answer and the SENT mark: a message
        # delivered then is sent again (at-least-once, no idempotency key in the Bot API)
        time.sleep(1)
        bot.kill() if crash else bot.stop()
        time.sleep(6)  # the guide comes due while the store's bot is down
        assert fake.unread(OLGA) == []
        bot.start()
        guide = fake.next_message(OLGA, 15)
        assert "оплата пока не поступила" in (guide.text or "")
        assert labels(guide)[:3] == ["Как оплатить", "Уже оплачено", "Оплата не прошла"]
        fake.user_sends(OLGA, "/catalog")
        assert reply(fake, OLGA) == "Our catalogue: solar lamps, desk lamps."
        time.sleep(1.5)
        assert texts(fake, OLGA, guide.text or "") == [guide.text]
    finally:
        bot.stop()


@pytest.mark.parametrize("library", ["ptb", "aiogram"])
def test_a_buyer_asks_for_a_person_and_the_agents_group_works_through_the_store_bot(
    tmp_path: Path, fake: FakeTelegram, library: str
) -> None:
    bot = store_bot(tmp_path, fake, library)
    try:
        bot.post_event(placed_event("EM-3", first_order=False))
        fake.user_sends(ANN, f"/start {link_token(bot, 'EM-3')}")
        welcome = fake.next_message(ANN, 10)
        press(fake, ANN, welcome, "Talk to a person")
        assert "passing your chat" in reply(fake, ANN)
        card = fake.wait_for(
            lambda: next((m for m in fake.messages_to(GROUP) if "Order EM-3" in (m.text or "")), None),
            10, what="the card in the agents' group",
        )  # fmt: skip
        thread = card.message_thread_id
        assert thread is not None

        def in_topic(containing: str) -> str:
            found = fake.wait_for(
                lambda: [m.text for m in fake.messages_to(GROUP, thread_id=thread) if containing in (m.text or "")],
                10, what=f"{containing!r} in the topic",
            )  # fmt: skip
            return str(found[-1])

        fake.user_sends(GROUP, "/claim", user_id=AGENT, first_name="Kim", message_thread_id=thread)
        assert "took this chat" in in_topic("took this chat")
        fake.user_sends(ANN, "hello? anyone?")  # a person owns the chat: theirs, not the echo's
        assert in_topic("hello? anyone?") == "👤 Buyer: hello? anyone?"
        fake.user_sends(GROUP, "Hi Ann, I'm Kim from the store.", user_id=AGENT, message_thread_id=thread)
        assert reply(fake, ANN) == "Hi Ann, I'm Kim from the store."
        fake.user_sends(ANN, "/catalog")  # the store's command still reaches the store
        assert reply(fake, ANN) == "Our catalogue: solar lamps, desk lamps."
        time.sleep(1)
        assert fake.unread(ANN) == []
    finally:
        bot.stop()
