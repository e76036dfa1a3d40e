"""The database keeps the number of applications per district and state (migration 0010), for the
work queue's counts per status: every insert, change of state or district, and delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from portal.applications.models import Application, ApplicationCount
from portal.districts.models import District
from portal.extensions import db


def kept() -> dict[tuple[int, str], int]:
    rows = db.session.execute(
        select(ApplicationCount.district_id, ApplicationCount.state, ApplicationCount.total)
    )
    return {(district, state): total for district, state, total in rows if total}


def counted() -> dict[tuple[int, str], int]:
    rows = db.session.execute(
        select(Application.district_id, Application.state, func.count()).group_by(
            Application.district_id, Application.state
        )
    )
    return {(district, state): total for district, state, total in rows}


def test_the_counts_follow_the_applications(database: Any, factory: Any) -> None:
    assert kept() == counted()  # the demo data, counted by the migration and the triggers
    resident = factory.user()
    other = db.session.scalar(select(District).where(District.id != resident.district_id))
    created = [
        Application(
            applicant_id=resident.id,
            district_id=resident.district_id,
            creation_key=f"counts-{n}",
            title=f"Telling {n}",
            kaders=[],
            state="draft",
        )
        for n in range(4)
    ]
    db.session.add_all(created)
    db.session.flush()
    assert kept() == counted()

    created[0].state = "submitted"
    created[1].title = "Alleen de titel"  # no change of state: nothing to count
    db.session.flush()
    assert kept() == counted()

    db.session.execute(
        update(Application)
        .where(Application.id.in_([a.id for a in created[1:3]]))
        .values(state="in_review", district_id=other.id)
    )
    assert kept() == counted()

    gone = [created[2].id, created[3].id]
    db.session.execute(delete(Application).where(Application.id.in_(gone)))
    assert kept() == counted()
