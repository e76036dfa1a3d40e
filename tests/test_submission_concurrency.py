"""Submissions racing each other, on a real committed database: references stay unique and
consecutive, and one draft posted many times becomes one application."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application, State
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import Factory, make_app, reset_schema
from tests.test_applications import make_complete_draft


@pytest.fixture(scope="module")
def live_app() -> Any:
    app = make_app("wijkkracht_test_concurrency", TESTING=False)
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def prepare(app: Any, drafts: int) -> list[tuple[str, int]]:
    """Applicants with a complete draft each: (e-mail, application id)."""
    with app.app_context():
        factory = Factory()
        neighbours = [factory.user(postcode="7533AC") for _ in range(5)]
        prepared = []
        for _ in range(drafts):
            applicant = factory.user(postcode="7533AB")
            application = make_complete_draft(applicant, neighbours)
            prepared.append((applicant.email, application.id))
        db.session.commit()
        db.session.remove()
        return prepared


def post_in_parallel(
    app: Any,
    jobs: list[tuple[str, int]],
    path: str = "/aanvragen/{}/indienen",
    data: dict[str, str] | None = None,
) -> list[int]:
    clients = []
    for email, _ in jobs:
        client = app.test_client()
        assert (
            client.post(
                "/inloggen", data={"email": email, "password": "wijkkracht-demo"}
            ).status_code
            == 303
        )
        clients.append(client)
    barrier = threading.Barrier(len(jobs))
    statuses: list[int] = [0] * len(jobs)

    def submit(index: int) -> None:
        barrier.wait()
        response = clients[index].post(
            path.format(jobs[index][1]), data=data or {"declaration": "y"}
        )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_twenty_concurrent_submissions_get_consecutive_references(live_app) -> None:
    jobs = prepare(live_app, 20)
    statuses = post_in_parallel(live_app, jobs)
    assert statuses == [303] * 20
    with live_app.app_context():
        references = db.session.scalars(
            select(Application.reference).where(Application.id.in_([i for _, i in jobs]))
        ).all()
        db.session.remove()
    numbers = sorted(int(re.fullmatch(r"WB-\d{4}-(\d{4})", r).group(1)) for r in references)
    assert len(set(numbers)) == 20
    assert numbers == list(range(numbers[0], numbers[0] + 20))


def test_the_same_submission_posted_five_times_gives_one_application(live_app) -> None:
    [(email, application_id)] = prepare(live_app, 1)
    statuses = post_in_parallel(live_app, [(email, application_id)] * 5)
    assert statuses == [303] * 5  # every tab lands on the one application
    with live_app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == State.SUBMITTED and application.reference
        submitted = db.session.scalar(
            select(func.count(Application.id)).where(
                Application.applicant_id == application.applicant_id,
                Application.state == State.SUBMITTED,
            )
        )
        receipts = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.object_id == application_id,
                Notification.kind == "application_submitted",
            )
        )
        db.session.remove()
    assert submitted == 1 and receipts == 1


def test_budget_saves_racing_each_other_never_duplicate_lines(live_app) -> None:
    """Autosave and "save" of the budget overlap when a resident types and clicks at once."""
    [(email, application_id)] = prepare(live_app, 1)
    lines = {
        f"lines-{i}-{name}": value
        for i, (description, price) in enumerate(
            [("Tent", "250"), ("Soep", "90"), ("Flyers", "50")]
        )
        for name, value in [
            ("description", description),
            ("category", "huur_spullen"),
            ("quantity", "1"),
            ("unit_price", price),
        ]
    }
    data = {**lines, "other_funding": "0"}
    saves = post_in_parallel(
        live_app, [(email, application_id)] * 3, "/aanvragen/{}/bewerken/begroting", data
    )
    autosaves = post_in_parallel(
        live_app, [(email, application_id)] * 3, "/aanvragen/{}/bewerken/begroting/autosave", data
    )
    assert set(saves) <= {303} and autosaves == [200] * 3
    with live_app.app_context():
        application = db.session.get(Application, application_id)
        stored = [(line.position, line.description) for line in application.lines]
        db.session.remove()
    assert stored == [(0, "Tent"), (1, "Soep"), (2, "Flyers")]
