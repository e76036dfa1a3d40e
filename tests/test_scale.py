"""``flask seed-scale`` at a small size, on a database of its own: the counts, every state, the
same seed giving the same data (two runs on two fresh schemas), the money and the supports that
add up, references that new submissions continue, and the main pages for generated accounts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from portal.extensions import db
from tests.conftest import TMP, make_app, reset_schema

ON_POSTGRESQL = os.environ.get("PORTAL_TEST_DATABASE", "postgresql") == "postgresql"
needs_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="seed-scale loads with PostgreSQL's COPY"
)

SIZES = {"applications": 600, "initiatives": 120, "users": 400}
PASSWORD = "wijkkracht-demo"

# Columns of what was generated (demo rows carry the moment they were made, so they are left
# out); two runs with the same seed must give the same digest for each.
DIGESTS = {
    "users": """SELECT md5(string_agg(concat_ws('|', id, name, email, password_hash, postcode,
                   house_number, district_id, session_token, created_at, last_login_at), ','
                   ORDER BY id)) FROM users WHERE email LIKE '%@schaal.wijkkracht.nl'""",
    "applications": """SELECT md5(string_agg(concat_ws('|', id, reference, state, applicant_id,
                   district_id, title, total_cents, requested_cents, granted_cents, iban,
                   endorsement_token, created_at, submitted_at, decision_deadline, closed_at),
                   ',' ORDER BY id)) FROM applications""",
    "endorsements": """SELECT md5(string_agg(concat_ws('|', id, application_id, user_id,
                   household, confirm_token, confirmed_at), ',' ORDER BY id)) FROM endorsements""",
    "decisions": """SELECT md5(string_agg(concat_ws('|', id, application_id, outcome, status,
                   amount_cents, decided_by_id, approved_by_id, sent_on), ',' ORDER BY id))
                   FROM decisions""",
    "payments": """SELECT md5(string_agg(concat_ws('|', id, reference, amount_cents, status,
                   batch_id, paid_at), ',' ORDER BY id)) FROM payments""",
    "ledger_entries": """SELECT md5(string_agg(concat_ws('|', id, budget_id, application_id,
                   kind, allocated_delta, committed_delta, paid_delta, recovered_delta), ','
                   ORDER BY id)) FROM ledger_entries""",
    "audit_records": """SELECT md5(string_agg(concat_ws('|', id, actor_id, action, object_id,
                   from_state, to_state, created_at), ',' ORDER BY id)) FROM audit_records
                   WHERE origin = 'cli seed-scale'""",
    "initiatives": """SELECT md5(string_agg(concat_ws('|', id, slug, state, initiator_id,
                   published_at, support_count), ',' ORDER BY id)) FROM initiatives""",
    "initiative_supports": """SELECT md5(string_agg(concat_ws('|', initiative_id, user_id,
                   created_at), ',' ORDER BY initiative_id, user_id))
                   FROM initiative_supports""",
}
COUNTED = (
    "users",
    "applications",
    "initiatives",
    "endorsements",
    "budget_lines",
    "decisions",
    "payments",
    "ledger_entries",
    "audit_records",
    "initiative_supports",
)


def seed(app: Flask, today: str, *extra: str) -> Any:
    arguments = ["seed-scale", "--seed", "7", "--today", today, *extra]
    for name, size in SIZES.items():
        arguments += [f"--{name}", str(size)]
    return app.test_cli_runner().invoke(args=arguments)


def digests(app: Flask) -> dict[str, str]:
    with app.app_context():
        found = {name: db.session.execute(text(query)).scalar() for name, query in DIGESTS.items()}
        found.update(
            {
                f"count {name}": db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()  # noqa: S608
                for name in COUNTED
            }
        )
        db.session.remove()
    return found


@pytest.fixture(scope="module")
def scaled() -> Iterator[tuple[Flask, dict[str, str], dict[str, str]]]:
    """Two runs with the same seed on two fresh schemas; the second one stays for the checks."""
    from portal.timeutil import local_today

    app = make_app("wijkkracht_test_scale")
    today = local_today().isoformat()
    runs = []
    for _ in range(2):
        reset_schema(app)
        result = seed(app, today)
        assert result.exit_code == 0, result.output + repr(result.exception)
        runs.append(digests(app))
    assert "total" in result.output and "audit_records" in result.output  # timings per table
    yield app, runs[0], runs[1]
    with app.app_context():
        db.engine.dispose()


def query(app: Flask, statement: str, **params: Any) -> Any:
    with app.app_context():
        rows = db.session.execute(text(statement), params).all()
        db.session.remove()
    return rows


@needs_postgresql
def test_same_seed_gives_the_same_data(scaled: Any) -> None:
    _app, first, second = scaled
    assert all(first.values()), first
    assert first == second


@needs_postgresql
def test_sizes_and_every_state(scaled: Any) -> None:
    from portal.applications.models import STATE_VALUES
    from portal.initiatives.models import INITIATIVE_STATES

    app, counts, _ = scaled
    assert counts["count applications"] == SIZES["applications"]
    assert counts["count initiatives"] == SIZES["initiatives"]
    demo_accounts = query(app, "SELECT count(*) FROM users WHERE email LIKE '%@demo.%'")[0][0]
    assert counts["count users"] == SIZES["users"] + demo_accounts
    states = {row[0] for row in query(app, "SELECT DISTINCT state FROM applications")}
    assert states == set(STATE_VALUES)
    states = {row[0] for row in query(app, "SELECT DISTINCT state FROM initiatives")}
    assert states == set(INITIATIVE_STATES)
    districts = query(app, "SELECT count(*) FROM districts")[0][0]
    assert query(app, "SELECT count(DISTINCT district_id) FROM applications")[0][0] == districts
    roles = dict(query(app, "SELECT role, count(*) FROM user_roles GROUP BY role"))
    assert roles["case_officer"] >= 10 and roles["finance"] >= 2 and roles["admin"] >= 1
    assert query(app, "SELECT count(*) FROM council_memberships")[0][0] >= 20


@needs_postgresql
def test_money_and_supports_add_up(scaled: Any) -> None:
    from portal.scale import verify

    app = scaled[0]
    with app.app_context():
        checks = verify()
        db.session.remove()
    assert all(checks.values()), checks
    mismatched = query(
        app,
        """SELECT b.id FROM district_budgets b JOIN ledger_entries e ON e.budget_id = b.id
           GROUP BY b.id HAVING b.allocated_cents <> sum(e.allocated_delta)
               OR b.committed_cents <> sum(e.committed_delta) OR b.paid_cents <> sum(e.paid_delta)
               OR b.recovered_cents <> sum(e.recovered_delta)""",
    )
    assert mismatched == []
    assert query(app, "SELECT count(*) FROM district_budgets WHERE committed_cents > 0")[0][0]
    # The trigger is on again: a new entry moves the totals, and overspending is refused.
    from portal.money import ledger

    with app.app_context():
        budget = db.session.execute(
            text("SELECT id FROM district_budgets ORDER BY allocated_cents DESC LIMIT 1")
        ).scalar()
        from portal.districts.models import DistrictBudget

        target = db.session.get(DistrictBudget, budget)
        assert target is not None
        before = target.committed_cents
        ledger.post(target, "commitment", committed=100)
        db.session.refresh(target)
        assert target.committed_cents == before + 100
        with pytest.raises(ledger.BudgetExceeded):
            ledger.post(target, "commitment", committed=target.remaining_cents + 1)
        db.session.rollback()
        db.session.remove()
    supports = query(
        app,
        """SELECT i.id FROM initiatives i LEFT JOIN initiative_supports s ON s.initiative_id = i.id
           GROUP BY i.id HAVING i.support_count <> count(s.user_id)""",
    )
    assert supports == []
    assert query(app, "SELECT sum(support_count) FROM initiatives")[0][0] > 0


@needs_postgresql
def test_the_data_keeps_the_rules_of_the_lifecycle(scaled: Any) -> None:
    app = scaled[0]
    (few,) = query(
        app,
        """SELECT count(*) FROM applications a WHERE state <> 'draft' AND (
               SELECT count(*) FROM endorsements e
               WHERE e.application_id = a.id AND e.confirmed_at IS NOT NULL) < 5""",
    )[0]
    assert few == 0
    (unhandled,) = query(
        app,
        """SELECT count(*) FROM decisions d JOIN applications a ON a.id = d.application_id
           JOIN districts di ON di.id = a.district_id WHERE NOT EXISTS (
               SELECT 1 FROM case_officer_boroughs b
               WHERE b.user_id = d.decided_by_id AND b.borough_id = di.borough_id)
           OR d.approved_by_id = d.decided_by_id""",
    )[0]
    assert unhandled == 0
    (timeline_gaps,) = query(
        app,
        """SELECT count(*) FROM applications a WHERE state <> 'draft' AND NOT EXISTS (
               SELECT 1 FROM audit_records r WHERE r.object_type = 'application'
               AND r.object_id = a.id AND r.action = 'application.submitted')""",
    )[0]
    assert timeline_gaps == 0
    (paid_apart,) = query(
        app,
        """SELECT count(*) FROM payments p JOIN payment_batches b ON b.id = p.batch_id
           WHERE (b.status = 'paid') <> (p.status = 'paid')""",
    )[0]
    assert paid_apart == 0


@needs_postgresql
def test_new_submissions_continue_the_references(scaled: Any) -> None:
    from portal.applications.services import allocate_reference

    app = scaled[0]
    ((year, last),) = query(
        app, "SELECT year, last_number FROM reference_counters ORDER BY year DESC LIMIT 1"
    )
    with app.app_context():
        reference = allocate_reference(year)
        taken = db.session.execute(
            text("SELECT count(*) FROM applications WHERE reference = :r"), {"r": reference}
        ).scalar()
        db.session.rollback()
        db.session.remove()
    assert reference == f"WB-{year}-{last + 1:04d}"
    assert taken == 0


@needs_postgresql
def test_refuses_a_database_that_holds_data(scaled: Any) -> None:
    app = scaled[0]
    result = seed(app, "2026-01-31")
    assert result.exit_code == 1
    assert "already holds 600 applications" in result.output


def test_refuses_sqlite() -> None:
    app = make_app("scale_refused", SQLALCHEMY_DATABASE_URI=f"sqlite:///{TMP / 'scale.sqlite'}")
    result = app.test_cli_runner().invoke(args=["seed-scale", "--users", "200"])
    assert result.exit_code == 1
    assert "needs PostgreSQL" in result.output and "sqlite" in result.output


@needs_postgresql
def test_generated_accounts_use_the_pages(scaled: Any) -> None:
    app = scaled[0]
    ((officer, case_id),) = query(
        app,
        """SELECT u.email, a.id FROM users u
           JOIN case_officer_boroughs b ON b.user_id = u.id
           JOIN districts d ON d.borough_id = b.borough_id
           JOIN applications a ON a.district_id = d.id AND a.state = 'in_review'
           WHERE u.email LIKE 'behandelaar-%' ORDER BY u.id, a.id LIMIT 1""",
    )
    ((resident, own_id),) = query(
        app,
        """SELECT u.email, a.id FROM applications a JOIN users u ON u.id = a.applicant_id
           WHERE a.state = 'granted' ORDER BY a.id LIMIT 1""",
    )
    ((initiative,),) = query(
        app,
        """SELECT id || '-' || slug FROM initiatives WHERE state = 'running'
           ORDER BY support_count DESC, id LIMIT 1""",
    )
    for email, pages in (
        (officer, ["/werkvoorraad", "/werkvoorraad?termijn=te-laat", f"/behandeling/{case_id}"]),
        (resident, ["/mijn-aanvragen", f"/aanvragen/{own_id}", "/initiatieven"]),
        (None, ["/initiatieven", f"/initiatieven/{initiative}"]),
    ):
        client = app.test_client()
        if email is not None:
            response = client.post("/inloggen", data={"email": email, "password": PASSWORD})
            assert response.status_code in (302, 303), email
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (email, page)
    # The application's timeline shows its steps.
    client = app.test_client()
    client.post("/inloggen", data={"email": resident, "password": PASSWORD})
    body = client.get(f"/aanvragen/{own_id}").get_data(as_text=True)
    assert "Aanvraag ingediend" in body and "Besluit: toegekend" in body
