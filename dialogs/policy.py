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
    #: an ordinary follow-up never comes sooner than this after the last message
    min_gap: timedelta = timedelta(hours=4)
    #: durations of every other dialog, by `<dialog>.<name>` (filled by later dialogs)
    timings: dict[str, timedelta] = field(default_factory=dict)
    #: anything else the file holds, for dialogs and channels to read
    raw: dict[str, Any] = field(default_factory=dict)

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
    if "low_stock_threshold" in data:
        values["low_stock_threshold"] = int(data["low_stock_threshold"])
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
