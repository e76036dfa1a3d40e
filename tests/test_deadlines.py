"""Deadlines under the Algemene termijnenwet, on real calendar dates.

Every expected date below was checked against the calendar (``date.weekday()``); the weekday is
written next to it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest

from portal import deadlines
from portal.deadlines import (
    add_period,
    add_working_days,
    extend_by_days,
    is_working_day,
    public_holidays,
)

D = date

# The law's set (art. 3 Atw), including Easter Sunday and Whit Sunday, which are Sundays anyway.
ATW_2025 = {
    D(2025, 1, 1),  # Wed Nieuwjaarsdag
    D(2025, 4, 18),  # Fri Goede Vrijdag
    D(2025, 4, 20),  # Sun Eerste Paasdag
    D(2025, 4, 21),  # Mon Tweede Paasdag
    D(2025, 4, 26),  # Sat Koningsdag (27 April 2025 is a Sunday)
    D(2025, 5, 5),  # Mon Bevrijdingsdag
    D(2025, 5, 29),  # Thu Hemelvaartsdag
    D(2025, 5, 30),  # Fri gelijkgesteld (art. 3 lid 3)
    D(2025, 6, 8),  # Sun Eerste Pinksterdag
    D(2025, 6, 9),  # Mon Tweede Pinksterdag
    D(2025, 12, 25),  # Thu Eerste Kerstdag
    D(2025, 12, 26),  # Fri Tweede Kerstdag
}
ATW_2026 = {
    D(2026, 1, 1),  # Thu Nieuwjaarsdag
    D(2026, 1, 2),  # Fri gelijkgesteld (art. 3 lid 3)
    D(2026, 4, 3),  # Fri Goede Vrijdag
    D(2026, 4, 5),  # Sun Eerste Paasdag
    D(2026, 4, 6),  # Mon Tweede Paasdag
    D(2026, 4, 27),  # Mon Koningsdag
    D(2026, 5, 5),  # Tue Bevrijdingsdag (every year, not only lustrum years)
    D(2026, 5, 14),  # Thu Hemelvaartsdag
    D(2026, 5, 15),  # Fri gelijkgesteld (art. 3 lid 3)
    D(2026, 5, 24),  # Sun Eerste Pinksterdag
    D(2026, 5, 25),  # Mon Tweede Pinksterdag
    D(2026, 12, 25),  # Fri Eerste Kerstdag
    D(2026, 12, 26),  # Sat Tweede Kerstdag
}


@pytest.mark.parametrize(("year", "expected"), [(2025, ATW_2025), (2026, ATW_2026)])
def test_public_holidays_are_exactly_the_atw_days(year: int, expected: set[date]) -> None:
    days = public_holidays(year)
    assert set(days) == expected
    assert all(isinstance(name, str) and name for name in days.values())


def test_named_days() -> None:
    days_2025, days_2026 = public_holidays(2025), public_holidays(2026)
    assert days_2025[D(2025, 4, 26)] == "Koningsdag"
    assert days_2025[D(2025, 5, 5)] == "Bevrijdingsdag"
    assert days_2026[D(2026, 5, 5)] == "Bevrijdingsdag"
    assert "art. 3 lid 3" in days_2026[D(2026, 5, 15)]


@pytest.mark.parametrize("year", range(2024, 2032))
def test_liberation_day_every_year(year: int) -> None:
    assert D(year, 5, 5) in public_holidays(year)


@pytest.mark.parametrize(
    ("year", "kings_day"),
    [
        (2025, D(2025, 4, 26)),  # 27 April is a Sunday -> Saturday 26 April
        (2026, D(2026, 4, 27)),  # Mon
        (2031, D(2031, 4, 26)),  # 27 April is a Sunday -> Saturday 26 April
    ],
)
def test_kings_day(year: int, kings_day: date) -> None:
    days = public_holidays(year)
    assert days[kings_day] == "Koningsdag"
    assert [d for d, name in days.items() if name == "Koningsdag"] == [kings_day]


def test_public_holidays_returns_a_copy() -> None:
    public_holidays(2026).clear()
    assert not is_working_day(D(2026, 12, 25))
    assert len(public_holidays(2026)) == len(ATW_2026)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 3, 4), True),  # Wed
        (D(2026, 3, 7), False),  # Sat
        (D(2026, 3, 8), False),  # Sun
        (D(2026, 4, 3), False),  # Fri Goede Vrijdag
        (D(2025, 4, 28), True),  # Mon after Koningsdag on Saturday 26 April 2025: an ordinary day
        (D(2026, 5, 4), True),  # Mon, Dodenherdenking is not a feestdag
        (D(2026, 5, 5), False),  # Tue Bevrijdingsdag
        (D(2026, 5, 15), False),  # Fri after Hemelvaartsdag, gelijkgesteld
        (D(2029, 5, 5), False),  # Sat
        (D(2027, 5, 5), False),  # Wed Bevrijdingsdag
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


# (raw end of the period, expected deadline): the period is added to a start date chosen so
# that the plain addition lands on the raw end.
LANDINGS = [
    pytest.param(D(2026, 4, 28), D(2026, 4, 28), id="plain Tuesday stays"),
    pytest.param(D(2026, 2, 21), D(2026, 2, 23), id="Saturday -> Monday"),
    pytest.param(D(2026, 2, 22), D(2026, 2, 23), id="Sunday -> Monday"),
    # Christmas and New Year
    pytest.param(D(2025, 12, 25), D(2025, 12, 29), id="Thu 25 Dec 2025 -> Mon 29 Dec"),
    pytest.param(D(2025, 12, 26), D(2025, 12, 29), id="Fri 26 Dec 2025 -> Mon 29 Dec"),
    pytest.param(D(2026, 12, 25), D(2026, 12, 28), id="Fri 25 Dec 2026 -> Mon 28 Dec"),
    pytest.param(D(2026, 12, 26), D(2026, 12, 28), id="Sat 26 Dec 2026 -> Mon 28 Dec"),
    pytest.param(D(2024, 12, 25), D(2024, 12, 30), id="Wed 25 Dec 2024 -> Mon 30 Dec"),
    pytest.param(D(2025, 1, 1), D(2025, 1, 2), id="Wed 1 Jan 2025 -> Thu 2 Jan"),
    pytest.param(
        D(2026, 1, 1), D(2026, 1, 5), id="Thu 1 Jan 2026 -> Mon 5 Jan (2 Jan gelijkgesteld)"
    ),
    # Easter
    pytest.param(D(2026, 4, 3), D(2026, 4, 7), id="Goede Vrijdag 2026 -> Tue 7 Apr"),
    pytest.param(D(2026, 4, 6), D(2026, 4, 7), id="Tweede Paasdag 2026 -> Tue 7 Apr"),
    pytest.param(D(2027, 3, 26), D(2027, 3, 30), id="Goede Vrijdag 2027 -> Tue 30 Mar"),
    pytest.param(D(2027, 3, 29), D(2027, 3, 30), id="Tweede Paasdag 2027 -> Tue 30 Mar"),
    # Koningsdag
    pytest.param(D(2026, 4, 27), D(2026, 4, 28), id="Koningsdag Mon 27 Apr 2026 -> Tue 28 Apr"),
    pytest.param(D(2025, 4, 26), D(2025, 4, 28), id="Koningsdag Sat 26 Apr 2025 -> Mon 28 Apr"),
    pytest.param(D(2031, 4, 26), D(2031, 4, 28), id="Koningsdag Sat 26 Apr 2031 -> Mon 28 Apr"),
    # Hemelvaartsdag (the Friday after is gelijkgesteld) and Pinksteren
    pytest.param(D(2026, 5, 14), D(2026, 5, 18), id="Hemelvaartsdag 2026 -> Mon 18 May"),
    pytest.param(D(2026, 5, 15), D(2026, 5, 18), id="Fri 15 May 2026 gelijkgesteld -> Mon 18 May"),
    pytest.param(D(2026, 5, 25), D(2026, 5, 26), id="Tweede Pinksterdag 2026 -> Tue 26 May"),
    # Bevrijdingsdag, every year
    pytest.param(D(2025, 5, 5), D(2025, 5, 6), id="Mon 5 May 2025 -> Tue 6 May"),
    pytest.param(D(2026, 5, 5), D(2026, 5, 6), id="Tue 5 May 2026 -> Wed 6 May"),
    pytest.param(D(2030, 5, 5), D(2030, 5, 6), id="Sun 5 May 2030 -> Mon 6 May"),
    pytest.param(D(2027, 5, 5), D(2027, 5, 10), id="Wed 5 May 2027 -> Mon 10 May (Hemelvaart)"),
]


@pytest.mark.parametrize(("raw_end", "expected"), LANDINGS)
@pytest.mark.parametrize("weeks", [6, 8])
def test_add_period_weeks(raw_end: date, expected: date, weeks: int) -> None:
    assert add_period(raw_end - timedelta(weeks=weeks), weeks=weeks) == expected


@pytest.mark.parametrize(("raw_end", "expected"), LANDINGS)
def test_add_period_days(raw_end: date, expected: date) -> None:
    assert add_period(raw_end - timedelta(days=14), days=14) == expected


@pytest.mark.parametrize(
    ("start", "weeks", "days", "expected"),
    [
        (D(2026, 3, 3), 8, 0, D(2026, 4, 28)),  # Tue + 8 weeks = Tue 28 April
        (D(2026, 3, 2), 8, 0, D(2026, 4, 28)),  # Mon + 8 weeks = Koningsdag -> Tue 28 April
        (D(2026, 3, 2), 1, 3, D(2026, 3, 12)),  # Mon + 10 days = Thu 12 March
        (D(2026, 3, 4), 0, 0, D(2026, 3, 4)),  # empty period on a Wednesday
        (D(2026, 3, 7), 0, 0, D(2026, 3, 9)),  # empty period on a Saturday -> Monday
    ],
)
def test_add_period_examples(start: date, weeks: int, days: int, expected: date) -> None:
    assert add_period(start, weeks=weeks, days=days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Art. 2: a period of three days or more must hold two working days.
        (D(2025, 12, 24), 3, D(2025, 12, 30)),  # Wed; 25, 26, 27 are no working days -> Tue 30
        (D(2026, 4, 2), 3, D(2026, 4, 8)),  # Thu; Goede Vrijdag, Sat, Sun, Tweede Paasdag -> Wed 8
        (D(2026, 3, 5), 3, D(2026, 3, 9)),  # Thu -> Sun 8 -> Mon 9 (Fri 6 + Mon 9: two days)
        # Shorter than three days: only art. 1.
        (D(2025, 12, 24), 2, D(2025, 12, 29)),  # Wed -> Fri 26 Dec -> Mon 29
        (D(2026, 4, 2), 1, D(2026, 4, 7)),  # Thu -> Goede Vrijdag -> Tue 7
    ],
)
def test_add_period_short_periods(start: date, days: int, expected: date) -> None:
    assert add_period(start, days=days) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 3, 4), 2, D(2026, 3, 6)),  # Wed -> Fri
        (D(2026, 3, 6), 2, D(2026, 3, 10)),  # Fri -> over the weekend -> Tue
        (D(2026, 3, 7), 1, D(2026, 3, 9)),  # Sat -> Mon
        (D(2026, 4, 2), 2, D(2026, 4, 8)),  # Thu -> over Easter -> Wed 8 April
        (D(2026, 5, 13), 1, D(2026, 5, 18)),  # Wed -> over Hemelvaart + Friday -> Mon 18 May
        (D(2026, 12, 24), 2, D(2026, 12, 29)),  # Thu -> over Christmas -> Tue 29 Dec
        (D(2026, 3, 7), 0, D(2026, 3, 7)),  # zero: start unchanged
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("deadline", "days", "expected"),
    [
        (D(2026, 4, 28), 14, D(2026, 5, 12)),  # Tue + 14 = Tue 12 May
        (D(2026, 4, 24), 3, D(2026, 4, 28)),  # Fri + 3 = Koningsdag -> Tue 28 April
        (D(2026, 5, 1), 4, D(2026, 5, 6)),  # Fri + 4 = Bevrijdingsdag -> Wed 6 May
        (D(2026, 12, 22), 3, D(2026, 12, 28)),  # Tue + 3 = Fri 25 Dec -> Mon 28 Dec
        (D(2026, 4, 28), 0, D(2026, 4, 28)),
    ],
)
def test_extend_by_days(deadline: date, days: int, expected: date) -> None:
    assert extend_by_days(deadline, days) == expected


def test_extend_by_days_does_not_apply_art_2() -> None:
    # Suspending a deadline of Wed 24 Dec 2025 by 3 days ends on Sat 27 Dec -> Mon 29 Dec;
    # add_period would make it Tue 30 Dec (art. 2), which is not the rule for Awb 4:15.
    assert extend_by_days(D(2025, 12, 24), 3) == D(2025, 12, 29)


def test_invalid_input() -> None:
    with pytest.raises(ValueError):
        add_period(D(2026, 3, 3), weeks=-1)
    with pytest.raises(ValueError):
        add_period(D(2026, 3, 3), days=-1)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 3), -1)
    with pytest.raises(ValueError):
        extend_by_days(D(2026, 3, 3), -1)
    with pytest.raises(TypeError):
        add_period(datetime(2026, 3, 3, 12, 0), weeks=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        is_working_day("2026-03-03")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        public_holidays(2013)


def test_gelijkgestelde_dagen_cover_known_years() -> None:
    years = {d.year for d in deadlines.GELIJKGESTELDE_DAGEN}
    assert max(years) == deadlines.GELIJKSTELLING_BEKEND_TOT_EN_MET
    assert all(d.weekday() < 5 for d in deadlines.GELIJKGESTELDE_DAGEN)  # Mon-Fri: no typos


def test_warns_for_years_without_known_gelijkstelling(caplog: pytest.LogCaptureFixture) -> None:
    deadlines._holidays_for.cache_clear()
    year = deadlines.GELIJKSTELLING_BEKEND_TOT_EN_MET + 1
    with caplog.at_level(logging.WARNING, logger="portal.deadlines"):
        public_holidays(year)
        public_holidays(year)  # cached: warned once
    assert [r.getMessage() for r in caplog.records].count(
        f"Atw: no Besluit gelijkstelling known for {year}; days designated under art. 3 lid 3 "
        "are missing. Update portal.deadlines.GELIJKGESTELDE_DAGEN."
    ) == 1
