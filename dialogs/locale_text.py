"""Amounts, numbers and dates written the way the buyer's locale writes them,
through Babel's CLDR data (decimal comma, month names, where the currency
sign goes). The locale is the buyer's language in the buyer's country."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, match_skeleton
from babel.languages import get_official_languages
from babel.numbers import format_currency, format_decimal, format_percent

from dialogs.model import supported_language

#: the written forms of a plain date (day and month) and of a weekday with it
_DAY_MONTH = "MMMMd"
_WEEKDAY_DAY_MONTH = "MMMMEEEEd"


@lru_cache(maxsize=512)
def buyer_locale(language: str | None, country: str | None = None) -> Locale:
    """`ru` + `KZ` -> ru_KZ, `en` + `US` -> en_US: the country's own way when the
    language is spoken there; otherwise the language's own default (`es` + `US`
    -> es, `pt` -> pt_BR), for English the international day-month, 24-hour
    way (`en` + `ES`, or no country -> en_GB); a language we don't write in -> English."""
    lang = supported_language(language) or "en"
    region = str(country or "").strip().upper()
    if len(region) == 2 and region.isalpha() and lang in get_official_languages(region, de_facto=True):
        try:
            return Locale.parse(f"{lang}_{region}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse("en_GB" if lang == "en" else lang)


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def money(value: object, currency: str, locale: Locale) -> str:
    """12.5 USD -> "$12.50" (en_US), "12,50 $US" (fr), "12,50 $" (ru), "US$ 12,50" (pt)."""
    return format_currency(_amount(value), currency or "USD", locale=locale)


def number(value: object, locale: Locale) -> str:
    """4.8 -> "4.8" / "4,8"; 1500 -> "1,500" / "1 500"."""
    return format_decimal(_amount(value), locale=locale)


def percent(value: object, locale: Locale) -> str:
    """3 -> "3%" (en, pt), "3 %" (fr, ru, es: CLDR's spacing)."""
    return format_percent(_amount(value) / 100, locale=locale)


@lru_cache(maxsize=64)
def _pattern(locale: Locale, skeleton: str) -> str:
    """CLDR's pattern for a skeleton, the weekday (if any) written out in full."""
    best = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    pattern = str(locale.datetime_skeletons.get(best, best))
    return re.sub(r"E+|c+", "EEEE", pattern) if "E" in skeleton else pattern


def date_text(day: date, locale: Locale) -> str:
    """Day and month: "24 November" (en_GB), "November 24" (en_US), "24 ноября",
    "24 de noviembre", "1er décembre" (French writes the first of a month so)."""
    text = format_date(day, _pattern(locale, _DAY_MONTH), locale=locale)
    if locale.language == "fr" and day.day == 1:
        text = re.sub(r"(?<!\d)1(?=\s)", "1er", text, count=1)
    return text


def time_text(at: datetime, tz: ZoneInfo, locale: Locale) -> str:
    """A moment in `tz` with its weekday: "Monday 24 November, 09:00",
    "понедельник, 24 ноября, 09:00", "Monday, November 24, 9:00 AM"."""
    local = at.astimezone(tz)
    day = format_date(local.date(), _pattern(locale, _WEEKDAY_DAY_MONTH), locale=locale)
    if locale.language == "fr" and local.day == 1:
        day = re.sub(r"(?<!\d)1(?=\s)", "1er", day, count=1)
    clock = format_time(local.time(), "short", locale=locale)
    joined = str(locale.datetime_formats.get("medium", "{1}, {0}"))
    return joined.replace("{1}", day).replace("{0}", clock)
