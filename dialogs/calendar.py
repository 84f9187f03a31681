"""Pure time and calendar rules: buyer time zones, quiet hours, business days,
seller working hours, localized date texts and yearly promotion periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

from dialogs.locale_text import buyer_locale, date_text, time_text

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(9, 0)
SEARCH_DAYS = 60  # how far working-hour searches look ahead/behind (long CN holiday runs are ~9 days)

_UTC_ZONE = ZoneInfo("UTC")

# ISO-3166 alpha-2 -> representative (most populous) IANA zone.
COUNTRY_ZONES: dict[str, str] = {
    # Americas
    "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago",
    "CO": "America/Bogota", "PE": "America/Lima", "VE": "America/Caracas", "EC": "America/Guayaquil",
    "UY": "America/Montevideo", "PY": "America/Asuncion", "BO": "America/La_Paz",
    "CR": "America/Costa_Rica", "PA": "America/Panama", "GT": "America/Guatemala",
    "DO": "America/Santo_Domingo", "CU": "America/Havana", "PR": "America/Puerto_Rico",
    # Europe
    "ES": "Europe/Madrid", "PT": "Europe/Lisbon", "FR": "Europe/Paris", "BE": "Europe/Brussels",
    "CH": "Europe/Zurich", "DE": "Europe/Berlin", "IT": "Europe/Rome", "NL": "Europe/Amsterdam",
    "LU": "Europe/Luxembourg", "AT": "Europe/Vienna", "PL": "Europe/Warsaw", "CZ": "Europe/Prague",
    "SK": "Europe/Bratislava", "HU": "Europe/Budapest", "RO": "Europe/Bucharest", "BG": "Europe/Sofia",
    "GR": "Europe/Athens", "RS": "Europe/Belgrade", "HR": "Europe/Zagreb", "SI": "Europe/Ljubljana",
    "SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
    "EE": "Europe/Tallinn", "LV": "Europe/Riga", "LT": "Europe/Vilnius", "GB": "Europe/London",
    "IE": "Europe/Dublin", "UA": "Europe/Kyiv", "BY": "Europe/Minsk", "MD": "Europe/Chisinau",
    "RU": "Europe/Moscow", "TR": "Europe/Istanbul",
    # Asia / Middle East
    "KZ": "Asia/Almaty", "UZ": "Asia/Tashkent", "KG": "Asia/Bishkek", "GE": "Asia/Tbilisi",
    "AM": "Asia/Yerevan", "AZ": "Asia/Baku", "IL": "Asia/Jerusalem", "SA": "Asia/Riyadh",
    "AE": "Asia/Dubai", "QA": "Asia/Qatar", "KW": "Asia/Kuwait", "JO": "Asia/Amman",
    "LB": "Asia/Beirut", "IN": "Asia/Kolkata", "PK": "Asia/Karachi", "BD": "Asia/Dhaka",
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul", "SG": "Asia/Singapore", "MY": "Asia/Kuala_Lumpur", "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh", "ID": "Asia/Jakarta", "PH": "Asia/Manila",
    # Oceania
    "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
    # Africa
    "MA": "Africa/Casablanca", "DZ": "Africa/Algiers", "TN": "Africa/Tunis", "SN": "Africa/Dakar",
    "CI": "Africa/Abidjan", "NG": "Africa/Lagos", "ZA": "Africa/Johannesburg", "EG": "Africa/Cairo",
    "KE": "Africa/Nairobi", "GH": "Africa/Accra", "CM": "Africa/Douala", "AO": "Africa/Luanda",
    "MZ": "Africa/Maputo",
}  # fmt: skip


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"aware datetime required, got naive {at!r}")


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


@lru_cache(maxsize=1)
def _zone_names_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _load_zone(name: str) -> ZoneInfo | None:
    name = name.strip()
    if not name:
        return None
    for candidate in (name, _zone_names_by_lower().get(name.lower())):
        if candidate is None:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


def buyer_timezone(country: str | None, explicit: str | None) -> ZoneInfo:
    """The explicit IANA zone if valid, else the country's representative zone, else UTC."""
    if explicit:
        zone = _load_zone(explicit)
        if zone is not None:
            return zone
    if country:
        name = COUNTRY_ZONES.get(country.strip().upper())
        if name is not None:
            return ZoneInfo(name)
    return _UTC_ZONE


def _resolve_local(day: date, wall: time, tz: ZoneInfo, not_before: datetime | None = None) -> datetime:
    """UTC instant of a local wall time on `day`.

    Ambiguous times (clocks going back) resolve to the first occurrence unless that is before
    `not_before`; nonexistent times (clocks going forward) resolve to just after the gap.
    """
    first = _to_utc(datetime.combine(day, wall, tzinfo=tz).replace(fold=0))
    if not_before is None or first >= not_before:
        return first
    second = _to_utc(datetime.combine(day, wall, tzinfo=tz).replace(fold=1))
    return max(second, not_before)


def postpone_for_quiet_hours(due: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> datetime:
    """`due` moved to the end of the buyer's local quiet window if it falls inside it (UTC)."""
    _require_aware(due)
    if quiet_start == quiet_end:
        return due
    local = due.astimezone(tz)
    now = local.time()
    if quiet_start < quiet_end:
        end_day = local.date() if quiet_start <= now < quiet_end else None
    elif now >= quiet_start:
        end_day = local.date() + timedelta(days=1)
    elif now < quiet_end:
        end_day = local.date()
    else:
        end_day = None
    if end_day is None:
        return due
    return _resolve_local(end_day, quiet_end, tz, not_before=_to_utc(due))


def in_quiet_hours(at: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    return postpone_for_quiet_hours(at, tz, quiet_start, quiet_end) != at


#: a message moved out of the night before a deadline goes this long before the night begins
EVENING_LEAD = timedelta(hours=1)


def advance_before_quiet_hours(
    due: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time, not_before: datetime
) -> datetime:
    """`due` moved EARLIER, into the buyer's last day-time window before it, when
    it falls in the quiet hours: an hour before the night began (never before
    that day-time window opened). When that moment has passed already
    (`not_before`), now if it is day-time, else the end of this night."""
    _require_aware(due)
    if not in_quiet_hours(due, tz, quiet_start, quiet_end):
        return due
    local = due.astimezone(tz)
    night_day = local.date() if local.time() >= quiet_start else local.date() - timedelta(days=1)
    night_begins = _resolve_local(night_day, quiet_start, tz)
    day_begins = _resolve_local(night_day if quiet_start > quiet_end else night_day - timedelta(days=1), quiet_end, tz)
    moved = max(night_begins - EVENING_LEAD, day_begins)
    if moved >= not_before:
        return moved
    if not in_quiet_hours(not_before, tz, quiet_start, quiet_end):
        return not_before
    return postpone_for_quiet_hours(not_before, tz, quiet_start, quiet_end)


@lru_cache(maxsize=512)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except (NotImplementedError, KeyError, ValueError, AttributeError):
        return frozenset()


def is_public_holiday(day: date, country: str | None) -> bool:
    """Whether `day` is a public holiday in `country` (unknown or empty country: never)."""
    code = (country or "").strip().upper()
    return bool(code) and day in _holiday_dates(code, day.year)


def is_business_day(day: date, country: str | None) -> bool:
    """Monday to Friday and not a public holiday of `country`."""
    return day.weekday() < 5 and not is_public_holiday(day, country)


def add_business_days(start: datetime, days: int, country: str | None, tz: ZoneInfo) -> date:
    """The date `days` business days after `start`'s local date (negative `days` counts back)."""
    _require_aware(start)
    current = start.astimezone(tz).date()
    step = timedelta(days=1 if days >= 0 else -1)
    remaining = abs(days)
    while remaining > 0:
        current += step
        if is_business_day(current, country):
            remaining -= 1
    return current


@dataclass(frozen=True)
class WorkingHours:
    """Seller's weekly opening hours in its own zone; closed on `holiday_country` public holidays."""

    tz: ZoneInfo
    days: frozenset[int]  # 0=Mon .. 6=Sun
    opens: time
    closes: time
    holiday_country: str | None = None

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"days must be a non-empty subset of 0..6, got {sorted(self.days)}")
        if not self.opens < self.closes:
            raise ValueError("opens must be before closes (overnight shifts are not supported)")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """UTC [open, close) of the local `day`, or None when closed all day."""
        if day.weekday() not in self.days or is_public_holiday(day, self.holiday_country):
            return None
        return _resolve_local(day, self.opens, self.tz), _resolve_local(day, self.closes, self.tz)

    def is_open(self, at: datetime) -> bool:
        _require_aware(at)
        span = self.window(at.astimezone(self.tz).date())
        return span is not None and span[0] <= at < span[1]

    def next_opening(self, at: datetime) -> datetime:
        """`at` (UTC) if open now, else the start of the next opening (UTC)."""
        if self.is_open(at):
            return at.astimezone(UTC)
        today = at.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS + 1):
            span = self.window(today + timedelta(days=offset))
            if span is not None and span[0] > at:
                return span[0]
        raise ValueError(f"no opening within {SEARCH_DAYS} days after {at.isoformat()}")

    def last_closing(self, at: datetime) -> datetime:
        """The latest closing time (UTC) at or before `at`."""
        _require_aware(at)
        today = at.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS + 1):
            span = self.window(today - timedelta(days=offset))
            if span is not None and span[1] <= at:
                return span[1]
        raise ValueError(f"no closing within {SEARCH_DAYS} days before {at.isoformat()}")

    def current_off_period(self, at: datetime) -> tuple[datetime, datetime] | None:
        """UTC (start, end) of the closed period containing `at`, None if open now."""
        if self.is_open(at):
            return None
        return self.last_closing(at), self.next_opening(at)


DEFAULT_WORKING_HOURS = WorkingHours(
    tz=ZoneInfo("Asia/Shanghai"),
    days=frozenset(range(6)),
    opens=time(9, 0),
    closes=time(18, 0),
    holiday_country="CN",
)


def local_date_text(d: date, language: str, country: str | None = None) -> str:
    """Day and month in the buyer's locale (Babel/CLDR): "November 24" (en),
    "24 November" (en_GB), "24 ноября", "24 de noviembre", "1er novembre"."""
    return date_text(d, buyer_locale(language, country))


def local_time_text(at: datetime, tz: ZoneInfo, language: str, country: str | None = None) -> str:
    """`at` in zone `tz`, with its weekday, in the buyer's locale: "Monday 24
    November, 09:00" (en_GB), "lunes, 24 de noviembre, 9:00"."""
    _require_aware(at)
    return time_text(at, tz, buyer_locale(language, country))


def _check_month_day(md: tuple[int, int]) -> None:
    month, day = md
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"invalid (month, day): {md!r}")


def in_period(at: datetime, tz: ZoneInfo, start_md: tuple[int, int], end_md: tuple[int, int]) -> bool:
    """Whether `at`'s local date lies in the yearly period start_md..end_md (inclusive, may wrap)."""
    _require_aware(at)
    _check_month_day(start_md)
    _check_month_day(end_md)
    local = at.astimezone(tz)
    md = (local.month, local.day)
    if start_md <= end_md:
        return start_md <= md <= end_md
    return md >= start_md or md <= end_md
