"""The buyer-facing templates in every language: the same files and button keys
as English, every template renders (all branches) with the variables the
dialogs pass, fits the channel limits, treats buyer text as data, falls back
to English, and is actually translated."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import meta

from bot.rendering import Renderer
from dialogs.calendar import local_date_text, local_time_text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
EN = "en"
LANGUAGES = ("ru", "es", "pt", "fr")
TEXT_LIMIT = 4096  # Telegram message, WhatsApp text message
BUTTONS_BODY_LIMIT = 1024  # WhatsApp interactive message body
LABEL_LIMIT = 20  # WhatsApp reply button title
CHANNELS = ("telegram", "whatsapp")
STATUSES = ("placed", "paid", "shipped", "at_customs", "awaiting_pickup", "delivered", "cancelled", "unknown")
#: staff-facing folders (the agents' desk): rendered in the team's language, not the buyer's;
#: translations there are optional
STAFF_FOLDERS = ("agents",)
INJECTIONS = ("{{ 7*7 }}", "{% raw %}", "{{ buyer_name }}{% if 1 %}x{% endif %}", "{# hi #}")

renderer = Renderer(TEMPLATES)


def template_files(language: str) -> set[str]:
    """Paths like `common/start_help.whatsapp.j2`, relative to the language folder."""
    folder = TEMPLATES / language
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.j2")}


def split_name(path: str) -> tuple[str, str]:
    """`common/start_help.whatsapp.j2` -> (`common/start_help`, `whatsapp`)."""
    stem = path.removesuffix(".j2")
    name, _, channel = stem.partition(".")
    return name, channel


def labels(language: str) -> dict[str, str]:
    return tomllib.loads((TEMPLATES / language / "buttons.toml").read_text(encoding="utf-8"))


def variables(language: str, path: str) -> set[str]:
    source = (TEMPLATES / language / path).read_text(encoding="utf-8")
    return meta.find_undeclared_variables(renderer.env.parse(source))


def templates_with_buttons() -> set[str]:
    """Templates the dialogs send with quick replies (`say("t", [..])`, `reply("t", "b")`)."""
    found: set[str] = set()
    for source in (ROOT / "dialogs").glob("*.py"):
        code = source.read_text(encoding="utf-8")
        found.update(re.findall(r"\bsay\(\s*\"([^\"]+)\",\s*(?!\w+=)(?!\*\*)\S", code))
        found.update(re.findall(r"\breply\(\s*\"([^\"]+)\",\s*\"", code))
    return found


def buyer_facing(paths: set[str]) -> set[str]:
    return {p for p in paths if p.split("/", 1)[0] not in STAFF_FOLDERS}


WITH_BUTTONS = templates_with_buttons()
EN_FILES = sorted(buyer_facing(template_files(EN)))


def sample(language: str) -> dict[str, Any]:
    """One generous context: every variable any template uses, dates in the buyer's words."""
    day = date(2025, 11, 24)
    return {
        # Turn.base_context()
        "buyer_name": "Ana",
        "order_id": "8123456789012345",
        "item_title": "Wireless earbuds X2",
        "item_url": "https://example.com/p/earbuds",
        "total": "$25.00",
        "currency": "USD",
        # common
        "text": "Hello, your parcel left today.",
        "author": "agent",
        "team_away": False,
        "back_at": local_time_text(datetime(2025, 11, 24, 6, 0, tzinfo=UTC), ZoneInfo("UTC"), language),
        "locked": False,
        "attempts_left": 2,
        "retry_minutes": 60,
        "via": "telegram",
        # order_status()
        "status": "shipped",
        "carrier": "Cainiao",
        "tracking_number": "LP00123456789CN",
        "tracking_url": "https://global.cainiao.com/detail.htm?mailNoList=LP00123456789CN",
        "eta": local_date_text(day, language),
        "office": "Post office 12, Main St 5",
        "deadline": local_date_text(date(2025, 12, 1), language),
        "updates_by": local_date_text(date(2025, 11, 26), language),
        "slow": False,
        "duties": True,
        "declaration": True,
        "late": False,
        "kind": "device",
        "buyer_pays": False,
        "free_returns": 5,
        "seasonal": True,
        "days": 15,
        "window_end": local_date_text(date(2025, 12, 9), language),
        # device_video
        "need_video": True,
        "need_photo": True,
        "bad_link": False,
        "damaged": False,
        # common/status_update (dialogs/held.py): the open question folded in, if any
        "pending": "",
        # unpaid/last_call: when the platform would close the unpaid order
        "closes_on": local_date_text(date(2025, 12, 14), language),
        # out_of_stock
        "missing_title": "Wireless earbuds X2 (black)",
        "alternatives": [
            {
                "title": "Wireless earbuds X2 (white)",
                "url": "https://example.com/p/x2w",
                "price": "$25.00",
                "kind": "same",
                "difference": "$0.00",
                "covered": "",
                "buyer_pays": "",
            },
            {
                "title": "Wireless earbuds X3",
                "url": "https://example.com/p/x3",
                "price": "$27.00",
                "kind": "covered",
                "difference": "$2.00",
                "covered": "$2.00",
                "buyer_pays": "$0.00",
            },
            {
                "title": "Earbuds Lite",
                "url": "https://example.com/p/lite",
                "price": "$19.00",
                "kind": "cheaper",
                "difference": "$6.00",
                "covered": "",
                "buyer_pays": "",
            },
        ],
        "no_extra_cost": True,
        "difference": "$2.00",
        "items": [{"title": "Wireless earbuds X2", "qty": 2, "price": "$12.50"}],
        "choice_title": "Wireless earbuds X3",
        "business_days": 7,
        "refund_date": local_date_text(date(2025, 12, 3), language),
        # unpaid
        "promotion": "Double 11",
        "stock_left": 3,
        "praise": "rating",
        "rating": "4.8",
        "large_order": True,
        "quantity": 12,
        "percent": "5%",
        "capped": False,
        "discount": "$1.25",
        "new_total": "$23.75",
        "help_url": "https://sale.aliexpress.com/pay-help.htm",
        # common/person_soon
        "until": "Monday 24 November, 18:00",
    }


#: in a variant: the dialog does not pass this variable at all
ABSENT = object()

#: the branches worth rendering, per template (the sample context is always one of them)
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "common/order_status": [
        *({"status": s} for s in STATUSES),
        {"status": "shipped", "tracking_url": "", "eta": ""},
        {"status": "shipped", "tracking_number": "", "carrier": "", "tracking_url": "", "eta": ""},
        {"status": "at_customs", "tracking_url": ""},
        {"status": "awaiting_pickup", "deadline": ""},
    ],
    "common/handoff": [{"team_away": True}, {"team_away": False, "back_at": ""}],
    "common/binding_failed": [
        {"locked": True, "attempts_left": 0},
        {"locked": True, "attempts_left": 0, "retry_minutes": 1},
        {"locked": False, "attempts_left": 1},
        {"locked": False, "attempts_left": 0},
        {"locked": True, "attempts_left": ABSENT, "retry_minutes": ABSENT},  # Telegram passes only `locked`
        {"locked": False, "attempts_left": ABSENT, "retry_minutes": ABSENT},
    ],
    "common/welcome_bound": [{"buyer_name": ""}],
    "common/link_pending": [{"status": s} for s in STATUSES],
    "device_video/missing": [
        {"need_video": v, "need_photo": p, "bad_link": b, "damaged": d}
        for v in (True, False)
        for p in (True, False)
        for b in (True, False)
        for d in (True, False)
        if (v or p or b) and not (d and v)
    ],
    "device_video/thanks_evidence": [{"damaged": True}],
    "common/status_update": [
        {"pending": "device_video/ask_damage_photos"},
        {"pending": "out_of_stock/apology"},
        {"status": "delivered", "pending": "shipping/how_did_it_go"},
    ],
    "out_of_stock/apology": [
        {"alternatives": [], "no_extra_cost": False},
        {
            "alternatives": [
                {
                    "title": "Earbuds Lite",
                    "url": "",
                    "price": "",
                    "kind": "unknown",
                    "difference": "",
                    "covered": "",
                    "buyer_pays": "",
                }
            ],
            "no_extra_cost": False,
        },
        {
            "alternatives": [
                {
                    "title": "Earbuds Pro",
                    "url": "",
                    "price": "$40.00",
                    "kind": "extra",
                    "difference": "$15.00",
                    "covered": "$5.00",
                    "buyer_pays": "$10.00",
                }
            ],
            "no_extra_cost": False,
        },
    ],
    "out_of_stock/alternative_chosen": [
        {"kind": "same"},
        {"kind": "cheaper"},
        {"kind": "extra", "buyer_pays": "$10.00"},
    ],
    "shipping/transit_update": [{"late": True}, {"tracking_url": ""}],
    "shipping/transit_late": [{"carrier": ""}, {"eta": ""}],
    "shipping/return_shipping": [{"buyer_pays": True}],
    "common/aftersales_closed": [{"seasonal": False, "days": 90}],
    "unpaid/confirmation": [
        {"buyer_name": ""},
        {"items": [{"title": "Lamp", "qty": 1, "price": "$5.00"}, {"title": "Cable", "qty": 3, "price": "$1.00"}]},
    ],
    "unpaid/offer": [{"capped": True}],
    "unpaid/pay_later": [{"stock_left": None}, {"stock_left": 1}],
    "pickup/reminder": [{"deadline": ""}],
    "shipping/at_customs": [
        {"slow": True},
        {"slow": False, "tracking_url": ""},
        {"duties": False, "declaration": False},
        {"duties": True, "declaration": False},
    ],
    "shipping/how_did_it_go": [{"buyer_name": ""}, {"kind": "clothing"}, {"kind": "other"}],
    "shipping/shipped": [{"tracking_url": "", "eta": ""}],
    "unpaid/nudge": [
        {"promotion": pr, "stock_left": st, "praise": praise, "large_order": large}
        for pr in ("Double 11", None)
        for st in (3, 1, None)
        for praise in ("best_seller", "rating", "")
        for large in (True, False)
    ],
    "unpaid/payment_help": [{"buyer_name": ""}],
}


def render(path: str, language: str, **overrides: Any) -> str:
    name, channel = split_name(path)
    context = {k: v for k, v in {**sample(language), **overrides}.items() if v is not ABSENT}
    return renderer.text(name, language, context, channel)


def renders(path: str, language: str) -> list[str]:
    name, _ = split_name(path)
    return [render(path, language), *(render(path, language, **v) for v in VARIANTS.get(name, []))]


def has_literal_text(path: str) -> bool:
    """Whether the English template says anything itself (not just `{{ text }}`)."""
    source = (TEMPLATES / EN / path).read_text(encoding="utf-8")
    return bool(re.search(r"[A-Za-z]", re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", "", source, flags=re.S)))


# (1) the same files and keys everywhere ------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_english_template_exists_and_nothing_else(language: str) -> None:
    ours, english = template_files(language), set(EN_FILES)
    assert sorted(english - ours) == [], f"{language}: missing translations"
    assert sorted(ours - template_files(EN)) == [], f"{language}: stray templates English does not have"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_stray_files_in_language_folder(language: str) -> None:
    folder = TEMPLATES / language
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files - template_files(EN) == {"buttons.toml", "webchat.toml"}


def _flat(data: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = str(value)
    return flat


@pytest.mark.parametrize("language", LANGUAGES)
def test_web_chat_page_words_are_all_translated_with_the_same_placeholders(language: str) -> None:
    def words(lang: str) -> dict[str, str]:
        return _flat(tomllib.loads((TEMPLATES / lang / "webchat.toml").read_text(encoding="utf-8")))

    ours, english = words(language), words(EN)
    assert sorted(ours) == sorted(english)
    for key, text in english.items():
        assert set(re.findall(r"{\w+}", ours[key])) == set(re.findall(r"{\w+}", text)), (language, key)
        if language != EN and len(text) > 12:
            assert ours[key] != text, f"{language}: {key} is still in English"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_button_key_exists_and_nothing_else(language: str) -> None:
    assert sorted(labels(language)) == sorted(labels(EN))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", EN_FILES)
def test_translation_uses_the_same_variables_as_english(language: str, path: str) -> None:
    assert variables(language, path) == variables(EN, path)


def test_sample_context_covers_every_variable() -> None:
    used = set().union(*(variables(language, path) for language in (EN, *LANGUAGES) for path in EN_FILES))
    assert used - set(sample(EN)) == set()


def test_order_status_variants_cover_every_status_in_the_template() -> None:
    source = (TEMPLATES / EN / "common/order_status.j2").read_text(encoding="utf-8")
    mentioned = set(re.findall(r'"(\w+)"', source))
    assert mentioned <= set(STATUSES)


def test_buttons_scan_finds_the_dialog_messages() -> None:
    assert {"unpaid/payment_help", "unpaid/pay_later", "out_of_stock/apology"} <= WITH_BUTTONS
    assert "common/order_status" not in WITH_BUTTONS
    assert "common/agent_message" not in WITH_BUTTONS


# (2) + (3) every branch renders and fits ------------------------------------


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
@pytest.mark.parametrize("path", EN_FILES)
def test_renders_every_branch_within_channel_limits(language: str, path: str) -> None:
    name, _ = split_name(path)
    limit = BUTTONS_BODY_LIMIT if name in WITH_BUTTONS else TEXT_LIMIT
    for text in renders(path, language):
        assert text.strip(), f"{language}/{path} rendered empty"
        assert len(text) <= limit, f"{language}/{path}: {len(text)} > {limit}"
        assert "\n\n\n" not in text, f"{language}/{path}: stray blank lines"
        assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("path", [p for p in EN_FILES if not split_name(p)[1]])
def test_renders_on_every_channel(language: str, channel: str, path: str) -> None:
    name, _ = split_name(path)
    text = renderer.text(name, language, sample(language), channel)
    assert 0 < len(text) <= TEXT_LIMIT


# (4) button labels ----------------------------------------------------------


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
def test_button_labels_fit_whatsapp(language: str) -> None:
    too_long = {k: (v, len(v)) for k, v in labels(language).items() if len(v) > LABEL_LIMIT}
    assert too_long == {}


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
def test_button_labels_are_plain_non_empty_text(language: str) -> None:
    for action, label in labels(language).items():
        assert label.strip() == label and label, f"{language}: {action}"
        assert renderer.label(action, language) == label


# (5) buyer text is data -----------------------------------------------------


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
@pytest.mark.parametrize("value", INJECTIONS)
def test_buyer_typed_values_come_out_literally(language: str, value: str) -> None:
    assert renderer.text("common/agent_message", language, {**sample(language), "text": value}) == value
    for name in ("common/welcome_bound", "shipping/how_did_it_go", "unpaid/payment_help"):
        text = renderer.text(name, language, {**sample(language), "buyer_name": value})
        assert value in text
        assert "49" not in text


# (6) fallback ---------------------------------------------------------------


@pytest.mark.parametrize("language", ("de", "zh-CN", "xx", ""))
def test_unknown_language_falls_back_to_english(language: str) -> None:
    for path in EN_FILES:
        name, channel = split_name(path)
        context = sample(EN)
        assert renderer.text(name, language, context, channel) == renderer.text(name, EN, context, channel)
    for action, label in labels(EN).items():
        assert renderer.label(action, language) == label


@pytest.mark.parametrize("language", LANGUAGES)
def test_regional_variants_use_the_language(language: str) -> None:
    context = sample(language)
    region = {"ru": "ru-RU", "es": "es_MX", "pt": "pt-BR", "fr": "FR-ca"}[language]
    assert renderer.text("common/greeting", region, context) == renderer.text("common/greeting", language, context)


# (7) no leftover English ----------------------------------------------------

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@pytest.mark.parametrize("path", [p for p in EN_FILES if has_literal_text(p)])
def test_russian_is_russian(path: str) -> None:
    for text in renders(path, "ru"):
        assert CYRILLIC.search(text), f"ru/{path} has no Cyrillic: {text!r}"


@pytest.mark.parametrize("language", ("es", "pt", "fr"))
@pytest.mark.parametrize("path", [p for p in EN_FILES if has_literal_text(p)])
def test_latin_languages_differ_from_english(language: str, path: str) -> None:
    for ours, english in zip(renders(path, language), renders(path, EN), strict=True):
        assert ours != english, f"{language}/{path} renders exactly like English"


@pytest.mark.parametrize("language", LANGUAGES)
def test_button_labels_are_translated(language: str) -> None:
    english = labels(EN)
    for action, label in labels(language).items():
        assert label != english[action], f"{language}: {action} is still English"
        if language == "ru":
            assert CYRILLIC.search(label), f"ru: {action}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancellation_reason_keeps_the_english_label(language: str) -> None:
    text = render("out_of_stock/how_to_cancel.j2", language)
    assert "(Buyer ordered wrong product)" in text


URL = re.compile(r"https?://[^\s()]+")


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
@pytest.mark.parametrize("path", EN_FILES)
def test_links_stand_apart_from_the_text(language: str, path: str) -> None:
    """A link glued to the next word (a lost newline) breaks it in every chat app."""
    known = {v for v in sample(language).values() if isinstance(v, str) and v.startswith("http")}
    known |= {alt["url"] for alt in sample(language)["alternatives"]}
    for text in renders(path, language):
        for link in URL.findall(text):
            assert link.rstrip(".,;:!?") in known, f"{language}/{path}: {link!r}"


@pytest.mark.parametrize("language", (EN, *LANGUAGES))
@pytest.mark.parametrize(("via", "name"), [("telegram", "Telegram"), ("whatsapp", "WhatsApp")])
def test_link_request_names_the_platform_as_buyers_know_it(language: str, via: str, name: str) -> None:
    """The buyer reads "another Telegram chat", not the channel's internal id."""
    text = render("common/link_requested.j2", language, via=via)
    assert name in text and via not in text
