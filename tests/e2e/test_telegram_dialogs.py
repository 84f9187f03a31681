"""The dialogs after payment, on Telegram, in the buyer's language: a Russian
buyer whose order carries their chat id goes through out of stock, shipping
and a device that does not work, against the real process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import TOKEN, placed_event, simple_event
from tests.e2e.telegram_helpers import labels, press, telegram_bot
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow
OLGA = 7301
QUIET = """
[unpaid]
payment_help_after = "10m"
nudge_after = "20m"
[quiet_hours]
start = "00:00"
end = "00:00"
"""
ALTERNATIVES = [
    {"title": "Чайник стальной", "url": "https://example.com/steel", "price": 27},
    {"title": "Чайник 1,5 л", "url": "https://example.com/small", "price": 26},
]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram("4242:fake-telegram-token", rate_limits=False) as running:
        yield running


def next_text(fake: FakeTelegram) -> str:
    return fake.next_message(OLGA, 10).text or ""


def test_a_russian_buyer_on_telegram_through_stock_shipping_and_a_broken_device(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    bot = telegram_bot(tmp_path, fake, policy=QUIET)
    try:
        event = placed_event("RU-1", first_order=False, language="ru", country="RU", telegram_chat_id=OLGA)
        bot.post_event(event)
        bot.post_event(simple_event("RU-1", "order.paid"))
        assert next_text(fake).startswith("Оплата получена")
        bot.post_event(simple_event("RU-1", "item.out_of_stock", sku="LAMP-1", alternatives=ALTERNATIVES))
        apology = fake.next_message(OLGA, 10)
        assert "Чайник стальной" in (apology.text or "")
        assert labels(apology)[:2] == ["Чайник стальной", "Чайник 1,5 л"]
        press(fake, OLGA, apology, "Чайник 1,5 л")
        assert "Чайник 1,5 л" in next_text(fake)
        tasks = httpx.get(f"{bot.url}/api/v1/tasks", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert [t["alternative"]["title"] for t in tasks if t["kind"] == "replace_item"] == ["Чайник 1,5 л"]

        bot.post_event(simple_event("RU-1", "order.shipped", carrier="Почта России", tracking_number="RA1",
                                    tracking_url="https://track.example/RA1", eta_days=20))  # fmt: skip
        shipped = next_text(fake)
        assert "RA1" in shipped and "https://track.example/RA1" in shipped and "Почта России" in shipped
        bot.post_event(simple_event("RU-1", "order.delivered"))
        next_text(fake)  # delivered
        fake.user_sends(OLGA, "устройство не работает, не включается", language_code="ru")
        assert "Короткое видео" in next_text(fake)
        fake.user_sends_video(OLGA, "vid-1")
        assert next_text(fake).startswith("Спасибо! Осталось только фото")
        fake.user_sends_photo(OLGA, "pic-1")
        question = fake.next_message(OLGA, 10)
        press(fake, OLGA, question, labels(question)[0])  # the packaging is in the photo
        assert next_text(fake).startswith("Спасибо, теперь у нас есть всё")  # a person takes it from here
        order = httpx.get(f"{bot.url}/api/v1/orders/RU-1", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert order["conversation"]["ownership"] == "waiting"
        assert order["order"]["facts"]["evidence"]["videos"] and order["order"]["facts"]["evidence"]["photos"]
    finally:
        bot.stop()
