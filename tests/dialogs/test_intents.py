"""Accuracy and behaviour tests for the free-text intent matcher (dialogs/intents.py)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from dialogs.intent_report import (
    HELD_OUT,
    REGENERATE,
    TRAINING_FILES,
    Evaluation,
    build_report,
    evaluate,
    load_examples,
)
from dialogs.intents import LANGUAGES, Intent, detect_language, match_intent, mentions_escalation_words

# reading all 3,800 labelled messages (the model asked where the rules are unsure) takes ~30 s, more on a busy CI
pytestmark = pytest.mark.timeout(600)
ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "tests" / "data" / "intents.jsonl"
HELDOUT3 = ROOT / "tests" / "data" / "intents_heldout3.jsonl"
HELDOUT4 = ROOT / "tests" / "data" / "intents_heldout4.jsonl"
HELDOUT5 = ROOT / "tests" / "data" / "intents_heldout5.jsonl"
HELDOUT6 = ROOT / "tests" / "data" / "intents_heldout6.jsonl"
HELDOUT7 = ROOT / "tests" / "data" / "intents_heldout7.jsonl"
HELDOUT8 = ROOT / "tests" / "data" / "intents_heldout8.jsonl"
ALL_FILES = sorted((ROOT / "tests" / "data").glob("intents*.jsonl"))
DOC = ROOT / "docs" / "intents.md"

# Floors a few points under what docs/intents.md measures (the rules with the model's second opinion; a
# training message is left out of its own neighbours); a matcher that regresses fails here.
MIN_TRAINING = 0.955  # measured 0.966 (language given and detected)
MIN_TRAINING_LONG = 0.94  # 7+ words, measured 0.955
MIN_PER_LANGUAGE = 0.945  # worst language measured in docs/intents.md
MIN_OLD_HELDOUT = 0.92  # split heldout2 (67), measured 0.955
MIN_NEW_HELDOUT = 0.93  # tests/data/intents_heldout3.jsonl (225), measured 0.947 (the rules alone 0.898)
MIN_NEW_HELDOUT_LONG = 0.91  # its 149 messages of 7+ words, measured 0.933
MIN_OFF_TOPIC_KEPT = 0.88  # its 35 spam / off-topic messages kept unknown, measured 0.914
MIN_HELDOUT4 = 0.96  # tests/data/intents_heldout4.jsonl (200), measured 0.990
MIN_HELDOUT4_LONG = 0.96  # its 164 messages of 7+ words, measured 0.988
MIN_HELDOUT4_OFF_TOPIC = 0.93  # its 30 spam / off-topic messages kept unknown, measured 0.967
# heldout5-8: written by independent authors who never read the matcher or its data; measured (overall, 7+ words,
# off-topic kept unknown): heldout5 0.963 / 0.957 / 0.943, heldout6 0.960 / 0.953 / 0.967, heldout7 0.943 / 0.929 /
# 0.900, heldout8 (measured once, at the end) 0.957 / 0.955 / 0.933
MIN_INDEPENDENT = {
    "heldout5": (0.94, 0.93, 0.9),
    "heldout6": (0.94, 0.93, 0.9),
    "heldout7": (0.92, 0.9, 0.85),
    "heldout8": (0.93, 0.93, 0.88),
}
MIN_DETECTION = 0.95


@cache
def _all() -> Evaluation:
    return evaluate([e for path in ALL_FILES for e in load_examples(path)])


def _split(*names: str) -> Evaluation:
    return _all().subset(lambda e: e.split in names)


def _training() -> Evaluation:
    return _all().subset(lambda e: e.split not in HELD_OUT)


def test_dataset_covers_every_intent_in_every_language():
    examples = load_examples(DATASET)
    assert len(examples) >= 900
    per_language = Counter(e.language for e in examples)
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= 150
    pairs = {(e.language, e.intent) for e in examples}
    missing = [(lang, i.value) for lang in LANGUAGES for i in Intent if (lang, i) not in pairs]
    assert not missing


def test_the_new_held_out_split_covers_every_language_and_the_failure_kinds():
    held = load_examples(HELDOUT3)
    assert {e.split for e in held} == {"heldout3"} and len(held) >= 200
    per_language = Counter(e.language for e in held)
    assert set(per_language) == set(LANGUAGES) and min(per_language.values()) >= 40
    assert sum(e.long for e in held) >= 100
    assert {lang for lang in LANGUAGES if any(e.language == lang and e.intent is Intent.UNKNOWN for e in held)} == set(
        LANGUAGES
    )
    training = {e.text for e in load_examples(DATASET)}
    assert not [e.text for e in held if len(e.text.split()) >= 3 and e.text in training]  # not trained on


def test_accuracy_on_the_training_set():
    ev = _training()
    assert ev.accuracy(ev.given) >= MIN_TRAINING
    assert ev.accuracy(ev.detected) >= MIN_TRAINING
    long = ev.subset(lambda e: e.long)
    assert long.accuracy(long.given) >= MIN_TRAINING_LONG


@pytest.mark.parametrize("language", LANGUAGES)
def test_accuracy_per_language(language):
    ev = _training()
    assert ev.accuracy(ev.given, language) >= MIN_PER_LANGUAGE
    assert ev.accuracy(ev.detected, language) >= MIN_PER_LANGUAGE


def test_accuracy_on_the_old_held_out_split():
    ev = _split("heldout2")
    assert len(ev.examples) >= 50
    assert ev.accuracy(ev.given) >= MIN_OLD_HELDOUT


def test_accuracy_on_the_new_held_out_split():
    ev = _split("heldout3")
    long = ev.subset(lambda e: e.long)
    assert ev.accuracy(ev.given) >= MIN_NEW_HELDOUT
    assert long.accuracy(long.given) >= MIN_NEW_HELDOUT_LONG
    kept, count = ev.off_topic_kept()
    assert count >= 25 and kept >= MIN_OFF_TOPIC_KEPT


def test_accuracy_on_the_fourth_held_out_split():
    held = load_examples(HELDOUT4)
    assert {e.split for e in held} == {"heldout4"} and len(held) >= 200
    assert min(Counter(e.language for e in held).values()) >= 40
    training = {e.text for e in load_examples(DATASET)}
    assert not [e.text for e in held if len(e.text.split()) >= 3 and e.text in training]  # not trained on
    ev = _split("heldout4")
    long = ev.subset(lambda e: e.long)
    assert ev.accuracy(ev.given) >= MIN_HELDOUT4
    assert long.accuracy(long.given) >= MIN_HELDOUT4_LONG
    kept, count = ev.off_topic_kept()
    assert count >= 25 and kept >= MIN_HELDOUT4_OFF_TOPIC


@pytest.mark.parametrize(
    ("split", "path"),
    [("heldout5", HELDOUT5), ("heldout6", HELDOUT6), ("heldout7", HELDOUT7), ("heldout8", HELDOUT8)],
)
def test_accuracy_on_the_independent_held_out_splits(split, path):
    held = load_examples(path)
    assert {e.split for e in held} == {split} and len(held) >= 300
    assert Counter(e.language for e in held) == {lang: 60 for lang in LANGUAGES}
    training = {e.text for p in TRAINING_FILES for e in load_examples(ROOT / p)}
    # independent authors do meet on short ones ("merci beaucoup !"); a long one in both would be a copy
    assert not [e.text for e in held if e.long and e.text in training]
    ev = _split(split)
    long = ev.subset(lambda e: e.long)
    overall, long_floor, off_topic = MIN_INDEPENDENT[split]
    assert ev.accuracy(ev.given) >= overall
    assert long.accuracy(long.given) >= long_floor
    kept, count = ev.off_topic_kept()
    assert count >= 25 and kept >= off_topic


def test_language_detection_on_longer_messages():
    accuracy, count = _all().detection_accuracy()
    assert count >= 100
    assert accuracy >= MIN_DETECTION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("да", "ru"),
        ("где моя посылка", "ru"),
        ("¿cómo puedo pagar?", "es"),
        ("não chegou ainda", "pt"),
        ("ça marche pas", "fr"),
        ("where is my order please", "en"),
        ("ok", None),
        ("no", None),
        ("👍", None),
        ("", None),
        ("12345", None),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("not paid yet", "en"),
        ("i havent paid", "en"),
        ("я не оплатил еще", "ru"),
        ("no he pagado", "es"),
        ("ainda nao paguei", "pt"),
        ("je n'ai pas encore payé", "fr"),
    ],
)
def test_negated_payment_is_not_paid_already(text, language):
    assert match_intent(text, language).intent != Intent.PAID_ALREADY


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("it doesn't work", "en"),
        ("не работает", "ru"),
        ("no funciona", "es"),
        ("não funciona", "pt"),
        ("ça ne marche pas", "fr"),
        ("no, it doesnt turn on", "en"),
    ],
)
def test_negated_verbs_are_not_working_not_no(text, language):
    assert match_intent(text, language).intent == Intent.NOT_WORKING


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("yes", "en", Intent.YES),
        ("Yes!!", None, Intent.YES),
        ("👍", "en", Intent.YES),
        ("nope", "en", Intent.NO),
        ("нет, спасибо", "ru", Intent.NO),
        ("no, asi esta bien", "es", Intent.NO),
        ("yes please cancel it", "en", Intent.CANCEL),
        ("sim, mas o produto chegou quebrado", "pt", Intent.NOT_WORKING),
        ("not sure", "en", Intent.STILL_DECIDING),
        ("hi, how do i pay?", "en", Intent.HOW_TO_PAY),
    ],
)
def test_yes_no_only_for_short_answers(text, language, expected):
    assert match_intent(text, language).intent == expected


ESCALATION_CASES = {
    "en": [
        "I want a REFUND",
        "this is a scam!!",
        "opening a dispute",
        "ill do a chargeback",
        "calling the police",
        "my lawyer will contact you",
        "fraudulent seller",
    ],
    "ru": [
        "хочу возврат денег",
        "вы мошенники",
        "открою спор",
        "мошеничество какое-то",
        "пойду в полицию",
        "обращусь к юристу",
        "верните деньги",
    ],
    "es": [
        "quiero un reembolso",
        "esto es una estafa",
        "voy a abrir una disputa",
        "llamare a la policia",
        "hablare con mi abogado",
        "son unos estafadores",
    ],
    "pt": [
        "quero o reembolso",
        "isso é golpe",
        "é fraude",
        "vou abrir uma disputa",
        "vou chamar a policia",
        "vou falar com meu advogado",
    ],
    "fr": [
        "je veux un remboursement",
        "c'est une arnaque",
        "j'ouvre un litige",
        "vous êtes des escrocs",
        "j'appelle la police",
        "mon avocat va vous contacter",
    ],
}


@pytest.mark.parametrize(("language", "text"), [(k, t) for k, v in ESCALATION_CASES.items() for t in v])
def test_escalation_words(language, text):
    assert mentions_escalation_words(text), (language, text)


@pytest.mark.parametrize(
    "text",
    [
        "where is my order",
        "спортивный костюм не подошел",
        "спасибо",
        "gracias",
        "obrigado pela ajuda",
        "merci",
        "I already paid",
        "",
        "the price is high",
    ],
)
def test_no_escalation_for_ordinary_messages(text):
    assert not mentions_escalation_words(text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("what's the weather in paris", "en"),
        ("my cat is cute", None),
        ("какая погода в москве", "ru"),
        ("me gusta la pizza", "es"),
        ("adoro ir a praia", "pt"),
        ("j'aime le fromage", "fr"),
        ("asdfgh", None),
        ("🙂🙂", None),
        ("", "en"),
        ("   ", None),
    ],
)
def test_off_topic_is_unknown(text, language):
    result = match_intent(text, language)
    assert result.intent == Intent.UNKNOWN
    assert result.confidence == 0.0


def test_match_reports_language_and_bounded_confidence():
    given = match_intent("where is my parcel", "en")
    assert given.intent == Intent.WHERE_IS_ORDER and given.language == "en"
    assert 0.0 < given.confidence <= 1.0
    detected = match_intent("¿dónde está mi pedido?")
    assert detected.intent == Intent.WHERE_IS_ORDER and detected.language == "es"
    assert match_intent("hola", "es-MX").language == "es"
    assert match_intent("ok", "de").language is None


def test_docs_report_is_in_sync():
    fresh = build_report(*ALL_FILES)
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == fresh, f"docs/intents.md is stale; regenerate with: {REGENERATE}"
