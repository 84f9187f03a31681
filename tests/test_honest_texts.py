"""What the buyer reads is true and correctly written: capped discounts show the
real amount, no claims without data, no contradictions, questions that fit the
product, amounts and dates in the buyer's locale, titles that never break a
Russian or French sentence. Real dialogs, real templates."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.rendering import Renderer
from dialogs.model import OutboxMessage
from tests.dialogs.helpers import Harness

ROOT = Path(__file__).resolve().parent.parent
renderer = Renderer(ROOT / "templates")
H = timedelta(hours=1)
D = timedelta(days=1)


def text(message: OutboxMessage) -> str:
    return renderer.text(message.template, message.language, message.context)


def placed(bot: Harness, *, language: str = "en", country: str = "US", total: float = 20.0, **item: Any) -> None:
    buyer = {"id": "b", "name": "Ann", "language": language, "country": country, "first_order": False}
    line = {"sku": "S", "title": "Lamp", "price": total, "qty": 1, **item}
    bot.event("order.placed", buyer=buyer, items=[line], total={"amount": total, "currency": "USD"})


def nudge(policy: dict[str, Any] | None = None, **item: Any) -> str:
    bot = Harness(policy)
    placed(bot, **item)
    return text(bot.fire("nudge").outbox[0])


# -- discounts ------------------------------------------------------------------------


def test_a_capped_discount_shows_the_real_amount_not_the_percent() -> None:
    bot = Harness({"unpaid": {"discount_percent": 3, "discount_max": "10"}})
    placed(bot, total=1000.0)
    offer = text(bot.says("too expensive").outbox[0])
    assert "$10.00 off, our maximum" in offer and "3%" not in offer and "$990.00" in offer


def test_an_uncapped_discount_shows_percent_and_amount() -> None:
    bot = Harness()
    placed(bot, total=40.0)
    offer = text(bot.says("too expensive").outbox[0])
    assert "3% off: $1.20 less" in offer and "$38.80 in total" in offer


# -- claims the bot cannot know ---------------------------------------------------------


def test_the_nudge_praises_only_what_the_item_data_says() -> None:
    plain = nudge()
    assert not re.search(r"best|rated|fast|favourite|quality", plain, re.I)
    assert "one of our best sellers" in nudge(best_seller=True)
    assert "Buyers rate Lamp 4.8 out of 5" in nudge(rating=4.8)
    assert "rate" not in nudge(rating=3.9)


def test_an_unpaid_order_is_never_called_reserved_beside_low_stock() -> None:
    bot = Harness()
    placed(bot, stock_left=3)
    nudged = text(bot.fire("nudge").outbox[0])
    later = text(bot.presses("pay_later").outbox[0])
    assert "Only 3 are left" in nudged
    assert "reserved" not in later.lower() and "only 3 are left" in later


# -- alternatives and their price --------------------------------------------------------


def out_of_stock(*prices: float, absorbs: str = "5.00") -> tuple[Harness, str]:
    """The bot after an item sold out, and the apology the buyer read."""
    bot = Harness({"out_of_stock": {"seller_absorbs_up_to": absorbs}})
    placed(bot, total=20.0)
    bot.event("order.paid")
    alternatives = [{"title": f"Lamp {p}", "url": "", "price": p} for p in prices]
    change = bot.event("item.out_of_stock", sku="S", alternatives=alternatives)
    return bot, text(change.outbox[0])


def test_no_extra_cost_only_when_no_alternative_costs_the_buyer_more() -> None:
    _, cheap = out_of_stock(18.0, 20.0, 24.0)
    assert "at no extra cost to you" in cheap
    assert "$2.00 less: we refund you the difference" in cheap
    assert "$4.00 more, and the store covers that" in cheap


def test_a_dearer_alternative_states_the_difference_and_who_pays() -> None:
    bot, apology = out_of_stock(30.0)
    assert "no extra cost" not in apology
    assert "$10.00 more: the store covers $5.00, and you would pay the other $5.00" in apology
    chosen = bot.presses("choose_alt_1")
    assert "remaining $5.00" in text(chosen.outbox[0])
    assert bot.tasks[-1]["price"] == {"kind": "extra", "difference": "10.00", "covered": "5.00", "buyer_pays": "5.00"}


def test_the_cancellation_reason_is_explained_truthfully() -> None:
    bot, _ = out_of_stock(18.0)
    explained = text(bot.presses("cancel_order").outbox[0])
    assert "goes through quickly" in explained
    assert "against you" not in explained and "protect" not in explained


# -- questions that fit the product ---------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "question"),
    [("electronics", "Is everything working"), ("shoes", "Does it fit"), ("", "Are you happy with it")],
)
def test_the_question_after_delivery_fits_the_product(category: str, question: str) -> None:
    bot = Harness()
    placed(bot, category=category)
    bot.event("order.paid")
    bot.event("order.delivered")
    asked = bot.fire("check").outbox[0]
    assert question in text(asked)
    assert ("not_working" in [b["action"] for b in bot.presses("no").outbox[0].buttons]) == (category != "shoes")


# -- the buyer's locale ---------------------------------------------------------------------


def test_amounts_and_dates_in_the_buyers_locale() -> None:
    bot = Harness()
    placed(bot, language="ru", country="RU", total=1234.5)
    offer = text(bot.says("слишком дорого").outbox[0])
    assert "10,00\xa0$" in offer and "1\xa0224,50\xa0$" in offer  # decimal comma, grouping space, sign after
    fr = Harness()
    placed(fr, language="fr", country="FR")
    fr.event("order.paid")
    fr.event("item.out_of_stock", sku="S", alternatives=[])
    cancel = text(fr.presses("cancel_order").outbox[0])
    assert re.search(r"\d{1,2}(er)? (novembre|décembre)", cancel)


TITLE_VARIABLES = re.compile(r"\{\{ (item_title|missing_title|choice_title|item\.title) \}\}")


@pytest.mark.parametrize(("language", "noun"), [("ru", r"(?i)товара? «"), ("fr", r"(?i)\barticle «\xa0")])
def test_russian_and_french_put_a_product_title_after_a_noun(language: str, noun: str) -> None:
    """A title is uninflected and without an article: the sentence must not lean on it."""
    for path in sorted((ROOT / "templates" / language).rglob("*.j2")):
        if path.parent.name == "agents":
            continue
        source = path.read_text(encoding="utf-8")
        for found in TITLE_VARIABLES.finditer(source):
            before = source[: found.start()]
            in_brackets = before.endswith("(")
            assert in_brackets or re.search(noun + r"$", before), f"{path}: {source[found.start() - 30 : found.end()]}"
