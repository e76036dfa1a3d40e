"""The database keeps the number of published initiatives per state (migration 0012), for the
showcase's count: every insert, change of state or publication, and delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from portal.extensions import db
from portal.initiatives import showcase
from portal.initiatives.models import Initiative, InitiativeCount
from portal.timeutil import utcnow


def kept() -> dict[str, int]:
    rows = db.session.execute(select(InitiativeCount.state, InitiativeCount.total))
    return {state: total for state, total in rows if total}


def counted() -> dict[str, int]:
    rows = db.session.execute(
        select(Initiative.state, func.count())
        .where(Initiative.published_at.is_not(None))
        .group_by(Initiative.state)
    )
    return {state: total for state, total in rows}


def same() -> bool:
    """The table equals a real count, and so does the showcase's count (whole and per status)."""
    if kept() != counted():
        return False
    public = showcase.public_conditions()
    if showcase.count_public() != showcase.count_matching(public):
        return False
    return all(
        showcase.count_public(state)
        == showcase.count_matching([*public, Initiative.state == state])
        for state in showcase.PUBLIC_STATE_VALUES
    )


def test_the_counts_follow_the_initiatives(database: Any, factory: Any) -> None:
    assert same()  # the demo data, counted by the migration and the triggers
    initiator = factory.user()
    now = utcnow()
    created = [
        Initiative(
            initiator_id=initiator.id,
            creation_key=f"counts-{n}",
            slug=f"telling-{n}",
            title=f"Telling {n}",
            state="published" if n % 2 else "draft",
            published_at=now if n % 2 else None,
        )
        for n in range(6)
    ]
    db.session.add_all(created)
    db.session.flush()
    assert same()

    created[0].state = "submitted"  # a change of state of an unpublished one: not counted
    created[1].state = "running"  # published: moves from one state to the other
    created[3].title = "Alleen de titel"  # neither state nor publication: nothing to count
    created[3].support_count = 3
    db.session.flush()
    assert same()

    created[0].state = "published"  # publication
    created[0].published_at = now
    created[5].published_at = None  # back from publication (by hand)
    db.session.flush()
    assert same()

    ids = [i.id for i in created]
    db.session.execute(  # one statement changing several rows, some in the same way
        update(Initiative).where(Initiative.id.in_(ids[:4])).values(state="realised")
    )
    assert same()
    db.session.execute(
        update(Initiative).where(Initiative.id.in_(ids[2:])).values(published_at=None)
    )
    assert same()
    db.session.execute(update(Initiative).where(Initiative.id.in_(ids)).values(support_count=7))
    assert same()

    db.session.execute(  # one statement inserting several rows
        insert(Initiative),
        [
            {
                "initiator_id": initiator.id,
                "creation_key": f"counts-bulk-{n}",
                "slug": f"bulk-{n}",
                "state": "stopped",
                "published_at": now if n else None,
            }
            for n in range(3)
        ],
    )
    assert same()

    db.session.delete(created[0])
    db.session.flush()
    assert same()
    db.session.execute(
        delete(Initiative).where(
            Initiative.creation_key.like("counts-%"), Initiative.initiator_id == initiator.id
        )
    )
    assert same()
