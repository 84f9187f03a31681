"""Tests for dialogs.calendar: buyer zones, quiet hours, business days, working hours, texts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from dialogs.calendar import (
    COUNTRY_ZONES,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_WORKING_HOURS,
    WorkingHours,
    add_business_days,
    buyer_timezone,
    in_period,
    local_date_text,
    local_time_text,
    postpone_for_quiet_hours,
)

MADRID = ZoneInfo("Europe/Madrid")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MOSCOW = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def quiet(due: datetime, tz: ZoneInfo) -> datetime:
    return postpone_for_quiet_hours(due, tz, DEFAULT_QUIET_START, DEFAULT_QUIET_END)


# --- buyer_timezone ---------------------------------------------------------------------------


def test_explicit_zone_wins_over_country():
    assert buyer_timezone("US", "America/Los_Angeles") == ZoneInfo("America/Los_Angeles")


def test_explicit_zone_is_case_insensitive():
    assert buyer_timezone(None, "europe/madrid") == MADRID


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "  ", "America", "../../etc/passwd", "UTC+3"])
def test_invalid_explicit_zone_falls_back_to_country(bad):
    assert buyer_timezone("br", bad) == SAO_PAULO


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("US", "America/New_York"),
        ("BR", "America/Sao_Paulo"),
        ("RU", "Europe/Moscow"),
        ("CA", "America/Toronto"),
        ("AU", "Australia/Sydney"),
        ("MX", "America/Mexico_City"),
        ("es", "Europe/Madrid"),
        (" fr ", "Europe/Paris"),
        ("Cn", "Asia/Shanghai"),
    ],
)
def test_country_gives_most_populous_zone(country, zone):
    assert buyer_timezone(country, None) == ZoneInfo(zone)


@pytest.mark.parametrize("country", [None, "", "XX", "ZZZ"])
def test_unknown_country_is_utc(country):
    assert buyer_timezone(country, None) == ZoneInfo("UTC")


def test_all_required_countries_have_loadable_zones():
    required = {
        "US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "ES", "PT", "FR", "BE", "CH", "DE", "IT",
        "NL", "PL", "UA", "RU", "KZ", "BY", "GB", "IE", "IL", "TR", "SA", "AE", "IN", "CN", "HK",
        "TW", "JP", "KR", "AU", "NZ", "MA", "DZ", "TN", "SN", "CI", "NG", "ZA", "EG",
    }  # fmt: skip
    assert required <= set(COUNTRY_ZONES)
    for country in COUNTRY_ZONES:
        assert buyer_timezone(country, None).key == COUNTRY_ZONES[country]


# --- quiet hours --------------------------------------------------------------------------------


def test_quiet_hours_madrid_late_evening_moves_to_next_morning():
    due = local(MADRID, 2026, 1, 15, 23, 30)
    assert quiet(due, MADRID) == utc(2026, 1, 16, 8, 0)  # 09:00 CET


def test_quiet_hours_sao_paulo_evening_crossing_utc_midnight():
    due = utc(2026, 1, 15, 1, 0)  # 22:00 on the 14th in São Paulo
    assert quiet(due, SAO_PAULO) == utc(2026, 1, 15, 12, 0)  # 09:00 BRT on the 15th


def test_quiet_hours_moscow_early_morning_moves_to_same_morning():
    due = utc(2026, 1, 15, 3, 0)  # 06:00 Moscow
    assert quiet(due, MOSCOW) == utc(2026, 1, 15, 6, 0)  # 09:00 Moscow


def test_quiet_hours_new_york_summer_evening():
    due = utc(2026, 7, 1, 2, 0)  # 22:00 EDT on June 30
    result = quiet(due, NEW_YORK)
    assert result == utc(2026, 7, 1, 13, 0)
    assert result.astimezone(NEW_YORK).time() == time(9, 0)


def test_quiet_hours_result_is_utc():
    assert quiet(local(MADRID, 2026, 1, 15, 23, 30), MADRID).tzinfo == UTC


@pytest.mark.parametrize("hour", [9, 12, 20])
def test_outside_quiet_hours_due_unchanged(hour):
    due = local(MADRID, 2026, 1, 15, hour, 0)
    assert quiet(due, MADRID) is due


def test_quiet_starts_exactly_at_21():
    assert quiet(local(MOSCOW, 2026, 1, 15, 21, 0), MOSCOW) == local(MOSCOW, 2026, 1, 16, 9, 0)


def test_same_moment_quiet_for_one_buyer_not_for_another():
    due = utc(2026, 1, 15, 14, 0)  # 15:00 Madrid, 23:00 Tokyo
    assert quiet(due, MADRID) is due
    assert quiet(due, ZoneInfo("Asia/Tokyo")) == local(ZoneInfo("Asia/Tokyo"), 2026, 1, 16, 9, 0)


def test_non_wrapping_quiet_window():
    siesta = (time(13, 0), time(15, 0))
    assert postpone_for_quiet_hours(local(MADRID, 2026, 6, 1, 14, 0), MADRID, *siesta) == local(
        MADRID, 2026, 6, 1, 15, 0
    )
    outside = local(MADRID, 2026, 6, 1, 23, 0)
    assert postpone_for_quiet_hours(outside, MADRID, *siesta) is outside
    at_end = local(MADRID, 2026, 6, 1, 15, 0)
    assert postpone_for_quiet_hours(at_end, MADRID, *siesta) is at_end


def test_empty_quiet_window_means_no_quiet_hours():
    due = local(MADRID, 2026, 1, 15, 3, 0)
    assert postpone_for_quiet_hours(due, MADRID, time(21, 0), time(21, 0)) is due


def test_dst_spring_forward_night_europe():
    # 2026-03-29 is the last Sunday of March: 02:00 CET -> 03:00 CEST.
    due = local(MADRID, 2026, 3, 28, 23, 30)
    assert quiet(due, MADRID) == utc(2026, 3, 29, 7, 0)  # 09:00 CEST
    during_gap_night = utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert quiet(during_gap_night, MADRID) == utc(2026, 3, 29, 7, 0)


def test_dst_fall_back_night_europe():
    # 2026-10-25 is the last Sunday of October: 03:00 CEST -> 02:00 CET.
    due = local(MADRID, 2026, 10, 24, 23, 0)
    assert quiet(due, MADRID) == utc(2026, 10, 25, 8, 0)  # 09:00 CET
    second_two_thirty = utc(2026, 10, 25, 1, 30)  # 02:30 CET (the repeated hour)
    assert quiet(second_two_thirty, MADRID) == utc(2026, 10, 25, 8, 0)


def test_quiet_end_inside_spring_gap_lands_after_the_gap():
    due = local(MADRID, 2026, 3, 28, 23, 0)
    result = postpone_for_quiet_hours(due, MADRID, time(21, 0), time(2, 30))  # 02:30 doesn't exist
    assert result > due
    assert result.astimezone(MADRID).date() == date(2026, 3, 29)
    assert time(3, 0) <= result.astimezone(MADRID).time() <= time(3, 30)


def test_quiet_end_inside_repeated_hour_never_moves_backwards():
    second_occurrence = utc(2026, 10, 25, 1, 15)  # 02:15 CET, after the first 02:30 CEST passed
    result = postpone_for_quiet_hours(second_occurrence, MADRID, time(21, 0), time(2, 30))
    assert result == utc(2026, 10, 25, 1, 30)  # the second 02:30
    first_occurrence = utc(2026, 10, 25, 0, 15)  # 02:15 CEST
    assert postpone_for_quiet_hours(first_occurrence, MADRID, time(21, 0), time(2, 30)) == utc(2026, 10, 25, 0, 30)


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError):
        quiet(datetime(2026, 1, 15, 23, 0), MADRID)


# --- business days ------------------------------------------------------------------------------


def test_brazil_black_awareness_day_is_a_national_holiday_in_2026():
    assert date(2026, 11, 20) in holidays.country_holidays("BR", years=2026)


def test_business_days_brazil_skip_black_awareness_day_and_weekend():
    start = local(SAO_PAULO, 2026, 11, 18, 12, 0)  # Wednesday
    assert add_business_days(start, 2, "BR", SAO_PAULO) == date(2026, 11, 23)  # Thu 19, (Fri 20), Mon 23


def test_refund_within_7_business_days_brazil():
    start = local(SAO_PAULO, 2026, 11, 19, 12, 0)  # Thursday
    assert add_business_days(start, 7, "BR", SAO_PAULO) == date(2026, 12, 1)
    assert add_business_days(start, 7, None, SAO_PAULO) == date(2026, 11, 30)


def test_business_days_spain_national_day():
    assert date(2026, 10, 12) in holidays.country_holidays("ES", years=2026)
    start = local(MADRID, 2026, 10, 9, 10, 0)  # Friday; Monday 12 Oct is Fiesta Nacional
    assert add_business_days(start, 1, "ES", MADRID) == date(2026, 10, 13)


def test_business_days_france_bastille_day():
    paris = ZoneInfo("Europe/Paris")
    assert date(2026, 7, 14) in holidays.country_holidays("FR", years=2026)
    start = local(paris, 2026, 7, 13, 10, 0)  # Monday
    assert add_business_days(start, 1, "FR", paris) == date(2026, 7, 15)


def test_business_days_russia_new_year_holidays_across_year_boundary():
    ru = holidays.country_holidays("RU", years=2026)
    assert all(date(2026, 1, d) in ru for d in range(1, 10))
    assert date(2025, 12, 31) in holidays.country_holidays("RU", years=2025)  # a moved day off
    start = local(MOSCOW, 2025, 12, 30, 10, 0)  # Tuesday
    assert add_business_days(start, 1, "RU", MOSCOW) == date(2026, 1, 12)


def test_business_days_us_thanksgiving():
    assert date(2026, 11, 26) in holidays.country_holidays("US", years=2026)
    start = local(NEW_YORK, 2026, 11, 25, 10, 0)  # Wednesday
    assert add_business_days(start, 1, "US", NEW_YORK) == date(2026, 11, 27)
    assert add_business_days(start, 2, "US", NEW_YORK) == date(2026, 11, 30)


@pytest.mark.parametrize("country", ["XX", "", None, "not-a-country"])
def test_business_days_unknown_country_skips_weekends_only(country):
    start = local(SAO_PAULO, 2026, 11, 19, 10, 0)  # Thursday; 20 Nov is a BR holiday, irrelevant here
    assert add_business_days(start, 1, country, SAO_PAULO) == date(2026, 11, 20)
    assert add_business_days(start, 2, country, SAO_PAULO) == date(2026, 11, 23)


def test_business_days_country_code_case_insensitive():
    start = local(SAO_PAULO, 2026, 11, 19, 12, 0)
    assert add_business_days(start, 1, "br", SAO_PAULO) == date(2026, 11, 23)


def test_business_days_count_from_buyers_local_date():
    moment = utc(2026, 11, 19, 1, 0)  # still Wednesday 18 Nov, 22:00, in São Paulo
    assert add_business_days(moment, 1, "BR", SAO_PAULO) == date(2026, 11, 19)
    assert add_business_days(moment, 1, "BR", ZoneInfo("UTC")) == date(2026, 11, 23)


def test_zero_and_negative_business_days():
    start = local(SAO_PAULO, 2026, 11, 23, 12, 0)  # Monday
    assert add_business_days(start, 0, "BR", SAO_PAULO) == date(2026, 11, 23)
    assert add_business_days(start, -1, "BR", SAO_PAULO) == date(2026, 11, 19)


# --- working hours ------------------------------------------------------------------------------

SELLER = DEFAULT_WORKING_HOURS


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return local(SHANGHAI, year, month, day, hour, minute)


def test_seller_open_monday_morning():
    at = sh(2026, 11, 23, 10, 0)
    assert SELLER.is_open(at)
    assert SELLER.next_opening(at) == at
    assert SELLER.current_off_period(at) is None


def test_seller_open_saturday_closed_sunday():
    assert SELLER.is_open(sh(2026, 11, 21, 10, 0))
    assert not SELLER.is_open(sh(2026, 11, 22, 10, 0))


def test_seller_closed_sunday_opens_monday_nine_shanghai():
    nxt = SELLER.next_opening(sh(2026, 11, 22, 12, 0))
    assert nxt == utc(2026, 11, 23, 1, 0)
    assert nxt.tzinfo == UTC


def test_seller_opening_and_closing_edges():
    assert SELLER.is_open(sh(2026, 11, 23, 9, 0))
    assert not SELLER.is_open(sh(2026, 11, 23, 8, 59))
    assert not SELLER.is_open(sh(2026, 11, 23, 18, 0))
    assert SELLER.next_opening(sh(2026, 11, 23, 8, 0)) == sh(2026, 11, 23, 9, 0)


def test_cn_national_day_week_2026_per_holidays_package():
    cn = holidays.country_holidays("CN", years=2026)
    assert date(2026, 10, 1) in cn
    assert date(2026, 9, 30) not in cn
    assert date(2026, 10, 8) not in cn
    # Sunday 4 Oct is a plain weekend day; every other day of 1-7 Oct is a listed holiday.
    assert all(date(2026, 10, d) in cn for d in (1, 2, 3, 5, 6, 7))


def test_seller_closed_on_national_day_and_reopens_after_the_week():
    at = sh(2026, 10, 1, 10, 0)  # Thursday
    assert not SELLER.is_open(at)
    assert SELLER.next_opening(at) == sh(2026, 10, 8, 9, 0)


def test_next_opening_over_spring_festival_for_weekday_seller():
    weekdays = WorkingHours(SHANGHAI, frozenset(range(5)), time(9), time(18), "CN")
    # 2026 Spring Festival per the package: 16-20 Feb and 23 Feb off (21-22 is a weekend).
    assert weekdays.next_opening(sh(2026, 2, 16, 10, 0)) == sh(2026, 2, 24, 9, 0)


def test_next_opening_robust_over_long_closed_runs():
    mondays_only = WorkingHours(SHANGHAI, frozenset({0}), time(9), time(18), "CN")
    # Monday 16 Feb and Monday 23 Feb are both holidays -> first Monday in March.
    assert mondays_only.next_opening(sh(2026, 2, 14, 10, 0)) == sh(2026, 3, 2, 9, 0)


def test_off_period_same_night_same_start():
    evening = SELLER.current_off_period(sh(2026, 11, 23, 19, 0))
    small_hours = SELLER.current_off_period(sh(2026, 11, 24, 3, 0))
    assert evening == small_hours == (sh(2026, 11, 23, 18, 0), sh(2026, 11, 24, 9, 0))
    assert evening is not None and evening[0].tzinfo == UTC


def test_off_period_next_night_is_a_different_period():
    monday_night = SELLER.current_off_period(sh(2026, 11, 23, 19, 0))
    tuesday_night = SELLER.current_off_period(sh(2026, 11, 24, 19, 0))
    assert monday_night is not None and tuesday_night is not None
    assert monday_night[0] != tuesday_night[0]
    assert tuesday_night[0] == sh(2026, 11, 24, 18, 0)


def test_off_period_weekend_is_one_period():
    periods = {
        SELLER.current_off_period(at)
        for at in (sh(2026, 11, 21, 18, 0), sh(2026, 11, 22, 12, 0), sh(2026, 11, 23, 8, 59))
    }
    assert periods == {(sh(2026, 11, 21, 18, 0), sh(2026, 11, 23, 9, 0))}


def test_off_period_national_day_week_is_one_period():
    first = SELLER.current_off_period(sh(2026, 10, 1, 12, 0))
    later = SELLER.current_off_period(sh(2026, 10, 5, 23, 0))
    assert first == later == (sh(2026, 9, 30, 18, 0), sh(2026, 10, 8, 9, 0))


def test_working_hours_accept_any_aware_input_zone():
    at = local(MADRID, 2026, 11, 23, 3, 0)  # 10:00 Shanghai
    assert SELLER.is_open(at)


def test_working_hours_in_dst_zone_across_spring_forward():
    shop = WorkingHours(MADRID, frozenset(range(5)), time(9), time(18), "ES")
    nxt = shop.next_opening(local(MADRID, 2026, 3, 28, 12, 0))  # Saturday before DST
    assert nxt == utc(2026, 3, 30, 7, 0)  # Monday 09:00 CEST
    period = shop.current_off_period(local(MADRID, 2026, 3, 29, 2, 30))  # nonexistent local time
    assert period == (utc(2026, 3, 27, 17, 0), utc(2026, 3, 30, 7, 0))


def test_working_hours_validation():
    with pytest.raises(ValueError):
        WorkingHours(SHANGHAI, frozenset(), time(9), time(18), "CN")
    with pytest.raises(ValueError):
        WorkingHours(SHANGHAI, frozenset({7}), time(9), time(18), "CN")
    with pytest.raises(ValueError):
        WorkingHours(SHANGHAI, frozenset({0}), time(18), time(9), "CN")


def test_working_hours_unknown_holiday_country_is_weekly_schedule_only():
    shop = WorkingHours(SHANGHAI, frozenset(range(6)), time(9), time(18), "XX")
    assert shop.is_open(sh(2026, 10, 1, 10, 0))


# --- texts --------------------------------------------------------------------------------------

MONDAY_MORNING_SHANGHAI = utc(2025, 11, 24, 1, 0)  # Monday 24 November 2025, 09:00 in Shanghai


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Monday 24 November, 09:00"),
        ("ru", "понедельник, 24 ноября, 09:00"),
        ("es", "lunes, 24 de noviembre, 9:00"),
        ("pt", "segunda-feira, 24 de novembro 09:00"),
        ("fr", "lundi 24 novembre, 09:00"),
    ],
)
def test_local_time_text_five_languages(language, text):
    assert local_time_text(MONDAY_MORNING_SHANGHAI, SHANGHAI, language) == text


def test_local_time_text_uses_buyers_own_zone():
    assert local_time_text(MONDAY_MORNING_SHANGHAI, NEW_YORK, "en") == "Sunday 23 November, 20:00"
    assert local_time_text(MONDAY_MORNING_SHANGHAI, SAO_PAULO, "pt") == "domingo, 23 de novembro 22:00"


@pytest.mark.parametrize(("language", "expected"), [("de", "en"), ("", "en"), ("pt-BR", "pt"), ("RU", "ru")])
def test_local_time_text_language_fallback_and_variants(language, expected):
    assert local_time_text(MONDAY_MORNING_SHANGHAI, SHANGHAI, language) == local_time_text(
        MONDAY_MORNING_SHANGHAI, SHANGHAI, expected
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "24 November"),
        ("ru", "24 ноября"),
        ("es", "24 de noviembre"),
        ("pt", "24 de novembro"),
        ("fr", "24 novembre"),
        ("zh", "24 November"),
    ],
)
def test_local_date_text(language, text):
    assert local_date_text(date(2025, 11, 24), language) == text


def test_local_date_text_french_first_of_month_and_accents():
    assert local_date_text(date(2026, 12, 1), "fr") == "1er décembre"
    assert local_date_text(date(2026, 8, 15), "fr") == "15 août"
    assert local_date_text(date(2026, 3, 8), "pt") == "8 de março"


def test_all_month_and_weekday_names_render():
    for lang in ("en", "ru", "es", "pt", "fr"):
        days = {local_time_text(utc(2026, 1, 5, 12) + timedelta(days=i), ZoneInfo("UTC"), lang) for i in range(7)}
        months = {local_date_text(date(2026, m, 10), lang) for m in range(1, 13)}
        assert len(days) == 7 and len(months) == 12


# --- yearly periods -----------------------------------------------------------------------------

DOUBLE_11 = ((11, 11), (11, 18))


def test_double_11_starts_at_local_midnight():
    at = utc(2026, 11, 10, 16, 30)  # 00:30 on 11 Nov in Shanghai, still 10 Nov in UTC
    assert in_period(at, SHANGHAI, *DOUBLE_11)
    assert not in_period(at, ZoneInfo("UTC"), *DOUBLE_11)


def test_double_11_inclusive_end():
    assert in_period(sh(2026, 11, 18, 23, 59), SHANGHAI, *DOUBLE_11)
    assert not in_period(sh(2026, 11, 19, 0, 0), SHANGHAI, *DOUBLE_11)
    assert not in_period(sh(2026, 11, 10, 23, 59), SHANGHAI, *DOUBLE_11)


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2026, 12, 19), False),
        (date(2026, 12, 20), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), True),
        (date(2027, 1, 5), True),
        (date(2027, 1, 6), False),
        (date(2027, 6, 1), False),
    ],
)
def test_period_wrapping_new_year(day, inside):
    at = datetime(day.year, day.month, day.day, 12, 0, tzinfo=SHANGHAI)
    assert in_period(at, SHANGHAI, (12, 20), (1, 5)) is inside


def test_single_day_period_and_invalid_bounds():
    assert in_period(sh(2026, 11, 11, 8, 0), SHANGHAI, (11, 11), (11, 11))
    with pytest.raises(ValueError):
        in_period(sh(2026, 11, 11, 8, 0), SHANGHAI, (13, 1), (11, 11))


@pytest.mark.parametrize(
    ("language", "country", "text"),
    [
        ("en", "US", "November 24"),
        ("en", "GB", "24 November"),
        ("en", "ES", "24 November"),  # English is not spoken in Spain: the international way
        ("pt", "PT", "24 de novembro"),
        ("fr", "CA", "24 novembre"),
    ],
)
def test_local_date_text_follows_the_buyers_country_where_the_language_is_spoken(language, country, text):
    assert local_date_text(date(2025, 11, 24), language, country) == text


def test_local_time_text_in_the_buyers_country():
    assert local_time_text(MONDAY_MORNING_SHANGHAI, SHANGHAI, "en", "US") == "Monday, November 24, 9:00\u202fAM"
    assert local_time_text(MONDAY_MORNING_SHANGHAI, SHANGHAI, "pt", "PT") == "segunda-feira, 24 de novembro, 09:00"
