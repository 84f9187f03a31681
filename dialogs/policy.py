"""The seller's policy: every timing, threshold and schedule the dialogs use,
parsed and validated from a TOML file (durations like `30s`, `12h`, `2d`)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogs.experiment import control_percent

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the setting."""


def parse_duration(text: str, where: str = "duration") -> timedelta:
    cleaned = str(text).replace(" ", "").lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise PolicyError(f"{where}: {text!r} is not a duration like 30s, 12h, 2d or 1h30m")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _time(text: str, where: str) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError as exc:
        raise PolicyError(f"{where}: {text!r} is not a time like 09:00") from exc


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"{where}: {name!r} is not an IANA time zone like Asia/Shanghai") from exc


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: {value!r} is not true or false")
    return value


def _month_day(text: str, where: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(text))
    if not match or not (1 <= int(match[1]) <= 12 and 1 <= int(match[2]) <= 31):
        raise PolicyError(f"{where}: {text!r} is not a month-day like 11-11")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Promotion:
    name: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class UnpaidPolicy:
    payment_help_after: timedelta = timedelta(hours=1)
    nudge_after: timedelta = timedelta(hours=12)
    offer_after: timedelta = timedelta(hours=48)
    abandon_after: timedelta = timedelta(hours=24)
    discount_percent: Decimal = Decimal("3")
    discount_max: Decimal = Decimal("10")
    low_stock_threshold: int = 10
    payment_help_url: str = "https://sale.aliexpress.com/pay-help.htm"
    #: a buyer who answered and went quiet gets a gentle reminder this long after
    remind_after_answer: timedelta = timedelta(hours=24)
    #: when the platform closes an unpaid order by itself (from placement)
    auto_close_after: timedelta = timedelta(days=20)
    #: the offer or a last reminder this long before that
    last_call_before: timedelta = timedelta(days=1)
    #: the nudge asks to pay early when the order has at least this many pieces
    large_order_quantity: int = 10
    #: the nudge mentions the item's rating only from this many stars (of 5)
    praise_rating_from: Decimal = Decimal("4.5")


def _countries(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) and len(c) == 2 for c in value):
        raise PolicyError(f'{where}: must be a list of two-letter country codes like ["BR", "RU"]')
    return frozenset(c.upper() for c in value)


@dataclass(frozen=True)
class GuidePolicy:
    """The seller guides' rules: order confirmation, transit, buyer protection,
    disputes, customs, after-sales windows, returns, alternatives' prices."""

    confirmation: bool = False
    transit_update_after: timedelta = timedelta(days=7)
    eta_grace: timedelta = timedelta(days=1)
    protection_default: timedelta = timedelta(days=60)
    protection_by_country: dict[str, timedelta] = field(default_factory=dict)
    protection_warn_before: timedelta = timedelta(days=5)
    dispute_respond_within: timedelta = timedelta(days=5)
    customs_duties: frozenset[str] = frozenset()
    customs_declaration: frozenset[str] = frozenset()
    aftersales_window: timedelta = timedelta(days=90)
    seasonal_window: timedelta = timedelta(days=15)
    free_returns_per_month: int = 5
    refund_only_review_at: int = 3
    seller_absorbs_up_to: Decimal = Decimal("0")
    device_categories: frozenset[str] = frozenset({"devices", "device", "electronics", "gadgets"})
    clothing_categories: frozenset[str] = frozenset({"clothing", "clothes", "shoes", "apparel", "fashion"})

    def protection(self, country: str) -> timedelta:
        return self.protection_by_country.get(country.upper(), self.protection_default)


def _guides(data: dict[str, Any]) -> GuidePolicy:
    def section(name: str) -> dict[str, Any]:
        value = data.get(name, {})
        return value if isinstance(value, dict) else {}

    def duration(name: str, key: str, default: timedelta) -> timedelta:
        raw = section(name).get(key)
        return default if raw is None else parse_duration(raw, f"{name}.{key}")

    def whole(name: str, key: str, default: int) -> int:
        raw = section(name).get(key, default)
        if not isinstance(raw, int) or raw < 0:
            raise PolicyError(f"{name}.{key}: {raw!r} is not a whole number >= 0")
        return raw

    base = GuidePolicy()
    protection, products = section("buyer_protection"), section("products")
    try:
        absorbs = Decimal(str(section("out_of_stock").get("seller_absorbs_up_to", "0")))
    except InvalidOperation as exc:
        raise PolicyError('out_of_stock.seller_absorbs_up_to: not an amount like "5.00"') from exc
    return GuidePolicy(
        confirmation=bool(section("order_confirmation").get("enabled", False)),
        transit_update_after=duration("shipping", "transit_update_after", base.transit_update_after),
        eta_grace=duration("shipping", "eta_grace", base.eta_grace),
        protection_default=duration("buyer_protection", "default", base.protection_default),
        protection_by_country={
            str(c).upper(): parse_duration(v, f"buyer_protection.countries.{c}")
            for c, v in dict(protection.get("countries", {})).items()
        },
        protection_warn_before=duration("buyer_protection", "extend_before", base.protection_warn_before),
        dispute_respond_within=duration("disputes", "respond_within", base.dispute_respond_within),
        customs_duties=_countries(section("customs").get("duties", []), "customs.duties"),
        customs_declaration=_countries(section("customs").get("declaration", []), "customs.declaration"),
        aftersales_window=duration("aftersales", "window", base.aftersales_window),
        seasonal_window=duration("aftersales", "seasonal_window", base.seasonal_window),
        free_returns_per_month=whole("returns", "free_returns_per_month", base.free_returns_per_month),
        refund_only_review_at=whole("returns", "refund_only_review_at", base.refund_only_review_at),
        seller_absorbs_up_to=absorbs,
        device_categories=frozenset(str(c).lower() for c in products.get("device_categories", base.device_categories)),
        clothing_categories=frozenset(
            str(c).lower() for c in products.get("clothing_categories", base.clothing_categories)
        ),
    )


@dataclass(frozen=True)
class Policy:
    unpaid: UnpaidPolicy = field(default_factory=UnpaidPolicy)
    store_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    holiday_country: str = "CN"
    working_days: frozenset[int] = frozenset(range(6))
    opens: time = time(9)
    closes: time = time(18)
    quiet_start: time = time(21)
    quiet_end: time = time(9)
    promotions: tuple[Promotion, ...] = (Promotion("Double 11", (11, 11), (11, 18)),)
    #: event-driven buyer messages (shipped, at customs...) wait for the buyer's morning
    hold_event_messages: bool = True
    #: a follow-up step never comes sooner than this after the previous one
    min_gap: timedelta = timedelta(hours=4)
    #: durations of every other dialog, by `<dialog>.<name>` (filled by later dialogs)
    timings: dict[str, timedelta] = field(default_factory=dict)
    #: anything else the file holds, for dialogs and channels to read
    raw: dict[str, Any] = field(default_factory=dict)
    #: the seller guides' rules (see GuidePolicy)
    guides: GuidePolicy = field(default_factory=GuidePolicy)

    def timing(self, key: str, default: str) -> timedelta:
        return self.timings.get(key) or parse_duration(default, key)


def _unpaid(data: dict[str, Any]) -> UnpaidPolicy:
    base = UnpaidPolicy()
    values: dict[str, Any] = {}
    for key in ("payment_help_after", "nudge_after", "offer_after", "abandon_after", "remind_after_answer",
                "auto_close_after", "last_call_before"):  # fmt: skip
        if key in data:
            values[key] = parse_duration(data[key], f"unpaid.{key}")
    for key in ("discount_percent", "discount_max"):
        if key in data:
            try:
                values[key] = Decimal(str(data[key]))
            except InvalidOperation as exc:
                raise PolicyError(f"unpaid.{key}: {data[key]!r} is not a number") from exc
    for key in ("low_stock_threshold", "large_order_quantity"):
        if key in data:
            values[key] = int(data[key])
    if "praise_rating_from" in data:
        values["praise_rating_from"] = Decimal(str(data["praise_rating_from"]))
    if "payment_help_url" in data:
        values["payment_help_url"] = str(data["payment_help_url"])
    result = UnpaidPolicy(**{**base.__dict__, **values})
    if not result.payment_help_after < result.nudge_after < result.offer_after:
        raise PolicyError("unpaid: payment_help_after < nudge_after < offer_after must hold")
    if not result.last_call_before < result.auto_close_after:
        raise PolicyError("unpaid: last_call_before < auto_close_after must hold")
    if not Decimal(0) < result.discount_percent <= Decimal(50):
        raise PolicyError("unpaid.discount_percent: must be between 0 and 50")
    return result


def _timings(data: dict[str, Any]) -> dict[str, timedelta]:
    timings: dict[str, timedelta] = {}
    for section, values in data.items():
        if section in ("unpaid", "store", "quiet_hours", "promotions") or not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(value, str) and _DURATION.fullmatch(value.replace(" ", "").lower() or "x"):
                timings[f"{section}.{key}"] = parse_duration(value, f"{section}.{key}")
    return timings


def policy_from_dict(data: dict[str, Any]) -> Policy:
    store = data.get("store", {})
    hours = store.get("working_hours", {})
    quiet = data.get("quiet_hours", {})
    days = hours.get("days", list(_DAYS[:6]))
    unknown = [d for d in days if str(d).lower()[:3] not in _DAYS]
    if unknown:
        raise PolicyError(f"store.working_hours.days: unknown day(s) {unknown}; use mon..sun")
    promotions = tuple(
        Promotion(
            str(p.get("name", "promotion")),
            _month_day(p.get("start", ""), f"promotions[{i}].start"),
            _month_day(p.get("end", ""), f"promotions[{i}].end"),
        )
        for i, p in enumerate(data.get("promotions", [{"name": "Double 11", "start": "11-11", "end": "11-18"}]))
    )
    try:
        control_percent(data)
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    return Policy(
        unpaid=_unpaid(data.get("unpaid", {})),
        store_timezone=_zone(store.get("timezone", "Asia/Shanghai"), "store.timezone"),
        holiday_country=str(store.get("holiday_country", "CN")),
        working_days=frozenset(_DAYS.index(str(d).lower()[:3]) for d in days),
        opens=_time(hours.get("opens", "09:00"), "store.working_hours.opens"),
        closes=_time(hours.get("closes", "18:00"), "store.working_hours.closes"),
        quiet_start=_time(quiet.get("start", "21:00"), "quiet_hours.start"),
        quiet_end=_time(quiet.get("end", "09:00"), "quiet_hours.end"),
        promotions=promotions,
        hold_event_messages=_flag(quiet.get("hold_event_messages", True), "quiet_hours.hold_event_messages"),
        min_gap=parse_duration(data.get("follow_ups", {}).get("min_gap", "4h"), "follow_ups.min_gap"),
        timings=_timings(data),
        raw=data,
        guides=_guides(data),
    )


def load_policy(path: str | Path) -> Policy:
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"BUYERBOT_POLICY: no policy file at {file}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"BUYERBOT_POLICY: {file} is not valid TOML: {exc}") from exc
    return policy_from_dict(data)
