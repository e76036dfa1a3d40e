"""Every page that ``make bench`` measures answers in at most 8 queries, and that number does not
grow with the data (5 against 60 rows of what the page lists or shows) nor with the page size.

The page size: each list keeps its own as a module constant (the showcase, the comments on an
initiative, the work queue, "Mijn aanvragen", the council's requests, a budget's ledger); the
test sets it to 10 and to 100.

Run with ``-s`` to see each page's count; a failure lists the statements. The public pages are
measured without the page cache (the tests run without it unless a test turns it on), so this
counts what a page asks of the database when it is made.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from portal.applications import dossier, services
from portal.applications.models import (
    AdviceRequest,
    Application,
    Attachment,
    BudgetLine,
    Endorsement,
    State,
)
from portal.audit.models import AuditRecord
from portal.districts.models import Council, District
from portal.extensions import db
from portal.initiatives import public_views, showcase
from portal.initiatives.models import (
    Comment,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativePhoto,
    InitiativeTheme,
    InitiativeUpdate,
)
from portal.money import allocations, budgets
from portal.money.models import LedgerEntry
from portal.reviews import council as council_views
from portal.reviews import views as review_views
from portal.rulesets.services import ruleset_in_force
from portal.timeutil import local_today, utcnow
from tests.test_applications import make_complete_draft

MAX_QUERIES = 8
SMALL, LARGE = 5, 60
YEAR = 2031  # a budget year of its own
NUMBERS = itertools.count(1)


# --- the data every page shows ------------------------------------------------------------------


class World:
    """The people and rows behind every benchmarked page; ``grow(n)`` adds ``n`` rows of each
    thing a page lists or shows."""

    def __init__(self, factory: Any) -> None:
        self.glanerbrug = db.session.scalar(select(District).where(District.name == "Glanerbrug"))
        self.council = db.session.scalar(
            select(Council).where(Council.name == "Dorpsraad Glanerbrug")
        )
        self.resident = factory.user(postcode="7533AB", name="Anna Aanvrager")
        self.others = [factory.user(postcode="7533AC", name=f"Buur {n}") for n in range(5)]
        self.people = {
            "resident": self.resident,
            "officer": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Eva"),
            "chair": factory.user(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        }
        self.ruleset_id = ruleset_in_force().id
        self.submitted = make_complete_draft(self.resident, self.others)
        services.submit(self.submitted, self.resident)
        self.draft = services.create_draft(self.resident, "page-queries-draft")
        self.budget = allocations.set_allocation(
            self.glanerbrug.id, YEAR, 100_000_000, None, "Test"
        ).budget
        self.initiative = self._initiatives(1, title="Repair Café")[0]
        self.published = 0  # initiatives in the showcase
        self.queued = 1  # applications in the officer's queue (the submitted one)
        db.session.commit()

    # Each helper adds rows in one statement per table.

    def _initiatives(self, count: int, title: str = "Moestuin") -> list[Initiative]:
        states = sorted(showcase.PUBLIC_STATE_VALUES)
        now = utcnow()
        ids = list(
            db.session.scalars(
                insert(Initiative).returning(Initiative.id, sort_by_parameter_order=True),
                [
                    {
                        "initiator_id": self.others[n % 5].id,
                        "creation_key": uuid.uuid4().hex,
                        "slug": f"{title.lower().replace(' ', '-')}-{n}",
                        "title": f"{title} {n}",
                        "pitch": f"Samen aan de slag, nummer {n}",
                        "description": "Een plan van de buurt.",
                        "citywide": False,
                        "contact_note": "",
                        "state": states[n % len(states)],
                        "support_count": n,
                        "submitted_at": now,
                        "published_at": now - timedelta(minutes=next(NUMBERS)),
                    }
                    for n in range(count)
                ],
            )
        )
        db.session.execute(
            insert(InitiativeDistrict),
            [{"initiative_id": i, "district_id": self.glanerbrug.id} for i in ids],
        )
        db.session.execute(
            insert(InitiativeTheme), [{"initiative_id": i, "theme": "leefbaarheid"} for i in ids]
        )
        db.session.execute(
            insert(InitiativeHelp), [{"initiative_id": i, "kind": "volunteers"} for i in ids]
        )
        self._photos([{"initiative_id": i} for i in ids])
        return list(db.session.scalars(select(Initiative).where(Initiative.id.in_(ids))))

    def _photos(self, owners: list[dict[str, Any]]) -> None:
        if owners:
            db.session.execute(
                insert(InitiativePhoto),
                [
                    {
                        **owner,
                        "storage_key": f"photo-{uuid.uuid4().hex}",
                        "thumbnail_key": f"thumb-{uuid.uuid4().hex}",
                        "content_type": "image/jpeg",
                        "display_name": "foto.jpg",
                        "size": 1000,
                        "description": "Een foto",
                        "ready": True,
                        "uploaded_by_id": self.others[0].id,
                    }
                    for owner in owners
                ],
            )

    def _applications(self, count: int, **fixed: Any) -> list[int]:
        states = [
            State.SUBMITTED,
            State.IN_REVIEW,
            State.INFO_REQUESTED,
            State.AWAITING_ADVICE,
            State.GRANTED,
        ]
        today = local_today()
        rows = []
        for n in range(count):
            number = next(NUMBERS)
            row = {
                "applicant_id": self.others[n % 5].id,
                "district_id": self.glanerbrug.id,
                "ruleset_id": self.ruleset_id,
                "creation_key": f"page-queries-{number}",
                "endorsement_token": uuid.uuid4().hex,
                "reference": f"WB-2031-{number:04d}",
                "state": states[n % len(states)].value,
                "title": f"Plan {number}",
                "kaders": ["sociale_samenhang"],
                "requested_cents": 100_000 + n,
                "total_cents": 100_000 + n,
                "submitted_at": utcnow(),
                "decision_deadline": today + timedelta(days=n % 40 - 5),
                "end_date": today + timedelta(days=30),
            }
            row.update(fixed)
            rows.append(row)
        return list(
            db.session.scalars(
                insert(Application).returning(Application.id, sort_by_parameter_order=True), rows
            )
        )

    def grow(self, n: int) -> None:
        """``n`` more of everything: showcase initiatives, comments and updates on the
        initiative, applications in the queue, applications of the resident, records, files,
        endorsements and lines of the submitted application, lines of the draft, requests for
        advice of the council, and ledger entries of the budget."""
        self._initiatives(n)
        self.published += n
        db.session.execute(
            insert(Comment),
            [
                {"initiative_id": self.initiative.id, "author_id": self.others[k % 5].id}
                | {"body": f"Mooi plan {k}"}
                for k in range(n)
            ],
        )
        updates = list(
            db.session.scalars(
                insert(InitiativeUpdate).returning(InitiativeUpdate.id),
                [
                    {
                        "initiative_id": self.initiative.id,
                        "kind": "update",
                        "body": f"Nieuws {k}",
                        "author_id": self.initiative.initiator_id,
                    }
                    for k in range(n)
                ],
            )
        )
        self._photos([{"initiative_id": self.initiative.id, "update_id": u} for u in updates])

        queued = self._applications(n)
        self.queued += n
        mine = self._applications(n, applicant_id=self.resident.id)
        db.session.execute(
            insert(Application),
            [
                {
                    "applicant_id": self.resident.id,
                    "district_id": self.glanerbrug.id,
                    "creation_key": f"page-queries-draft-{next(NUMBERS)}",
                    "endorsement_token": uuid.uuid4().hex,
                    "title": f"Concept {k}",
                    "kaders": [],
                }
                for k in range(n)
            ],
        )
        self.queued += n  # the resident's submitted ones are in the queue too

        application = self.submitted.id
        db.session.execute(
            insert(AuditRecord),
            [
                {
                    "actor_id": self.people["officer"].id,
                    "action": "application.accepted" if k % 2 else "application.note",
                    "object_type": "application",
                    "object_id": application,
                    "origin": "test",
                    "reason": f"Stap {k}",
                }
                for k in range(n)
            ],
        )
        db.session.execute(
            insert(Attachment),
            [
                {
                    "application_id": application,
                    "kind": "quote",
                    "storage_key": f"file-{uuid.uuid4().hex}",
                    "display_name": f"offerte-{k}.pdf",
                    "content_type": "application/pdf",
                    "size": 100,
                    "sha256": "0" * 64,
                    "uploaded_by_id": self.resident.id,
                }
                for k in range(n)
            ],
        )
        db.session.execute(
            insert(Endorsement),
            [
                {
                    "application_id": application,
                    "name": f"Buur {k}",
                    "postcode": "7533AC",
                    "house_number": f"{1000 + next(NUMBERS)}",
                    "household": f"7533AC-{uuid.uuid4().hex[:8]}",
                    "district_id": self.glanerbrug.id,
                    "confirmed_at": utcnow(),
                }
                for k in range(n)
            ],
        )
        for owner in (application, self.draft.id):
            db.session.execute(
                insert(BudgetLine),
                [
                    {
                        "application_id": owner,
                        "position": 100 + next(NUMBERS),
                        "description": f"Post {k}",
                        "category": "eten_drinken",
                        "quantity": 1,
                        "unit_price_cents": 100,
                    }
                    for k in range(n)
                ],
            )

        asked = self._applications(n, state=State.AWAITING_ADVICE.value)
        today = local_today()
        db.session.execute(
            insert(AdviceRequest),
            [
                {
                    "application_id": asked_id,
                    "council_id": self.council.id,
                    "requested_by_id": self.people["officer"].id,
                    "requested_on": today,
                    "due_date": today + timedelta(days=21 - k % 10),
                }
                for k, asked_id in enumerate(asked)
            ],
        )
        self.queued += n

        cycle = [("commitment", 1_000), ("release", -1_000)]
        db.session.execute(
            insert(LedgerEntry),
            [
                {
                    "budget_id": self.budget.id,
                    "application_id": (queued + mine)[k % (2 * n)],
                    "kind": cycle[k % 2][0],
                    "allocated_delta": 0,
                    "committed_delta": cycle[k % 2][1],
                    "paid_delta": 0,
                    "recovered_delta": 0,
                    "description": f"Boeking {k}",
                    "actor_id": self.people["officer"].id,
                }
                for k in range(2 * (n // 2))
            ],
        )
        db.session.commit()


# --- the pages ----------------------------------------------------------------------------------


def last_page(total: int, per_page: int) -> int:
    return max(math.ceil(total / per_page), 1)


@dataclass
class Page:
    """One page of ``make bench``: who asks for it, its address, and how to resize its list."""

    who: str | None  # a key of World.people, or None for an anonymous visitor
    path: Callable[[World], str]
    method: str = "GET"
    status: int = 200
    form: dict[str, Any] = field(default_factory=dict)
    # The module constant holding the page size of the list on the page.
    page_size: tuple[Any, str] | None = None


SHOWCASE_SIZE = (showcase, "PER_PAGE")
QUEUE_SIZE = (review_views, "PER_PAGE")
PAGES: dict[str, Page] = {
    "showcase": Page(None, lambda w: "/initiatieven", page_size=SHOWCASE_SIZE),
    "showcase_filtered": Page(
        None,
        lambda w: "/initiatieven?wijk=glanerbrug&thema=leefbaarheid&hulp=volunteers",
        page_size=SHOWCASE_SIZE,
    ),
    "showcase_searched": Page(
        None, lambda w: "/initiatieven?zoek=moestuin", page_size=SHOWCASE_SIZE
    ),
    "showcase_deep": Page(
        None,
        lambda w: f"/initiatieven?page={last_page(w.published + 1, showcase.PER_PAGE)}",
        page_size=SHOWCASE_SIZE,
    ),
    "initiative": Page(
        None,
        lambda w: f"/initiatieven/{w.initiative.path_key}",
        page_size=(public_views, "COMMENTS_PER_PAGE"),
    ),
    "queue": Page("officer", lambda w: "/werkvoorraad", page_size=QUEUE_SIZE),
    "queue_filtered": Page(
        "officer",
        lambda w: f"/werkvoorraad?status=submitted&wijk={w.glanerbrug.id}",
        page_size=QUEUE_SIZE,
    ),
    "queue_deep": Page(
        "officer",
        lambda w: f"/werkvoorraad?page={last_page(w.queued, review_views.PER_PAGE)}",
        page_size=QUEUE_SIZE,
    ),
    "case_staff": Page("officer", lambda w: f"/behandeling/{w.submitted.id}"),
    "application_resident": Page("resident", lambda w: f"/aanvragen/{w.submitted.id}"),
    "mine": Page(
        "resident",
        lambda w: "/mijn-aanvragen",
        page_size=(dossier, "PER_PAGE"),
    ),
    "council_requests": Page(
        "chair", lambda w: "/wijkorgaan", page_size=(council_views, "PER_PAGE")
    ),
    "district_budget": Page(
        "officer",
        lambda w: f"/budgetten/{w.budget.id}",
        page_size=(budgets, "ENTRIES_PER_PAGE"),
    ),
    "save_draft": Page(
        "resident",
        lambda w: f"/aanvragen/{w.draft.id}/bewerken/activiteit",
        method="POST",
        status=303,
        form={
            "title": "Buurtfeest aan het plein",
            "description": "Een middag met muziek en soep voor de hele straat.",
            "kaders": ["sociale_samenhang"],
            "location": "Het plein",
            "start_date": "2031-06-01",
            "end_date": "2031-06-01",
        },
    ),
}


@pytest.fixture
def world(factory: Any) -> World:
    return World(factory)


def measure(client: Any, count_queries: Any, world: World, page: Page) -> Any:
    """Ask once to warm up, then count the queries of the second time."""
    url = page.path(world)
    data = page.form or None
    response = client.open(url, method=page.method, data=data)
    assert response.status_code == page.status, (url, response.status_code)
    with count_queries() as counted:
        response = client.open(url, method=page.method, data=data)
    assert response.status_code == page.status, (url, response.status_code)
    counted.url = url
    return counted


def report(name: str, counted: Any) -> str:
    lines = [f"{name}: {counted.count} queries for {counted.url}"]
    lines += [f"  {n}. {' '.join(s.split())[:300]}" for n, s in enumerate(counted.statements, 1)]
    text = "\n".join(lines)
    print(text)
    return text


@pytest.fixture
def signed_in(client: Any, login_as: Any) -> Callable[[World, Page], None]:
    def sign_in(world: World, page: Page) -> None:
        if page.who is not None:
            login_as(world.people[page.who])

    return sign_in


@pytest.mark.parametrize("name", list(PAGES))
def test_at_most_eight_queries(client, count_queries, world, signed_in, name) -> None:
    page = PAGES[name]
    world.grow(LARGE)
    signed_in(world, page)
    counted = measure(client, count_queries, world, page)
    print(f"{name}: {counted.count} queries")
    assert counted.count <= MAX_QUERIES, report(name, counted)


@pytest.mark.parametrize("name", list(PAGES))
def test_queries_do_not_grow_with_the_data(client, count_queries, world, signed_in, name) -> None:
    page = PAGES[name]
    signed_in(world, page)
    world.grow(SMALL)
    few = measure(client, count_queries, world, page)
    world.grow(LARGE - SMALL)
    many = measure(client, count_queries, world, page)
    assert many.count == few.count, (
        report(f"{name} with {SMALL} rows", few) + "\n" + report(f"{name} with {LARGE} rows", many)
    )


@pytest.mark.parametrize("name", [name for name, page in PAGES.items() if page.page_size])
def test_queries_do_not_grow_with_the_page_size(
    app, client, count_queries, world, signed_in, monkeypatch, name
) -> None:
    page = PAGES[name]
    assert page.page_size is not None
    module, constant = page.page_size
    signed_in(world, page)
    world.grow(LARGE)
    counts = {}
    for size in (10, 100):
        monkeypatch.setattr(module, constant, size)
        counts[size] = measure(client, count_queries, world, page)
    assert counts[10].count == counts[100].count, (
        report(f"{name}, 10 a page", counts[10]) + "\n" + report(f"{name}, 100 a page", counts[100])
    )
