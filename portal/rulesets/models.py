"""Versioned rulesets: every rule of the verordening as data, with the date it takes effect.

An application keeps the version it was submitted under; nothing in code hard-codes a rule.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow

# The seven politiek-bestuurlijke kaders, as stable codes; their Dutch and English names live in
# the translation catalogue (see portal/rulesets/labels.py).
DEFAULT_KADERS = [
    "arbeidsparticipatie",
    "schone_hele_leefomgeving",
    "veiligheidsgevoel",
    "wijkdiensten_hulpbehoevenden",
    "duurzaam_gedrag",
    "leefbaarheid",
    "sociale_samenhang",
]

DEFAULT_EXCLUDED_CATEGORIES = [
    "winstoogmerk",
    "politiek_religieus",
    "prive_belang",
    "vergoeding_vrijwilligers",
    "alcohol",
    "structurele_kosten",
    "reguliere_taken",
]


class Ruleset(db.Model):
    __tablename__ = "rulesets"
    __table_args__ = (
        CheckConstraint("min_amount_cents > 0", name="min_amount_positive"),
        CheckConstraint("max_amount_cents >= min_amount_cents", name="amount_bounds"),
        CheckConstraint("advance_percent BETWEEN 0 AND 100", name="advance_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    notes: Mapped[str | None] = mapped_column(Text)

    # Applicant
    min_applicant_age: Mapped[int] = mapped_column(Integer, default=18)
    # Amount per application
    min_amount_cents: Mapped[int] = mapped_column(Integer, default=5_000)
    max_amount_cents: Mapped[int] = mapped_column(Integer, default=500_000)
    # Draagvlak: endorsements from other households in the same district
    min_endorsements: Mapped[int] = mapped_column(Integer, default=5)
    # Apply at least this many weeks before the activity starts
    lead_time_weeks: Mapped[int] = mapped_column(Integer, default=6)
    # Beslistermijn (Awb 4:13) and its one extension (Awb 4:14)
    decision_period_weeks: Mapped[int] = mapped_column(Integer, default=8)
    max_extension_weeks: Mapped[int] = mapped_column(Integer, default=8)
    # Aanvulling (Awb 4:5)
    info_period_days: Mapped[int] = mapped_column(Integer, default=14)
    # Council advice
    advice_period_days: Mapped[int] = mapped_column(Integer, default=21)
    small_grants_skip_advice: Mapped[bool] = mapped_column(default=True)
    # Zienswijze (Awb 4:8)
    view_period_days: Mapped[int] = mapped_column(Integer, default=14)
    # Direct vaststelling for small grants
    small_grant_limit_cents: Mapped[int] = mapped_column(Integer, default=100_000)
    advance_percent: Mapped[int] = mapped_column(Integer, default=80)
    accounting_due_weeks: Mapped[int] = mapped_column(Integer, default=8)
    # Four eyes
    four_eyes_limit_cents: Mapped[int] = mapped_column(Integer, default=250_000)
    # Bezwaar (Awb 6:7)
    objection_period_weeks: Mapped[int] = mapped_column(Integer, default=6)
    # Initiatives: check before publication within this many working days
    initiative_check_working_days: Mapped[int] = mapped_column(Integer, default=2)
    kaders: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_KADERS))
    excluded_categories: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_EXCLUDED_CATEGORIES)
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<Ruleset v{self.version} from {self.effective_from}>"
