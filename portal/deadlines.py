"""Deadlines (termijnen) under the Algemene termijnenwet (Atw) and the Awb.

This module is the one place where the portal computes a deadline. All functions are pure and work
on :class:`datetime.date` only (no times, no time zones; use ``timeutil.local_today()`` to get
"today" in Europe/Amsterdam before calling them).

The Atw rules applied
---------------------

* Art. 1 lid 1: a period that ends on a Saturday, a Sunday or an "algemeen erkende feestdag" is
  extended to the next day that is none of these.
* Art. 2: a period of at least three days is extended, if needed, until it contains at least two
  days that are not a Saturday, Sunday or algemeen erkende feestdag (the start day does not count).
  This only matters for short periods around long weekends; for periods of a week or more it never
  changes the result.
* Art. 1 lid 2: the Atw does not apply to periods counted backwards; :func:`add_period` therefore
  only accepts non-negative periods.

The days (art. 3 Atw)
---------------------

* Lid 1: Nieuwjaarsdag, tweede Paasdag, tweede Pinksterdag, both Kerstdagen, Hemelvaartsdag, the
  day on which the King's birthday is celebrated (Koningsdag: 27 April, or Saturday 26 April when
  the 27th is a Sunday) and **"de vijfde mei"** (Bevrijdingsdag).
* Lid 2: Goede Vrijdag is put on equal footing.
* Lid 3: the Crown can designate further days by Besluit published in the Staatscourant
  ("gelijkgestelde dagen", in practice the Friday after Hemelvaartsdag and some bridge days,
  decided about three years ahead). These are listed in :data:`GELIJKGESTELDE_DAGEN`.
* Eerste Paasdag and Eerste Pinksterdag are not named in the Atw because they are Sundays; they are
  included in :func:`public_holidays` for completeness and change nothing.

Bevrijdingsdag counts EVERY year, not only in lustrum years. The "once every five years"
(2025, 2030, ...) rule is a matter of collective labour agreements (CAO's) and of who gets a day
off; it is not in the Atw. Art. 3 lid 1 names "de vijfde mei" without condition (added to the
Atw in 1982). Treating 5 May as an ordinary day in, e.g., 2026 would end an objection period
(Awb 6:7) one day earlier than the law allows, so it would turn away an objection filed on time.

Source and corrections
----------------------

The moveable feasts and most fixed days come from the ``holidays`` package
(``holidays.country_holidays("NL", language="nl")``, public category). Checked against
holidays 0.109 for 2024-2031, that data differs from the Atw as follows, and we correct it
explicitly here:

* Bevrijdingsdag is only in the public category in lustrum years (the package notes the CAO
  practice); we add 5 May for every year.
* Koningsdag on 26 April (when 27 April is a Sunday, e.g. 2025 and 2031) is modelled by the
  package as an "observed" move: with ``observed=False`` it stays on Sunday the 27th. We set
  Koningsdag ourselves so the result does not depend on that flag.
* The package has no art. 3 lid 3 days; we add :data:`GELIJKGESTELDE_DAGEN`.
* Goede Vrijdag is in the package's public category (holidays 0.109); the tests pin the full set
  for 2025 and 2026 so a package upgrade that changes this is caught.

Scope note for callers: the Atw applies to periods set in a formal law or AMvB (e.g. Awb 4:13
beslistermijn, Awb 6:7 bezwaartermijn), not to periods of more than three months / twelve weeks /
ninety days (art. 4). Whether a given portal period falls under the Atw is a choice of the caller;
these functions always apply it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Final

import holidays

__all__ = [
    "GELIJKGESTELDE_DAGEN",
    "GELIJKSTELLING_BEKEND_TOT_EN_MET",
    "add_period",
    "add_working_days",
    "extend_by_days",
    "is_working_day",
    "public_holidays",
]

log = logging.getLogger(__name__)

_SATURDAY: Final = 5
_SUNDAY: Final = 6
_FIRST_SUPPORTED_YEAR: Final = 2014  # Koningsdag (27 April) replaced Koninginnedag in 2014

_GELIJKGESTELD = "Met feestdag gelijkgestelde dag (art. 3 lid 3 Atw)"

#: Days designated under art. 3 lid 3 Atw ("gelijkgesteld met een algemeen erkende feestdag").
#: Sources: "Besluit gelijkstelling van 28 april 2023, 19 mei 2023, 10 mei 2024, 27 december 2024
#: en 30 mei 2025 met een algemeen erkende feestdag" and "Besluit gelijkstelling van 2 januari
#: 2026, 15 mei 2026, 7 mei 2027, 28 april 2028 en 26 mei 2028 met een algemeen erkende
#: feestdag" (Staatscourant). When the Besluit for 2029 and later is published, add its days here
#: and raise GELIJKSTELLING_BEKEND_TOT_EN_MET.
GELIJKGESTELDE_DAGEN: Final[frozenset[date]] = frozenset(
    {
        date(2023, 4, 28),
        date(2023, 5, 19),
        date(2024, 5, 10),
        date(2024, 12, 27),
        date(2025, 5, 30),
        date(2026, 1, 2),
        date(2026, 5, 15),
        date(2027, 5, 7),
        date(2028, 4, 28),
        date(2028, 5, 26),
    }
)

#: Last year for which GELIJKGESTELDE_DAGEN is known to be complete.
GELIJKSTELLING_BEKEND_TOT_EN_MET: Final = 2028


def _check_date(value: date, name: str) -> None:
    # datetime is a subclass of date; mixing them in would silently give datetimes back.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")


@cache
def _holidays_for(year: int) -> MappingProxyType[date, str]:
    """The Atw days of one year, read-only, computed once per year."""
    if year < _FIRST_SUPPORTED_YEAR:
        raise ValueError(f"deadlines are only supported from {_FIRST_SUPPORTED_YEAR}, not {year}")
    if year > GELIJKSTELLING_BEKEND_TOT_EN_MET:
        log.warning(
            "Atw: no Besluit gelijkstelling known for %s; days designated under art. 3 lid 3 "
            "are missing. Update portal.deadlines.GELIJKGESTELDE_DAGEN.",
            year,
        )

    days: dict[date, str] = dict(holidays.country_holidays("NL", years=year, language="nl"))

    # Koningsdag: 27 April, or Saturday 26 April when the 27th is a Sunday.
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == _SUNDAY:
        days.pop(kings_day, None)
        kings_day = date(year, 4, 26)
    days[kings_day] = "Koningsdag"

    # Bevrijdingsdag: every year under art. 3 lid 1 (the package has it in lustrum years only).
    days[date(year, 5, 5)] = "Bevrijdingsdag"

    # Art. 3 lid 3: designated days.
    for day in GELIJKGESTELDE_DAGEN:
        if day.year == year:
            days[day] = _GELIJKGESTELD

    return MappingProxyType(dict(sorted(days.items())))


def public_holidays(year: int) -> dict[date, str]:
    """Return the days of ``year`` that count as "algemeen erkende feestdag" under the Atw.

    Maps each date to a Dutch name. Includes Goede Vrijdag (art. 3 lid 2), Bevrijdingsdag every
    year, and the days designated under art. 3 lid 3 (see :data:`GELIJKGESTELDE_DAGEN`). The
    result is a fresh dict (the underlying data is cached per year). Raises ``ValueError`` for
    years before 2014.
    """
    return dict(_holidays_for(year))


def is_working_day(d: date) -> bool:
    """Return True if ``d`` is not a Saturday, Sunday or Atw feestdag (:func:`public_holidays`)."""
    _check_date(d, "d")
    return d.weekday() not in (_SATURDAY, _SUNDAY) and d not in _holidays_for(d.year)


def _next_working_day(d: date) -> date:
    """``d`` itself if it is a working day, else the first working day after it (Atw art. 1)."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def add_period(start: date, *, weeks: int = 0, days: int = 0) -> date:
    """Return the last day of a period of ``weeks`` + ``days`` that runs from ``start``.

    The period is added to ``start`` (the day of the event, e.g. the day the decision was sent;
    counting begins the day after), so 8 weeks from Tuesday 3 March 2026 is Tuesday 28 April 2026.
    Then the Atw is applied: a period of three days or more is extended until it holds two working
    days (art. 2), and an end on a Saturday, Sunday or feestdag moves to the next working day
    (art. 1). Raises ``ValueError`` for a negative period: the Atw does not apply to periods
    counted backwards.
    """
    _check_date(start, "start")
    if weeks < 0 or days < 0:
        raise ValueError("a period cannot be negative")
    length = timedelta(weeks=weeks, days=days)
    end = start + length
    if length.days >= 3:
        working = sum(is_working_day(start + timedelta(days=i)) for i in range(1, length.days + 1))
        while working < 2:
            end += timedelta(days=1)
            working += is_working_day(end)
    return _next_working_day(end)


def add_working_days(start: date, n: int) -> date:
    """Return the day that is ``n`` working days after ``start``.

    Working days are days that are not a Saturday, Sunday or Atw feestdag (:func:`is_working_day`);
    ``start`` itself is not counted. "Within 2 working days" of Friday 6 March 2026 is Tuesday
    10 March 2026. ``n == 0`` returns ``start`` unchanged. Raises ``ValueError`` if ``n`` is
    negative.
    """
    _check_date(start, "start")
    if n < 0:
        raise ValueError("n cannot be negative")
    d = start
    while n:
        d += timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def extend_by_days(deadline: date, days: int) -> date:
    """Move a deadline ``days`` calendar days later, e.g. for suspension under Awb 4:15.

    The decision period is extended by the number of days it was suspended; the Atw rule is
    applied to the resulting final date (Saturday, Sunday or feestdag moves to the next working
    day). Art. 2 is not applied to the suspension itself: it is not a period of its own. Raises
    ``ValueError`` if ``days`` is negative.
    """
    _check_date(deadline, "deadline")
    if days < 0:
        raise ValueError("days cannot be negative")
    return _next_working_day(deadline + timedelta(days=days))


def decision_deadline(
    received: date, *, weeks: int, suspended_days: int = 0, extension_weeks: int = 0
) -> date:
    """Return the last day to decide on an application received on ``received``.

    The beslistermijn of ``weeks`` (Awb 4:13) runs from the day after receipt. Days during which
    the applicant was asked to supply information do not count (Awb 4:15: from the day after the
    request up to the day the answer came or the period for it ran out), and the period may be
    extended once by ``extension_weeks`` (Awb 4:14). The Atw applies once, to the end of the whole
    period: a final day on a Saturday, Sunday or feestdag moves to the next working day.
    """
    if suspended_days < 0 or extension_weeks < 0:
        raise ValueError("a suspension or extension cannot be negative")
    return add_period(received, weeks=weeks + extension_weeks, days=suspended_days)
