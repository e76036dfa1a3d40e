"""The only way money moves: one append-only ``LedgerEntry`` per movement.

The database applies each entry to its district budget (a trigger) and refuses one that would
spend more than was allocated (the check constraint ``never_overspent``). So a grant that no
longer fits is refused by the database itself, also when many decisions race each other: each
entry is inserted in a savepoint, and a refusal leaves everything else as it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.applications.models import Application
from portal.districts.models import DistrictBudget
from portal.extensions import db
from portal.money.models import LedgerEntry


class BudgetExceeded(Exception):
    """The district's budget of that year cannot carry this (subsidieplafond, Awb 4:25)."""


class NoBudget(BudgetExceeded):
    """The district has no budget for that year."""


def budget(district_id: int, year: int) -> DistrictBudget | None:
    return db.session.scalar(
        select(DistrictBudget).where(
            DistrictBudget.district_id == district_id, DistrictBudget.year == year
        )
    )


def post(
    target: DistrictBudget,
    kind: str,
    *,
    application: Application | None = None,
    actor: Any = None,
    description: str = "",
    allocated: int = 0,
    committed: int = 0,
    paid: int = 0,
    recovered: int = 0,
) -> LedgerEntry:
    """Record one movement; raises :class:`BudgetExceeded` when the database refuses it."""
    entry = LedgerEntry(
        budget_id=target.id,
        application_id=application.id if application is not None else None,
        kind=kind,
        allocated_delta=allocated,
        committed_delta=committed,
        paid_delta=paid,
        recovered_delta=recovered,
        description=description,
        actor_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError as error:
        raise BudgetExceeded(kind) from error
    # The trigger changed the budget's totals in the database: read them again when used.
    db.session.expire(target)
    return entry


def allocate(target: DistrictBudget, total_cents: int, actor: Any, note: str = "") -> LedgerEntry:
    """Set the year's allocation to ``total_cents`` (an entry for the difference). Lowering it
    below what is committed and paid is refused."""
    db.session.refresh(target)
    return post(
        target,
        "allocation",
        actor=actor,
        description=note or "Budget vastgesteld",
        allocated=total_cents - target.allocated_cents,
    )


def commit_grant(application: Application, amount_cents: int, year: int, actor: Any) -> None:
    """A grant commits its amount against the district's budget of the year of the decision."""
    target = budget(application.district_id, year)
    if target is None:
        raise NoBudget(year)
    post(
        target,
        "commitment",
        application=application,
        actor=actor,
        description=f"Toekenning {application.reference}",
        committed=amount_cents,
    )


def release(application: Application, amount_cents: int, year: int, actor: Any, why: str) -> None:
    """Committed money that will not be paid goes back to the budget."""
    target = budget(application.district_id, year)
    if target is None or not amount_cents:
        return
    post(
        target,
        "release",
        application=application,
        actor=actor,
        description=why,
        committed=-amount_cents,
    )


def entries_total(target: DistrictBudget) -> dict[str, int]:
    """The sums of the entries: what the budget's totals must equal."""
    from sqlalchemy import func

    row = db.session.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.allocated_delta), 0),
            func.coalesce(func.sum(LedgerEntry.committed_delta), 0),
            func.coalesce(func.sum(LedgerEntry.paid_delta), 0),
            func.coalesce(func.sum(LedgerEntry.recovered_delta), 0),
        ).where(LedgerEntry.budget_id == target.id)
    ).one()
    return dict(zip(("allocated", "committed", "paid", "recovered"), map(int, row), strict=True))


def pay(application: Application, amount_cents: int, year: int, actor: Any, why: str) -> None:
    """Committed money goes out to the applicant."""
    target = budget(application.district_id, year)
    if target is None:
        raise NoBudget(year)
    post(
        target,
        "payment",
        application=application,
        actor=actor,
        description=why,
        committed=-amount_cents,
        paid=amount_cents,
    )


def recover(application: Application, amount_cents: int, year: int, actor: Any, why: str) -> None:
    """Money paid but not spent came back (terugvordering, Awb 4:57)."""
    target = budget(application.district_id, year)
    if target is None:
        raise NoBudget(year)
    post(
        target,
        "recovery",
        application=application,
        actor=actor,
        description=why,
        recovered=amount_cents,
    )
