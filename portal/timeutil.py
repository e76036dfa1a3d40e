"""Time is stored in UTC and shown in Europe/Amsterdam."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return datetime.now(AMSTERDAM).date()


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(AMSTERDAM)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every database: stored as naive UTC, read back as aware UTC.

    SQLite has no timezone type; storing naive UTC everywhere keeps comparisons and indexes the
    same on both databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timeutil.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
