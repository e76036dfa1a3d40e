"""Which ruleset is in force."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.rulesets.models import Ruleset
from portal.timeutil import local_today


def ruleset_in_force(on: date | None = None) -> Ruleset | None:
    """The ruleset with the latest ``effective_from`` on or before ``on`` (today by default)."""
    on = on or local_today()
    return db.session.scalar(
        select(Ruleset)
        .where(Ruleset.effective_from <= on)
        .order_by(Ruleset.effective_from.desc(), Ruleset.version.desc())
        .limit(1)
    )
