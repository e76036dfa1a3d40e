"""Scale data: ``flask seed-scale`` fills a PostgreSQL database with a realistic, reproducible
load (by default 100,000 applications, 20,000 initiatives and 50,000 users) in a minute or two,
for benchmarks and for trying the staff pages with real volumes. The default sizes took 73 s on
the 2-core development machine while another test run competed for it (about 20 s of it Python
making the rows, the rest PostgreSQL taking them in), 1.4 GB of memory, and make a 660 MB
database.

How to use it
-------------

On an empty database (PostgreSQL only; SQLite is refused)::

    createdb scale_full
    export PORTAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/scale_full
    flask db upgrade
    flask seed-demo                 # optional: seed-scale runs it (it is idempotent)
    flask seed-scale --seed 1       # --applications, --initiatives, --users, --today

The database must not hold applications or initiatives other than the demo ones (``seed-demo
--with-applications``), nor earlier scale data: to start again, drop the database and create it
anew. The same ``--seed``, sizes and ``--today`` on the same starting point give the same data,
row for row (``--today`` defaults to today in Europe/Amsterdam; every date is placed relative to
it, so open cases have running deadlines).

Accounts
--------

Every generated account has the demo password (``PORTAL_DEMO_PASSWORD``, by default
``wijkkracht-demo``): all of them share one argon2 hash made once per run, since hashing 50,000
passwords would take an hour. The addresses are predictable, in the domain
``schaal.wijkkracht.nl``: residents ``bewoner-00001@`` …, case officers ``behandelaar-0001@`` …
(each with one or two boroughs; every borough has several), council members ``wijkorgaan-0001@``
… (residents with a membership; each council gets a secretary, a chair when it has none, and
members), finance ``financien-01@`` …, admins ``beheerder-01@`` …. The demo accounts keep working
and take part: the demo case officers and council members find generated cases in their queues.
Tokens (sessions, endorsement links) come from the seed too, so this data must never be loaded in
production (refused there).

What it makes
-------------

Applications in every state of ``applications.workflow`` across all districts (advice only where
the district has a council), each with the fields of its state and one audit record per step, so
the applicant's timeline and the staff audit trail show their history: budget lines, endorsements
(enough confirmed households of the district, never the applicant's own), information requests
(answered, open, expired), advice requests and advice (given, late, with discussion and the odd
conflict of interest), refusal intents and views, decisions (four eyes above the limit, with the
reasons the law asks for), objections, payments in weekly batches per borough (open, approved,
paid), accounting reports, settlements (equal, lower after a view, ex officio) with the last
payment or the recovery. References are ``WB-<year>-<n>`` in order of submission, continuing the
reference counters, which are moved on so that new submissions follow them.

The money: every district gets a budget for every year from the ruleset's start to ``--today``,
allocated with room to spare above what its grants commit (an allocation entry; the demo budgets
of this year get one that tops them up), so far above the real wijkbudgets: this is some ten times
Enschede's real number of applications. Every commitment, payment, release and recovery is a
ledger entry. The entries are loaded with COPY while the per-row trigger that applies them to the
budget totals is disabled for that one transaction (applied one by one to some 70 budget rows in
one transaction, each row's version chain grows: 250,000 entries took 3.5 minutes); the totals
are then set from the sums of the entries in SQL, which the check constraints
(``never_overspent``, ``recovered_within_paid``) verify, and the generator checks beforehand that
every prefix of each budget's entries keeps those rules. The trigger is enabled again before the
commit, so no other session ever sees it off (``ALTER TABLE`` locks the table until then).

Initiatives in every state (most of them public), with districts, themes, help wanted, a guide
for some, the public timeline (status changes, news of the initiator, milestones of a wijkbudget
application started from it), supports (``support_count`` equal to the rows), offers of help and
the initiator's answers, comments (some reported, some hidden by a case officer) and a few users
blocked from commenting. Left out: files (attachments, photos, PDF letters: there is nothing on
disk for them), notifications, and the audit records of single endorsements.
"""

from __future__ import annotations

import base64
import json
import random
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate
from typing import Any

from flask import current_app
from sqlalchemy import text

from portal import deadlines
from portal.extensions import db

SCALE_DOMAIN = "schaal.wijkkracht.nl"
ORIGIN = "cli seed-scale"
SMALL_GRANT_SKIP_TEXT = "Kleine subsidie: volgens de regeling zonder advies van het wijkorgaan."
NO_COUNCIL_TEXT = "Er is geen wijkorgaan in deze wijk; besloten zonder advies."


class ScaleRefused(Exception):
    """seed-scale cannot run on this database; the message says why and what to do."""


@dataclass
class ScaleResult:
    counts: dict[str, int]
    timings: list[tuple[str, float]] = field(default_factory=list)
    total_seconds: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)


# --- entry point ------------------------------------------------------------------------------


def seed_scale(
    *,
    seed: int = 1,
    applications: int = 100_000,
    initiatives: int = 20_000,
    users: int = 50_000,
    today: date | None = None,
    echo: Callable[[str], Any] | None = None,
) -> ScaleResult:
    """Generate and load the data in one transaction; return counts, timings and checks."""
    say = echo or (lambda _line: None)
    started = time.perf_counter()
    if db.engine.dialect.name != "postgresql":
        raise ScaleRefused(
            "seed-scale needs PostgreSQL (it loads the data with COPY); this database is "
            f"{db.engine.dialect.name}. Set PORTAL_DATABASE_URL to a PostgreSQL database."
        )
    if current_app.config["PORTAL_ENV"] == "production":
        raise ScaleRefused("seed-scale never runs in production.")
    if users < 200:
        raise ScaleRefused("--users must be at least 200 (staff, councils and residents).")
    from portal.demo import seed_demo
    from portal.timeutil import local_today

    today = today or local_today()
    timings: list[tuple[str, float]] = []

    def timed(label: str, since: float, rows: int | None = None) -> float:
        now = time.perf_counter()
        timings.append((label, now - since))
        count = f"{rows:>10,} rows " if rows is not None else " " * 16
        say(f"  {label:<28}{count}{now - since:7.1f} s")
        return now

    seed_demo()  # idempotent: the districts, councils, ruleset and demo accounts
    db.session.commit()
    _refuse_when_filled()
    moment = timed("seed-demo", started)
    context = _load_context(today)
    generator = _Generator(context, seed, applications, initiatives, users)
    tables = generator.run()
    moment = timed("generate (Python)", moment)

    try:
        moment = _load(generator, tables, timed, moment)
    except BaseException:
        db.session.rollback()
        raise
    checks = verify()
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        db.session.rollback()
        raise RuntimeError(f"seed-scale: checks failed, nothing saved: {', '.join(failed)}")
    moment = timed("checks", moment)
    db.session.commit()
    moment = timed("commit", moment)
    # VACUUM sets the visibility map, so index-only scans (the work queue's, the showcase's)
    # need no visits to the table from the first request on; ANALYZE gives the planner its
    # statistics. Without autovacuum (a test server) neither would happen by itself.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as analyse:
        analyse.execute(text("VACUUM (ANALYZE)"))
    moment = timed("vacuum and analyze", moment)
    counts = {name: len(tables[name][1]) for name in COPY_ORDER}
    total = time.perf_counter() - started
    say(f"  {'total':<44}{total:7.1f} s")
    return ScaleResult(counts=counts, timings=timings, total_seconds=total, checks=checks)


def _load(
    generator: _Generator,
    tables: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]],
    timed: Callable[..., float],
    moment: float,
) -> float:
    """COPY every table in the session's transaction (foreign keys first); the ledger with its
    per-row trigger off and the budget totals set from the entries; then the reference counters
    and the sequences."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        for name in COPY_ORDER:
            columns, rows = tables[name]
            if name == "ledger_entries":
                cursor.execute("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_apply")
            with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
            if name == "ledger_entries":
                cursor.execute(BUDGET_TOTALS_FROM_ENTRIES)
                cursor.execute("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_apply")
            moment = timed(name, moment, len(rows))
        for year, last in sorted(generator.reference_counters.items()):
            cursor.execute(
                "INSERT INTO reference_counters (year, last_number) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET last_number = EXCLUDED.last_number",
                (year, last),
            )
        for name in SERIAL_TABLES:
            cursor.execute(SETVAL.format(table=name))
        return timed("counters and sequences", moment)


# Table names come from this module's own constants, never from input.
SETVAL = (
    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} "
    "HAVING max(id) IS NOT NULL"
)
MAX_ID = "SELECT coalesce(max(id), 0) FROM {table}"
BUDGET_TOTALS_FROM_ENTRIES = """
UPDATE district_budgets AS b SET
    allocated_cents = s.allocated, committed_cents = s.committed,
    paid_cents = s.paid, recovered_cents = s.recovered
FROM (
    SELECT budget_id, sum(allocated_delta) AS allocated, sum(committed_delta) AS committed,
           sum(paid_delta) AS paid, sum(recovered_delta) AS recovered
    FROM ledger_entries GROUP BY budget_id
) AS s
WHERE b.id = s.budget_id
"""


def verify() -> dict[str, bool]:
    """The invariants the loaded data must keep (also used by the tests)."""
    session = db.session
    ledger_mismatch = session.execute(
        text(
            """SELECT count(*) FROM district_budgets b LEFT JOIN (
                   SELECT budget_id, sum(allocated_delta) a, sum(committed_delta) c,
                          sum(paid_delta) p, sum(recovered_delta) r
                   FROM ledger_entries GROUP BY budget_id) s ON s.budget_id = b.id
               WHERE b.allocated_cents <> coalesce(s.a, 0)
                  OR b.committed_cents <> coalesce(s.c, 0)
                  OR b.paid_cents <> coalesce(s.p, 0)
                  OR b.recovered_cents <> coalesce(s.r, 0)"""
        )
    ).scalar()
    support_mismatch = session.execute(
        text(
            """SELECT count(*) FROM initiatives i LEFT JOIN (
                   SELECT initiative_id, count(*) n FROM initiative_supports
                   GROUP BY initiative_id) s ON s.initiative_id = i.id
               WHERE i.support_count <> coalesce(s.n, 0)"""
        )
    ).scalar()
    reports_mismatch = session.execute(
        text(
            """SELECT count(*) FROM initiative_comments c LEFT JOIN (
                   SELECT comment_id, count(*) n FROM initiative_comment_reports
                   GROUP BY comment_id) r ON r.comment_id = c.id
               WHERE c.report_count <> coalesce(r.n, 0)"""
        )
    ).scalar()
    # Kept by the triggers of migrations 0010 and 0012, which fire on the COPY too (statement
    # level).
    application_counts_mismatch = session.execute(
        text(
            """SELECT count(*) FROM (
                   SELECT district_id, state, count(*) n FROM applications
                   GROUP BY district_id, state) a
               FULL JOIN application_counts c
                 ON c.district_id = a.district_id AND c.state = a.state
               WHERE coalesce(c.total, 0) <> coalesce(a.n, 0)"""
        )
    ).scalar()
    initiative_counts_mismatch = session.execute(
        text(
            """SELECT count(*) FROM (
                   SELECT state, count(*) n FROM initiatives
                   WHERE published_at IS NOT NULL GROUP BY state) i
               FULL JOIN initiative_counts c ON c.state = i.state
               WHERE coalesce(c.total, 0) <> coalesce(i.n, 0)"""
        )
    ).scalar()
    counter_behind = session.execute(
        text(
            """SELECT count(*) FROM (
                   SELECT split_part(reference, '-', 2)::int AS year,
                          max(split_part(reference, '-', 3)::int) AS last
                   FROM applications WHERE reference LIKE 'WB-%' GROUP BY 1) r
               LEFT JOIN reference_counters c ON c.year = r.year
               WHERE coalesce(c.last_number, 0) < r.last"""
        )
    ).scalar()
    unsubmitted_references = session.execute(
        text("SELECT count(*) FROM applications WHERE (state = 'draft') <> (reference IS NULL)")
    ).scalar()
    granted_without_commitment = session.execute(
        text(
            """SELECT count(*) FROM applications a WHERE a.state IN
                   ('granted', 'accounted', 'settled', 'closed') AND NOT EXISTS (
                   SELECT 1 FROM ledger_entries e
                   WHERE e.application_id = a.id AND e.kind = 'commitment')"""
        )
    ).scalar()
    return {
        "ledger totals equal the sum of the entries": ledger_mismatch == 0,
        "support_count equals the supports": support_mismatch == 0,
        "report_count equals the reports": reports_mismatch == 0,
        "application_counts equal the applications": application_counts_mismatch == 0,
        "initiative_counts equal the published initiatives": initiative_counts_mismatch == 0,
        "reference counters are not behind": counter_behind == 0,
        "references only and always on submitted applications": unsubmitted_references == 0,
        "every grant committed in the ledger": granted_without_commitment == 0,
    }


def _refuse_when_filled() -> None:
    found = db.session.execute(
        text(
            """SELECT
                 (SELECT count(*) FROM applications WHERE creation_key NOT LIKE 'demo-%'),
                 (SELECT count(*) FROM initiatives WHERE creation_key NOT LIKE 'demo-%'),
                 (SELECT count(*) FROM users WHERE email LIKE :pattern)"""
        ),
        {"pattern": f"%@{SCALE_DOMAIN}"},
    ).one()
    applications, initiatives, scale_users = found
    if applications or initiatives or scale_users:
        raise ScaleRefused(
            f"This database already holds {applications} applications, {initiatives} "
            f"initiatives and {scale_users} generated accounts besides the demo data. seed-scale "
            "fills an empty database: create a new one, run `flask db upgrade` (and "
            "`flask seed-demo`), then `flask seed-scale`."
        )


# --- what is already there --------------------------------------------------------------------


@dataclass
class _District:
    id: int
    name: str
    borough_id: int
    ranges: list[tuple[int, int]]
    weight: int
    councils: list[int]


@dataclass
class _Context:
    today: date
    boroughs: list[tuple[int, str]]
    districts: list[_District]
    councils: dict[int, str]
    council_roles: dict[int, list[tuple[int, str]]]
    officers: dict[int, list[int]]
    finance: list[int]
    admins: list[int]
    ruleset: dict[str, Any]
    max_ids: dict[str, int]
    counters: dict[int, int]
    budgets: dict[tuple[int, int], tuple[int, int]]
    refusal_grounds: list[str]
    existing_users: dict[int, tuple[str, str, str | None, str | None, int | None, datetime]]


def _load_context(today: date) -> _Context:
    from portal.applications.labels import REFUSAL_GROUND_LABELS
    from portal.demo import DISTRICTS

    run = db.session.execute
    boroughs = [(r.id, r.name) for r in run(text("SELECT id, name FROM boroughs ORDER BY id"))]
    euros = {name: amount for name, _b, amount, _r in DISTRICTS}
    ranges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for r in run(text("SELECT district_id, start, end_ FROM postcode_ranges ORDER BY id")):
        ranges[r.district_id].append((int(r.start[:4]), int(r.end_[:4])))
    council_of: dict[int, list[int]] = defaultdict(list)
    for r in run(text("SELECT council_id, district_id FROM council_districts ORDER BY 1, 2")):
        council_of[r.district_id].append(r.council_id)
    districts = [
        _District(
            r.id,
            r.name,
            r.borough_id,
            ranges[r.id],
            euros.get(r.name) or 20_000,
            council_of[r.id],
        )
        for r in run(text("SELECT id, name, borough_id FROM districts ORDER BY id"))
    ]
    if not districts or any(not d.ranges for d in districts):
        raise ScaleRefused("No districts with postcode ranges: run `flask seed-demo` first.")
    councils = {r.id: r.name for r in run(text("SELECT id, name FROM councils ORDER BY id"))}
    council_roles: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for r in run(
        text(
            "SELECT m.council_id, m.user_id, m.role FROM council_memberships m "
            "JOIN users u ON u.id = m.user_id WHERE u.active ORDER BY m.id"
        )
    ):
        council_roles[r.council_id].append((r.user_id, r.role))
    officers: dict[int, list[int]] = defaultdict(list)
    for r in run(
        text(
            "SELECT b.borough_id, b.user_id FROM case_officer_boroughs b "
            "JOIN user_roles r ON r.user_id = b.user_id AND r.role = 'case_officer' "
            "JOIN users u ON u.id = b.user_id WHERE u.active ORDER BY b.user_id, b.borough_id"
        )
    ):
        officers[r.borough_id].append(r.user_id)

    def holders(role: str) -> list[int]:
        return list(
            run(
                text(
                    "SELECT r.user_id FROM user_roles r JOIN users u ON u.id = r.user_id "
                    "WHERE r.role = :role AND u.active ORDER BY r.user_id"
                ),
                {"role": role},
            ).scalars()
        )

    ruleset = (
        run(
            text(
                "SELECT * FROM rulesets WHERE effective_from <= :today "
                "ORDER BY effective_from DESC, version DESC LIMIT 1"
            ),
            {"today": today},
        )
        .mappings()
        .first()
    )
    if ruleset is None:
        raise ScaleRefused(f"No ruleset in force on {today}: run `flask seed-demo` first.")
    if (today - ruleset["effective_from"]).days < 365:
        raise ScaleRefused(
            f"--today ({today}) must be at least a year after the ruleset takes effect "
            f"({ruleset['effective_from']}): the data spans the time in between."
        )
    max_ids = {
        name: int(run(text(MAX_ID.format(table=name))).scalar() or 0) for name in SERIAL_TABLES
    }
    counters = {
        r.year: r.last_number for r in run(text("SELECT year, last_number FROM reference_counters"))
    }
    budgets = {
        (r.district_id, r.year): (r.id, r.allocated_cents)
        for r in run(text("SELECT id, district_id, year, allocated_cents FROM district_budgets"))
    }
    existing_users = {
        r.id: (r.name, r.email, r.postcode, r.house_number, r.district_id, r.created_at)
        for r in run(
            text(
                "SELECT id, name, email, postcode, house_number, district_id, created_at "
                "FROM users ORDER BY id"
            )
        )
    }
    return _Context(
        today=today,
        existing_users=existing_users,
        boroughs=boroughs,
        districts=districts,
        councils=councils,
        council_roles=council_roles,
        officers=officers,
        finance=holders("finance"),
        admins=holders("admin"),
        ruleset=dict(ruleset),
        max_ids=max_ids,
        counters=counters,
        budgets=budgets,
        refusal_grounds=sorted(REFUSAL_GROUND_LABELS),
    )


# --- tables and their columns, in the order they are loaded (foreign keys first) ------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "name", "email", "password_hash", "postcode", "house_number", "district_id",
        "adult_confirmed_at", "email_verified_at", "locale", "session_token", "active",
        "created_at", "last_login_at",
    ),
    "user_roles": ("user_id", "role"),
    "case_officer_boroughs": ("user_id", "borough_id"),
    "council_memberships": ("id", "council_id", "user_id", "role"),
    "district_budgets": (
        "id", "district_id", "year", "allocated_cents", "committed_cents", "paid_cents",
        "recovered_cents",
    ),
    "initiatives": (
        "id", "slug", "state", "initiator_id", "creation_key", "title", "pitch", "description",
        "citywide", "contact_note", "submitted_at", "review_due", "changes_message",
        "published_at", "guide_id", "support_count", "created_at", "updated_at",
    ),
    "initiative_districts": ("initiative_id", "district_id"),
    "initiative_themes": ("initiative_id", "theme"),
    "initiative_help": ("initiative_id", "kind"),
    "applications": (
        "id", "reference", "state", "applicant_id", "district_id", "ruleset_id", "creation_key",
        "for_organisation", "organisation_name", "kvk_number", "organisation_postcode",
        "applicant_role", "title", "description", "kaders", "start_date", "end_date", "location",
        "expected_participants", "volunteers", "own_contribution", "other_funding_cents",
        "other_funding_description", "total_cents", "requested_cents", "iban", "account_holder",
        "declaration", "initiative_id", "endorsement_token", "created_at", "updated_at",
        "submitted_at", "decision_deadline", "suspended_days", "extension_weeks",
        "extension_reason", "granted_cents", "closed_at",
    ),
    "budget_lines": (
        "id", "application_id", "position", "description", "category", "quantity",
        "unit_price_cents",
    ),
    "endorsements": (
        "id", "application_id", "user_id", "name", "email", "postcode", "house_number",
        "household", "district_id", "confirm_token", "confirmed_at", "created_at",
    ),
    "info_requests": (
        "id", "application_id", "requested_by_id", "questions", "requested_on", "due_date",
        "answer", "answered_on", "outcome", "created_at",
    ),
    "advice_requests": (
        "id", "application_id", "council_id", "requested_by_id", "requested_on", "due_date",
        "note", "outcome", "reasons", "conditions", "proposed_cents", "submitted_by_id",
        "submitted_at", "passed_over_reason",
    ),
    "advice_comments": ("id", "advice_request_id", "author_id", "body", "created_at"),
    "conflict_declarations": ("id", "advice_request_id", "user_id", "reason", "declared_at"),
    "refusal_intents": (
        "id", "application_id", "created_by_id", "kind", "proposed_cents", "grounds", "reasons",
        "sent_on", "view_due", "view", "view_on", "closed",
    ),
    "decisions": (
        "id", "application_id", "outcome", "status", "amount_cents", "conditions", "grounds",
        "reasons", "view_answer", "advice_answer", "without_advice", "decided_by_id",
        "decided_at", "approved_by_id", "approved_at", "sent_on", "objection_due",
    ),
    "objections": (
        "id", "application_id", "decision_id", "lodged_by_id", "reasons", "lodged_on",
        "hearing_on", "hearing_notes", "outcome", "outcome_reasons", "decided_by_id",
        "decided_on",
    ),
    "accountability_reports": (
        "id", "application_id", "what_happened", "participants", "went_well", "do_differently",
        "would_recommend", "actual_total_cents", "submitted_by_id", "submitted_at",
    ),
    "report_lines": ("id", "report_id", "position", "description", "planned_cents", "actual_cents"),
    "settlements": (
        "id", "application_id", "status", "kind", "final_cents", "reasons", "decided_by_id",
        "decided_at", "view_due", "view", "view_on", "recovery_cents", "recovery_reference",
        "recovery_due", "recovery_status", "recovery_received_at",
    ),
    "payment_batches": (
        "id", "status", "created_by_id", "created_at", "approved_by_id", "approved_at",
        "execution_date", "message_id", "exported_at", "paid_by_id", "paid_at",
    ),
    "payments": (
        "id", "application_id", "decision_id", "kind", "amount_cents", "iban", "account_holder",
        "reference", "status", "batch_id", "created_at", "paid_at",
    ),
    "ledger_entries": (
        "id", "budget_id", "application_id", "kind", "allocated_delta", "committed_delta",
        "paid_delta", "recovered_delta", "description", "actor_id", "created_at",
    ),
    "initiative_updates": (
        "id", "initiative_id", "kind", "code", "body", "author_id", "created_at",
    ),
    "initiative_supports": ("initiative_id", "user_id", "created_at"),
    "initiative_help_offers": (
        "id", "initiative_id", "user_id", "kind", "what", "time_available", "created_at",
    ),
    "initiative_messages": (
        "id", "initiative_id", "help_offer_id", "sender_id", "recipient_id", "body", "created_at",
    ),
    "initiative_comments": (
        "id", "initiative_id", "author_id", "body", "created_at", "hidden_at", "hidden_by_id",
        "hidden_reason", "report_count",
    ),
    "initiative_comment_reports": ("comment_id", "user_id", "reason", "created_at", "handled_at"),
    "initiative_comment_blocks": ("user_id", "blocked_by_id", "reason", "created_at"),
    "audit_records": (
        "id", "actor_id", "action", "object_type", "object_id", "from_state", "to_state",
        "reason", "origin", "created_at",
    ),
}  # fmt: skip
COPY_ORDER = list(COLUMNS)
SERIAL_TABLES = [name for name, columns in COLUMNS.items() if columns[0] == "id"]


# --- words ----------------------------------------------------------------------------------

FIRST_NAMES = (
    "Anna", "Bram", "Daan", "Emma", "Fleur", "Gijs", "Hanna", "Iris", "Jan", "Joost", "Lotte",
    "Luuk", "Maartje", "Noah", "Olga", "Pieter", "Roos", "Sander", "Tessa", "Thijs", "Vera", "Wim",
    "Yara", "Zeynep", "Mohamed", "Fatima", "Ahmet", "Ayse", "Kevin", "Lisa", "Sven", "Ingrid",
    "Henk", "Gerda", "Mehmet", "Priya", "Jeroen", "Sanne", "Ruud", "Marloes", "Esther", "Bas",
    "Nina", "Koen", "Eline", "Tim", "Femke", "Rik", "Sarah", "Youssef", "Hatice", "Dirk", "Johan",
    "Marieke", "Anouk", "Willem", "Grietje", "Harm", "Hendrik", "Janneke", "Kees", "Miriam",
    "Stijn", "Ilse", "Wouter", "Naima", "Omar", "Rachid", "Samira", "Lieke", "Mees", "Sem",
    "Julia", "Milan",
)  # fmt: skip
LAST_NAMES = (
    "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks",
    "Dekker", "Brouwer", "Dijkstra", "Smits", "Kok", "Jacobs", "Haverkamp", "Nijhuis", "Wessels",
    "Kuipers", "Lammers", "Brinkman", "Kamphuis", "Scholten", "Pool", "Kleinjan", "Yilmaz",
    "Demir", "Bulut", "Huisman", "Reef", "Veldhuis", "Hofman", "Timmerman", "Post", "Koster",
    "Prins", "Blom", "Wolters", "Hulshof", "Oosterhof", "Boerrigter", "Lohuis", "Morsink",
    "Snijders", "Geerdink", "Schutte", "Nijenhuis", "Pierik", "Hassink", "Leferink", "Olthof",
    "de Vries", "de Boer", "de Groot", "van Leeuwen", "de Wit", "de Graaf", "van der Meer",
    "Oude Kotte", "ter Horst", "El Amrani", "Öztürk", "ten Dam", "van den Berg", "Oude Vrielink",
)  # fmt: skip
STREETS = (
    "Kerkplein",
    "Oldenzaalsestraat",
    "Gronausestraat",
    "Hengelosestraat",
    "Haaksbergerstraat",
    "Deurningerstraat",
    "Lasondersingel",
    "Schuttersveld",
    "Van Heekplein",
    "Oude Markt",
    "Wooldriksweg",
    "Lonnekerbrugstraat",
    "Veldkampstraat",
    "Glanerbrugstraat",
    "Kuipersdijk",
    "Pathmossingel",
    "Espoortstraat",
    "Brinkstraat",
    "Dolphiastraat",
    "Helmerstraat",
    "Wesselerbrinklaan",
    "Stroinksbleekweg",
    "Lindenhofstraat",
    "Velvetlaan",
    "Usselerweg",
)
PLACES = (
    "op het {street}",
    "aan de {street}",
    "in het buurthuis",
    "in de speeltuin",
    "op het schoolplein",
    "in het park",
    "bij de kerk",
    "in de wijk",
)

# name, kaders, lines: (description, category, quantities, unit price range in euros)
ACTIVITIES: list[
    tuple[str, tuple[str, ...], list[tuple[str, str, tuple[int, ...], tuple[int, int]]]]
]
ACTIVITIES = [
    ("Buurtbarbecue", ("sociale_samenhang", "leefbaarheid"), [
        ("Huur partytent", "huur_spullen", (1, 1, 2), (120, 350)),
        ("Vlees, groente en brood", "eten_drinken", (40, 60, 80, 120), (3, 8)),
        ("Flyers voor de buurt", "drukwerk", (100, 250, 500), (0, 1)),
    ]),
    ("Moestuin", ("duurzaam_gedrag", "sociale_samenhang"), [
        ("Houten bakken", "materialen", (4, 6, 8, 10), (60, 180)),
        ("Zaden en aarde", "materialen", (1, 2), (80, 200)),
        ("Gereedschap", "materialen", (1,), (100, 300)),
    ]),
    ("Opschoondag", ("schone_hele_leefomgeving",), [
        ("Grijpers en zakken", "materialen", (10, 20, 30), (5, 12)),
        ("Koffie en koek", "eten_drinken", (20, 40, 60), (1, 3)),
    ]),
    ("Kinderfeest", ("sociale_samenhang", "leefbaarheid"), [
        ("Springkussen", "huur_spullen", (1,), (150, 400)),
        ("Limonade en snoep", "eten_drinken", (50, 100, 150), (1, 3)),
        ("Knutselmateriaal", "materialen", (1, 2), (50, 150)),
        ("Verzekering evenement", "verzekering", (1,), (40, 120)),
    ]),
    ("Taalcafé", ("arbeidsparticipatie", "sociale_samenhang"), [
        ("Huur zaal", "huur_ruimte", (10, 20, 40), (25, 60)),
        ("Lesmateriaal", "materialen", (10, 20, 30), (8, 25)),
        ("Koffie en thee", "eten_drinken", (40, 80), (1, 2)),
    ]),
    ("Buurtpreventie", ("veiligheidsgevoel",), [
        ("Hesjes en zaklampen", "materialen", (10, 20), (10, 30)),
        ("Bordjes 'buurtpreventie'", "drukwerk", (4, 8, 12), (25, 60)),
        ("Training door de politie", "begeleiding", (1,), (150, 450)),
    ]),
    ("Repair café", ("duurzaam_gedrag", "sociale_samenhang"), [
        ("Gereedschap en onderdelen", "materialen", (1, 2), (150, 500)),
        ("Huur zaal", "huur_ruimte", (6, 12), (30, 70)),
        ("Koffie en koek", "eten_drinken", (30, 60), (1, 3)),
    ]),
    ("Straatfeest", ("sociale_samenhang",), [
        ("Geluidsinstallatie", "huur_spullen", (1,), (200, 600)),
        ("Hapjes", "eten_drinken", (80, 150, 250), (2, 5)),
        ("Vergunning", "verzekering", (1,), (50, 150)),
        ("Affiches", "drukwerk", (20, 50), (1, 3)),
    ]),
    ("Geveltuintjes", ("schone_hele_leefomgeving", "leefbaarheid"), [
        ("Planten", "materialen", (50, 100, 200), (3, 9)),
        ("Tegels eruit en aarde erin", "materialen", (1,), (200, 600)),
    ]),
    ("Huiswerkklas", ("arbeidsparticipatie", "sociale_samenhang"), [
        ("Huur lokaal", "huur_ruimte", (20, 30, 40), (20, 45)),
        ("Begeleiding door een docent", "begeleiding", (10, 20), (40, 75)),
        ("Schriften en boeken", "materialen", (1,), (100, 300)),
    ]),
    ("Ouderenmiddag", ("wijkdiensten_hulpbehoevenden", "sociale_samenhang"), [
        ("Vervoer per busje", "huur_spullen", (2, 4, 6), (60, 150)),
        ("Warme maaltijd", "eten_drinken", (30, 50, 80), (6, 14)),
        ("Muziek", "begeleiding", (1,), (150, 450)),
    ]),
    ("Muurschildering", ("leefbaarheid", "veiligheidsgevoel"), [
        ("Verf en kwasten", "materialen", (1, 2), (300, 900)),
        ("Kunstenaar die begeleidt", "begeleiding", (1,), (800, 2200)),
        ("Steiger", "huur_spullen", (1,), (250, 700)),
    ]),
    ("Jeu de boules-baan", ("sociale_samenhang", "leefbaarheid"), [
        ("Grind en houten banden", "materialen", (1,), (800, 2500)),
        ("Ballen", "materialen", (4, 6, 8), (25, 60)),
        ("Bankje", "materialen", (1, 2), (250, 600)),
    ]),
    ("Speeltoestel", ("leefbaarheid",), [
        ("Speeltoestel", "materialen", (1,), (1500, 3800)),
        ("Valdempende tegels", "materialen", (20, 40), (15, 35)),
        ("Keuring", "verzekering", (1,), (150, 350)),
    ]),
    ("Kerstmarkt", ("sociale_samenhang",), [
        ("Kraampjes", "huur_spullen", (6, 10, 15), (35, 80)),
        ("Verlichting", "huur_spullen", (1,), (150, 400)),
        ("Chocolademelk", "eten_drinken", (100, 200), (1, 2)),
        ("Vergunning", "verzekering", (1,), (50, 150)),
    ]),
    ("Voorleesochtend", ("sociale_samenhang",), [
        ("Boeken", "materialen", (10, 20), (8, 20)),
        ("Ranja en koekjes", "eten_drinken", (30, 60), (1, 2)),
    ]),
    ("Wandelgroep", ("wijkdiensten_hulpbehoevenden", "sociale_samenhang"), [
        ("Hesjes", "materialen", (15, 30), (4, 10)),
        ("Koffie na afloop", "eten_drinken", (40, 80, 120), (1, 3)),
        ("Folder", "drukwerk", (200, 500), (0, 1)),
    ]),
    ("Buurtbieb", ("sociale_samenhang", "duurzaam_gedrag"), [
        ("Kastje voor buiten", "materialen", (1,), (150, 450)),
        ("Plaatsing", "overig", (1,), (50, 200)),
    ]),
    ("Sportdag", ("leefbaarheid", "sociale_samenhang"), [
        ("Sportmateriaal", "huur_spullen", (1,), (200, 600)),
        ("Begeleiding sportleraar", "begeleiding", (1, 2), (150, 400)),
        ("Fruit en water", "eten_drinken", (60, 100, 150), (1, 2)),
        ("Medailles", "materialen", (60, 100), (1, 4)),
    ]),
    ("Energiecafé", ("duurzaam_gedrag",), [
        ("Energiecoach", "begeleiding", (2, 4, 6), (60, 150)),
        ("Radiatorfolie en tochtstrips", "materialen", (30, 60, 100), (5, 15)),
        ("Huur zaal", "huur_ruimte", (2, 4), (40, 90)),
    ]),
]  # fmt: skip

INITIATIVES = [
    ("Repair Café {district}", "Elke eerste zaterdag samen spullen repareren in het buurthuis.",
     ("duurzaam_gedrag", "sociale_samenhang"), ("volunteers", "expertise")),
    ("Moestuin aan de {street}", "Samen groente kweken en oogsten, voor jong en oud.",
     ("duurzaam_gedrag", "leefbaarheid"), ("volunteers", "materials", "space")),
    ("Samen koken in {district}", "Elke donderdag een warme maaltijd voor wie alleen is.",
     ("wijkdiensten_hulpbehoevenden", "sociale_samenhang"), ("volunteers", "space")),
    ("Speelstraat in de {street}", "Eén zondag per maand de straat dicht voor auto's.",
     ("leefbaarheid", "veiligheidsgevoel"), ("volunteers", "materials")),
    ("Taalcafé {district}", "Nederlands oefenen met buren, gewoon aan de koffietafel.",
     ("arbeidsparticipatie", "sociale_samenhang"), ("volunteers", "space", "expertise")),
    ("Buurtpreventie {district}", "Samen een oogje in het zeil, met duidelijke afspraken.",
     ("veiligheidsgevoel",), ("volunteers", "expertise")),
    ("Zwerfafvalteam {district}", "Eén keer per maand de wijk schoon, met grijpers en koffie.",
     ("schone_hele_leefomgeving",), ("volunteers", "materials")),
    ("Buurtbieb bij de {street}", "Een kastje vol boeken: breng er één, neem er één.",
     ("sociale_samenhang", "duurzaam_gedrag"), ("materials",)),
    ("Huiswerkhulp in {district}", "Studenten helpen kinderen met hun huiswerk.",
     ("arbeidsparticipatie",), ("volunteers", "space", "expertise")),
    ("Bloembakken langs de {street}", "Van grijze stoep naar een bloeiende straat.",
     ("schone_hele_leefomgeving", "leefbaarheid"), ("materials", "money", "space")),
    ("Wandelclub {district}", "Elke dinsdag een uur wandelen en daarna koffie.",
     ("wijkdiensten_hulpbehoevenden", "sociale_samenhang"), ("volunteers",)),
    ("Kledingruil in {district}", "Kleding die niet meer past, vindt een nieuwe eigenaar.",
     ("duurzaam_gedrag",), ("space", "volunteers")),
    ("Muurschildering aan de {street}", "Een kale muur wordt een kunstwerk van de buurt.",
     ("leefbaarheid",), ("money", "expertise", "materials")),
    ("Burendag {district}", "Een dag om de buren te leren kennen, met muziek en eten.",
     ("sociale_samenhang",), ("volunteers", "money", "materials")),
    ("Energiecoaches {district}", "Buren helpen buren met een lagere energierekening.",
     ("duurzaam_gedrag",), ("expertise", "volunteers")),
    ("Jongerenavond in {district}", "Een plek voor jongeren om te chillen en te gamen.",
     ("veiligheidsgevoel", "sociale_samenhang"), ("space", "volunteers", "money")),
]  # fmt: skip

COMMENTS = (
    "Wat een goed idee! Ik doe graag mee.",
    "Wanneer is de eerste keer?",
    "Mijn kinderen vinden dit geweldig.",
    "Ik kan helpen met opbouwen.",
    "Is er ook iets voor ouderen?",
    "Top dat dit in onze wijk gebeurt.",
    "Ik heb nog materiaal liggen dat jullie mogen hebben.",
    "Komt er ook een datum in het weekend?",
    "Mooi initiatief, succes!",
    "Hoe kan ik me aanmelden?",
    "Ik neem de buren mee.",
    "Jammer dat ik er niet bij kon zijn, volgende keer wel!",
)
RUDE_COMMENTS = (
    "Wat een onzin, zonde van het geld.",
    "Dit is reclame voor mijn bedrijf: bel 06-12345678!",
    "Die organisatoren deugen niet.",
)
UPDATES = (
    "Dank aan iedereen die zaterdag kwam helpen!",
    "We hebben een vaste plek gevonden.",
    "Er zijn nu twintig vrijwilligers. Geweldig!",
    "De eerste keer was een succes. Foto's volgen.",
    "We zoeken nog iemand die kan helpen met de website.",
    "Volgende maand gaan we verder.",
)
HELP_WHAT = {
    "volunteers": "Ik kan meehelpen op de dag zelf.",
    "space": "Onze kantine is op zaterdag vrij.",
    "materials": "Ik heb tafels en stoelen die jullie kunnen lenen.",
    "expertise": "Ik ben elektricien en help graag met advies.",
    "money": "Onze vereniging wil een kleine bijdrage geven.",
}
QUESTIONS = (
    "Wilt u een offerte sturen voor de grootste kostenpost?",
    "Wilt u een tekening of foto sturen van de plek?",
    "Van wie is de grond waar de activiteit plaatsvindt? Stuur de toestemming mee.",
    "Wilt u toelichten hoeveel buren meedoen en hoe u ze bereikt?",
)
GRANT_REASONS = (
    "De aanvraag voldoet aan de regels van de verordening en past in de kaders.",
    "De activiteit brengt buren bij elkaar en er is voldoende draagvlak in de wijk.",
    "Een goed plan met een duidelijke begroting; het wijkorgaan adviseert positief.",
)
GRANT_CONDITIONS = (
    "Vermeld op de flyer dat de activiteit betaald is uit het wijkbudget.",
    "Bewaar de bonnen voor de verantwoording.",
    "Zorg voor een vergunning van de gemeente voordat de activiteit begint.",
)
REFUSE_REASONS = (
    "De aanvraag voldoet niet aan de regels van de verordening wijkbudgetten.",
    "Het wijkbudget van dit jaar is op.",
    "De begroting bevat kosten die het wijkbudget niet betaalt.",
)
VIEWS = (
    "Ik begrijp het besluit niet: de activiteit is voor de hele buurt.",
    "We kunnen de begroting aanpassen als dat helpt.",
    "Wij vinden dat de gemeente te streng is.",
)


def _slugify(title: str) -> str:
    from portal.initiatives.services import slugify

    return slugify(title)


@cache
def _add_period(start: date, weeks: int = 0, days: int = 0) -> date:
    return deadlines.add_period(start, weeks=weeks, days=days)


@cache
def _add_working_days(start: date, n: int) -> date:
    return deadlines.add_working_days(start, n)


@cache
def _decision_deadline(received: date, weeks: int, suspended: int, extension: int) -> date:
    return deadlines.decision_deadline(
        received, weeks=weeks, suspended_days=suspended, extension_weeks=extension
    )


def _iban(rng: random.Random) -> str:
    bank = rng.choice(("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ"))
    bban = f"{bank}{rng.randrange(10**9, 10**10):010d}"
    number = "".join(str(ord(c) - 55) if c.isalpha() else c for c in bban + "NL00")
    return f"NL{98 - int(number) % 97:02d}{bban}"


def _at(day: date, rng: random.Random, first_hour: int = 7, last_hour: int = 19) -> datetime:
    """A moment on ``day`` in office-ish hours (naive UTC, as the database stores it)."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)


# --- the applications' life, as steps ----------------------------------------------------------


class _Plan:
    """One application before it becomes rows: its steps, as day offsets from submission (or,
    for a draft, from the day it was made), placed in time by ``_Generator.place``."""

    __slots__ = (
        "activity",
        "advice",
        "amount_grant",
        "applicant",
        "council",
        "created_ts",
        "district",
        "extension",
        "four_eyes",
        "id",
        "initiative_id",
        "kaders",
        "lines",
        "location",
        "other_funding",
        "reference",
        "requested",
        "state",
        "steps",
        "submitted",
        "submitted_ts",
        "title",
        "total",
        "zero",
    )

    def __init__(self, state: str) -> None:
        self.state = state
        self.steps: list[tuple[int, str, dict[str, Any]]] = []
        self.activity = (0, 0)
        self.advice = ""
        self.amount_grant = 0
        self.council: int | None = None
        self.extension = 0
        self.four_eyes = False
        self.initiative_id: int | None = None
        self.reference: str | None = None
        self.submitted: date | None = None
        self.submitted_ts: datetime | None = None


STATE_WEIGHTS = {
    "draft": 6.0,
    "submitted": 3.0,
    "info_requested": 2.5,
    "in_review": 4.0,
    "awaiting_advice": 1.5,
    "advised": 1.0,
    "intent_sent": 1.2,
    "awaiting_approval": 0.8,
    "granted": 9.0,
    "accounted": 3.0,
    "refused": 11.0,
    "not_considered": 2.5,
    "withdrawn": 4.5,
    "settled": 2.0,
    "closed": 48.0,
}
# How many days before --today the last step of an application in this state happened.
LAST_STEP_AGO = {
    "draft": (1, 150),
    "submitted": (1, 10),
    "info_requested": (1, 30),
    "in_review": (1, 70),
    "awaiting_advice": (1, 40),
    "advised": (1, 35),
    "intent_sent": (1, 25),
    "awaiting_approval": (1, 14),
    "granted": (1, 150),
    "accounted": (1, 60),
    "settled": (1, 40),
}
EVER = (1, 100_000)  # refused, not considered, withdrawn, closed: any time since the start
INITIATIVE_WEIGHTS = {
    "draft": 4.0,
    "submitted": 2.0,
    "changes_requested": 2.0,
    "published": 40.0,
    "in_conversation": 14.0,
    "running": 18.0,
    "realised": 13.0,
    "stopped": 7.0,
}
INITIATIVE_LAST_STEP_AGO = {
    "draft": (1, 200),
    "submitted": (1, 6),
    "changes_requested": (1, 30),
    "published": (1, 400),
}
PUBLIC = ("published", "in_conversation", "running", "realised", "stopped")
ACTIVE = ("published", "in_conversation", "running")


def _quotas(weights: dict[str, float], total: int) -> list[str]:
    """``total`` states in proportion to ``weights``; each at least once when there is room."""
    ordered = sorted(weights, key=lambda s: -weights[s])
    if total < len(weights):
        return ordered[:total]
    scale = sum(weights.values())
    counts = {s: max(1, int(total * w / scale)) for s, w in weights.items()}
    counts[ordered[0]] += total - sum(counts.values())
    return [s for s in weights for _ in range(counts[s])]


@dataclass
class _Batch:
    id: int
    status: str
    created_by: int
    created_at: datetime
    approved_by: int | None = None
    approved_at: datetime | None = None
    execution_date: date | None = None
    message_id: str | None = None
    exported_at: datetime | None = None
    paid_by: int | None = None
    paid_at: datetime | None = None
    payments: list[int] = field(default_factory=list)


class _Generator:
    def __init__(
        self, context: _Context, seed: int, applications: int, initiatives: int, users: int
    ) -> None:
        self.c = context
        self.seed = seed
        self.n_applications = applications
        self.n_initiatives = initiatives
        self.n_users = users
        self.today = context.today
        self.cap = context.today - timedelta(days=1)  # the last day on which anything happened
        self.cap_end = datetime(self.cap.year, self.cap.month, self.cap.day, 21)
        self.first_day = context.ruleset["effective_from"]
        self.rules = context.ruleset
        self.tables: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.next_id = {name: context.max_ids[name] + 1 for name in SERIAL_TABLES}
        # Gathered first, numbered in the order they happened at the end:
        self.audit: list[tuple[Any, ...]] = []  # (moment, actor, action, type, id, from, to, why)
        # (moment, budget key, application, kind, four deltas, why, actor)
        self.ledger: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []  # (moment, initiative, kind, code, body, author)
        self.reference_counters: dict[int, int] = {}
        self.batches: dict[tuple[int, date], _Batch] = {}
        self.by_id = {d.id: d for d in context.districts}
        self.council_districts = [d.id for d in context.districts if d.councils]
        self.plain_districts = [d.id for d in context.districts if not d.councils]

    def rng(self, part: str) -> random.Random:
        """One stream per part, so that a change in one part does not shift the others."""
        return random.Random(f"wijkkracht-scale-{self.seed}-{part}")

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def run(self) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        self.make_users()
        plans = self.plan_applications()
        self.make_initiatives(plans)
        rng = self.rng("application-rows")
        for plan in plans:
            self.emit(rng, plan)
        self.emit_batches()
        self.emit_budgets()
        self.emit_sorted()
        return {name: (COLUMNS[name], rows) for name, rows in self.tables.items()}

    # --- users -------------------------------------------------------------------------------

    def make_users(self) -> None:
        from argon2 import PasswordHasher

        rng = self.rng("users")
        password = current_app.config["PORTAL_DEMO_PASSWORD"]
        password_hash = PasswordHasher().hash(password, salt=rng.randbytes(16))
        n = self.n_users
        n_officers = max(10, n // 160)
        n_council = max(3 * len(self.c.councils), n // 330)
        n_finance = max(2, n // 2500)
        n_admins = max(1, n // 10_000)
        n_residents = n - n_officers - n_finance - n_admins
        districts = self.c.districts
        cumulative = list(accumulate(d.weight for d in districts))
        pairs = [a + b for a in map(chr, range(65, 91)) for b in map(chr, range(65, 91))]
        letters = [pair for pair in pairs if pair not in ("SA", "SD", "SS")]
        early = self.first_day - timedelta(days=120)
        span = (self.cap - early).days
        specs: list[tuple[datetime, str, _District | None, str | None, str | None]] = []
        for index in range(n_residents):
            if index < n_council:
                district = self.by_id[self.council_districts[index % len(self.council_districts)]]
            else:
                district = districts[bisect_right(cumulative, rng.random() * cumulative[-1])]
            offset = rng.randrange(120) if rng.random() < 0.55 else rng.randrange(span)
            low, high = rng.choice(district.ranges)
            postcode = f"{rng.randint(low, high)}{rng.choice(letters)}"
            number = str(rng.randint(1, 250)) + ("A" if rng.random() < 0.04 else "")
            kind = "council" if index < n_council else "resident"
            moment = _at(early + timedelta(days=offset), rng, 6, 21)
            specs.append((moment, kind, district, postcode, number))
        for kind, count in (("officer", n_officers), ("finance", n_finance), ("admin", n_admins)):
            for _ in range(count):
                day = early - timedelta(days=rng.randrange(1, 90))
                specs.append((_at(day, rng), kind, None, None, None))
        specs.sort(key=lambda spec: spec[0])
        prefixes = {
            "resident": ("bewoner", 5),
            "council": ("wijkorgaan", 4),
            "officer": ("behandelaar", 4),
            "finance": ("financien", 2),
            "admin": ("beheerder", 2),
        }
        numbers: dict[str, int] = defaultdict(int)
        # uid -> (name, email, postcode, house number, district id, created)
        self.user_info: dict[int, tuple[str, str, str | None, str | None, int | None, datetime]]
        self.user_info = dict(self.c.existing_users)
        # Residents who can act (active, verified), by the moment they joined: all, per district.
        self.resident_ts: list[datetime] = []
        self.resident_ids: list[int] = []
        self.district_ts: dict[int, list[datetime]] = defaultdict(list)
        self.district_ids: dict[int, list[int]] = defaultdict(list)
        self.officers: dict[int, list[int]] = defaultdict(list)
        for borough, officers in self.c.officers.items():
            self.officers[borough].extend(officers)
        self.finance = list(self.c.finance)
        self.admins = list(self.c.admins)
        boroughs = [b for b, _name in self.c.boroughs]
        council_members: list[tuple[int, _District]] = []
        users, roles = self.tables["users"], self.tables["user_roles"]
        officer_count = 0
        for created, kind, district, postcode, number in specs:
            uid = self.take("users")
            numbers[kind] += 1
            prefix, width = prefixes[kind]
            email = f"{prefix}-{numbers[kind]:0{width}d}@{SCALE_DOMAIN}"
            name = self.person_name(rng)
            resident = kind in ("resident", "council")
            active = kind != "resident" or rng.random() > 0.003
            verified: datetime | None = created + timedelta(minutes=rng.randint(2, 600))
            if kind == "resident" and rng.random() < 0.01:
                verified = None
            last_login = None
            if rng.random() < 0.8:
                seconds = max(60, (self.cap_end - created).total_seconds())
                last_login = created + timedelta(seconds=rng.randrange(int(seconds)))
            district_id = district.id if district else None
            users.append(
                (
                    uid,
                    name,
                    email,
                    password_hash,
                    postcode,
                    number,
                    district_id,
                    created if resident else None,
                    verified,
                    "en" if rng.random() < 0.07 else "nl",
                    self.token(rng),
                    active,
                    created,
                    last_login,
                )
            )
            self.user_info[uid] = (name, email, postcode, number, district_id, created)
            if resident:
                assert district is not None
                roles.append((uid, "resident"))
                if active and verified is not None:
                    self.resident_ts.append(created)
                    self.resident_ids.append(uid)
                    self.district_ts[district.id].append(created)
                    self.district_ids[district.id].append(uid)
                if kind == "council":
                    council_members.append((uid, district))
            elif kind == "officer":
                roles.append((uid, "case_officer"))
                handled = {boroughs[officer_count % len(boroughs)]}
                if rng.random() < 0.3:
                    handled.add(rng.choice(boroughs))
                for borough in sorted(handled):
                    self.tables["case_officer_boroughs"].append((uid, borough))
                    self.officers[borough].append(uid)
                officer_count += 1
            elif kind == "finance":
                roles.append((uid, "finance"))
                self.finance.append(uid)
            else:
                roles.append((uid, "admin"))
                self.admins.append(uid)
        self.make_councils(council_members)

    def make_councils(self, council_members: list[tuple[int, _District]]) -> None:
        """Each council a secretary, a chair where it has none yet, and members."""
        self.advisers: dict[int, list[int]] = defaultdict(list)  # chair and secretary
        self.members: dict[int, list[int]] = defaultdict(list)  # everyone
        has_chair: set[int] = set()
        for council, holders in self.c.council_roles.items():
            for uid, role in holders:
                self.members[council].append(uid)
                if role in ("chair", "secretary"):
                    self.advisers[council].append(uid)
                if role == "chair":
                    has_chair.add(council)
        seen_in_district: dict[int, int] = defaultdict(int)
        seen_in_council: dict[int, int] = defaultdict(int)
        for uid, district in council_members:
            council = district.councils[seen_in_district[district.id] % len(district.councils)]
            seen_in_district[district.id] += 1
            seen_in_council[council] += 1
            if seen_in_council[council] == 1:
                role = "secretary"
            elif seen_in_council[council] == 2 and council not in has_chair:
                role = "chair"
            else:
                role = "member"
            membership = self.take("council_memberships")
            self.tables["council_memberships"].append((membership, council, uid, role))
            self.members[council].append(uid)
            if role != "member":
                self.advisers[council].append(uid)
        for council in self.c.councils:
            if not self.advisers[council]:
                raise ScaleRefused(f"Council {council} has no chair or secretary: add --users.")

    @staticmethod
    def person_name(rng: random.Random) -> str:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    @staticmethod
    def token(rng: random.Random) -> str:
        return base64.urlsafe_b64encode(rng.randbytes(24)).decode()

    @staticmethod
    def hex(rng: random.Random) -> str:
        return f"{rng.getrandbits(128):032x}"

    def resident_before(
        self, rng: random.Random, moment: datetime, district: int | None = None
    ) -> int:
        """A resident (of ``district``) who had an account at ``moment``."""
        stamps = self.resident_ts if district is None else self.district_ts[district]
        ids = self.resident_ids if district is None else self.district_ids[district]
        if not ids:
            return self.resident_before(rng, moment)
        count = bisect_left(stamps, moment)
        return ids[rng.randrange(count)] if count else ids[0]

    def sample_residents(
        self, rng: random.Random, count: int, before: datetime, district: int | None, exclude: int
    ) -> list[int]:
        """Up to ``count`` different residents who had an account at ``before``; mostly of
        ``district`` when it has enough of them."""
        stamps, ids = self.resident_ts, self.resident_ids
        if district is not None and rng.random() < 0.7:
            local = bisect_left(self.district_ts[district], before)
            if local >= count * 2:
                stamps, ids = self.district_ts[district], self.district_ids[district]
        available = bisect_left(stamps, before)
        chosen = rng.sample(range(available), min(count, available))
        return sorted(ids[i] for i in chosen if ids[i] != exclude)

    def officer_for(self, rng: random.Random, district: int, other_than: int | None = None) -> int:
        pool = self.officers[self.by_id[district].borough_id]
        choice = rng.choice(pool)
        while choice == other_than:
            choice = rng.choice(pool)
        return choice

    @staticmethod
    def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
        seconds = int((end - start).total_seconds())
        return start + timedelta(seconds=rng.randrange(max(seconds, 60)))

    # --- applications: the plan of each --------------------------------------------------------

    def plan_applications(self) -> list[_Plan]:
        rng = self.rng("applications")
        states = _quotas(STATE_WEIGHTS, self.n_applications)
        rng.shuffle(states)
        plans = [self.plan(rng, state) for state in states]
        plans.sort(key=lambda p: p.created_ts)
        for plan in plans:
            plan.id = self.take("applications")
        # References in the order of submission, after those already handed out.
        counters = dict(self.c.counters)
        for plan in sorted((p for p in plans if p.submitted_ts), key=lambda p: p.submitted_ts):
            year = plan.submitted_ts.year  # type: ignore[union-attr]
            counters[year] = counters.get(year, 0) + 1
            plan.reference = f"WB-{year}-{counters[year]:04d}"
            self.reference_counters[year] = counters[year]
        return plans

    def plan(self, rng: random.Random, state: str) -> _Plan:
        p = _Plan(state)
        minimum = {"awaiting_advice": 100_001, "advised": 100_001, "awaiting_approval": 250_001}
        self.budget_for(rng, p, minimum.get(state, self.rules["min_amount_cents"]))
        small = p.requested <= self.rules["small_grant_limit_cents"]
        steps = p.steps
        where = "any"  # which districts fit: "council" (advice asked), "plain" (none needed)
        steps.append((-rng.randint(0, 30), "created", {}))
        if state == "draft":
            return self.place(rng, p, where)
        steps.append((0, "submitted", {}))
        o = 0
        if state != "not_considered" and rng.random() < 0.12:
            o = self.info_cycle(rng, p, o, answered=True)
        if state == "submitted":
            return self.place(rng, p, where)
        if state == "withdrawn":
            if rng.random() < 0.4:
                o += rng.randint(1, 5)
                steps.append((o, "accepted", {}))
            if rng.random() < 0.3:
                o = self.info_cycle(rng, p, o, answered=False)
            steps.append((o + rng.randint(1, 12), "withdrawn", {}))
            return self.place(rng, p, where)
        if state in ("info_requested", "not_considered"):
            if rng.random() < 0.4:
                o += rng.randint(1, 5)
                steps.append((o, "accepted", {}))
            o = self.info_cycle(rng, p, o, answered=False)
            if state == "not_considered":
                steps.append((o + rng.randint(20, 30), "not_considered", {}))
            return self.place(rng, p, where)
        o += rng.randint(1, 5)
        steps.append((o, "accepted", {}))
        if state != "in_review" and rng.random() < 0.05:
            o += rng.randint(1, 10)
            p.extension = rng.choice((2, 4, 6, 8))
            steps.append((o, "extended", {}))
        if state == "in_review":
            return self.place(rng, p, where)
        refuse = state == "refused" or (state == "intent_sent" and rng.random() < 0.6)
        # Advice of the council: needed above the small-grant limit where there is a council.
        if state in ("awaiting_advice", "advised") or (not small and rng.random() < 0.5):
            where = "council"
            o += rng.randint(0, 3)
            steps.append((o, "advice_requested", {}))
            if state == "awaiting_advice":
                return self.place(rng, p, where)
            if state == "advised" or rng.random() < 0.85:
                o += rng.randint(3, 18)
                weights = (30, 10, 60) if refuse else (78, 15, 7)
                outcome = rng.choices(("positive", "conditional", "negative"), weights)[0]
                steps.append((o, "advised", {"outcome": outcome}))
                p.advice = outcome
                if state == "advised":
                    return self.place(rng, p, where)
            else:  # the advice did not come in time: decided without it
                o += rng.randint(26, 40)
                p.advice = "late"
        elif not small:
            where = "plain"
        p.amount_grant = p.requested
        lower = not refuse and (state == "intent_sent" or rng.random() < 0.1)
        lower = lower and state != "awaiting_approval"
        if lower:
            p.amount_grant = int(p.requested * rng.uniform(0.5, 0.9)) // 100 * 100
            if not self.rules["min_amount_cents"] <= p.amount_grant < p.requested:
                lower, p.amount_grant = False, p.requested
                refuse = state == "intent_sent"
        if refuse or lower:
            o += rng.randint(1, 5)
            intent = o
            steps.append((o, "intent_sent", {"kind": "refuse" if refuse else "lower"}))
            if rng.random() < 0.45:
                o += rng.randint(1, 12)
                steps.append((o, "view_given", {}))
                if state == "intent_sent":
                    return self.place(rng, p, where)
                o += rng.randint(1, 6)
            else:
                if state == "intent_sent":
                    return self.place(rng, p, where)
                o = intent + rng.randint(19, 25)  # after the period for a view
        else:
            o += rng.randint(1, 7)
        if refuse:
            steps.append((o, "refused", {}))
            if rng.random() < 0.1:
                o += rng.randint(1, 40)
                steps.append((o, "objection_lodged", {}))
                if rng.random() < 0.7:
                    o += rng.randint(10, 30)
                    steps.append((o, "objection_heard", {}))
                    o += rng.randint(5, 20)
                    steps.append((o, "objection_rejected", {}))
            return self.place(rng, p, where)
        p.four_eyes = p.amount_grant > self.rules["four_eyes_limit_cents"]
        if p.four_eyes:
            steps.append((o, "grant_proposed", {}))
            if state == "awaiting_approval":
                return self.place(rng, p, where)
            o += rng.randint(0, 5)
            steps.append((o, "approved", {}))
        else:
            steps.append((o, "granted", {}))
        granted = o
        start = max(rng.randint(42, 70), granted + 7)
        end = start + rng.randint(0, 7)
        p.activity = (start, end)
        if state == "granted":
            return self.place(rng, p, where)
        # After the activity: the accounting (its first payment was paid by then), settlement.
        ex_officio = state in ("settled", "closed") and rng.random() < 0.08
        if ex_officio:
            o = end + rng.randint(62, 90)  # the accounting is overdue (Awb 4:47)
        else:
            o = max(end + rng.randint(1, 50), granted + 18)  # the first payment was paid
            steps.append((o, "accounted", {}))
            if state == "accounted":
                return self.place(rng, p, where)
        first = self.first_payment(p.amount_grant)
        small_grant = first == p.amount_grant
        if state == "settled":
            recovery = small_grant or rng.random() < 0.3
        else:
            recovery = rng.random() < (0.2 if small_grant else 0.08)
        if recovery:
            final = int(first * rng.uniform(0.0 if ex_officio else 0.4, 0.97)) // 100 * 100
        elif not small_grant and not ex_officio and rng.random() < 0.2:
            final = max(first, rng.randint(first, p.amount_grant) // 100 * 100)
        else:
            final = p.amount_grant
        if final < p.amount_grant and not ex_officio:
            o += rng.randint(3, 10)
            steps.append((o, "settlement_intended", {"final": final}))
            if rng.random() < 0.5:
                o += rng.randint(1, 12)
                steps.append((o, "settlement_view_given", {}))
                o += rng.randint(1, 5)
            else:
                o += rng.randint(19, 25)
        else:
            o += rng.randint(3, 30)
        steps.append((o, "settled", {"final": final, "ex_officio": ex_officio}))
        remainder = final - first
        if state == "settled":
            # Waiting for the last payment (placed so that it is not paid yet), or the money back.
            return self.place(rng, p, where, last_ago=(1, 8) if remainder > 0 else None)
        if remainder > 0:
            steps.append((o + 18, "closed", {"after": "payment"}))
        elif remainder < 0:
            steps.append((o + rng.randint(5, 40), "closed", {"after": "recovery"}))
        return self.place(rng, p, where)

    def info_cycle(self, rng: random.Random, p: _Plan, o: int, *, answered: bool) -> int:
        o += rng.randint(1, 4)
        p.steps.append((o, "info_requested", {}))
        if answered:
            o += rng.randint(1, 13)
            p.steps.append((o, "info_supplied", {}))
        return o

    def first_payment(self, amount: int) -> int:
        """All of a small grant, else the advance rounded up to the cent (as payments does)."""
        if amount <= self.rules["small_grant_limit_cents"]:
            return amount
        return -(-amount * self.rules["advance_percent"] // 100)

    def place(
        self, rng: random.Random, p: _Plan, where: str, last_ago: tuple[int, int] | None = None
    ) -> _Plan:
        """Put the steps in time (the last one ``LAST_STEP_AGO`` days before --today, nothing
        before the ruleset's start) and choose an applicant who had an account by then, in a
        district that fits: with a council when advice was asked, without one when a large
        grant was decided without advice."""
        low, high = last_ago or LAST_STEP_AGO.get(p.state, EVER)
        first, last = p.steps[0][0], p.steps[-1][0]
        room = (self.cap - self.first_day).days - (last - first)
        if room < 1:
            raise ScaleRefused("--today is too close to the ruleset's start for these cases.")
        low, high = min(low, room), min(high, room)
        last_day = self.cap - timedelta(days=rng.randint(low, high) - 1)
        p.zero = last_day - timedelta(days=last)
        p.created_ts = _at(p.zero + timedelta(days=first), rng)
        if where == "any":
            p.applicant = self.resident_before(rng, p.created_ts)
            p.district = self.user_info[p.applicant][4]  # type: ignore[assignment]
        else:
            options = self.council_districts if where == "council" else self.plain_districts
            p.district = rng.choice(options)
            p.applicant = self.resident_before(rng, p.created_ts, p.district)
            p.district = self.user_info[p.applicant][4]  # type: ignore[assignment]
        if where == "council":
            p.council = rng.choice(self.by_id[p.district].councils)
        if p.state != "draft":
            p.submitted = p.zero
            p.submitted_ts = max(_at(p.zero, rng), p.created_ts + timedelta(minutes=30))
        return p

    def budget_for(self, rng: random.Random, p: _Plan, minimum: int) -> None:
        """Budget lines of one of the activities; the request within the ruleset's bounds."""
        name, kaders, specs = rng.choice(ACTIVITIES)
        lines: list[list[Any]] = []
        for description, category, quantities, (low, high) in specs:
            if lines and rng.random() < 0.15:
                continue
            quantity = rng.choice(quantities)
            if high <= 1:
                price = rng.choice((25, 35, 50, 75, 95))
            else:
                price = rng.randint(low * 100, high * 100) // 50 * 50
            lines.append([description, category, quantity, price])
        total = sum(q * u for _d, _c, q, u in lines)
        if total < minimum:
            factor = -(-minimum // total)
            for line in lines:
                line[2] *= factor
            total = sum(q * u for _d, _c, q, u in lines)
        other = int(total * rng.uniform(0.1, 0.4)) // 100 * 100 if rng.random() < 0.15 else 0
        if total - other > self.rules["max_amount_cents"]:
            other = total - self.rules["max_amount_cents"] + rng.randint(0, 50) * 100
        if total - other < minimum:
            other = 0
        street = rng.choice(STREETS)
        p.lines = [tuple(line) for line in lines]
        p.total = total
        p.other_funding = other
        p.requested = total - other
        p.title = f"{name} {rng.choice(PLACES).format(street=street)}"
        p.kaders = list(kaders)
        p.location = street

    # --- initiatives -------------------------------------------------------------------------

    def make_initiatives(self, plans: list[_Plan]) -> None:
        rng = self.rng("initiatives")
        states = _quotas(INITIATIVE_WEIGHTS, self.n_initiatives)
        rng.shuffle(states)
        # Some applications were started from an initiative of the applicant, published well
        # after the applicant joined and before the application was made.
        candidates = [
            p
            for p in plans
            if p.state != "draft"
            and p.created_ts - self.user_info[p.applicant][5] > timedelta(days=90)
        ]
        linked = rng.sample(candidates, min(len(candidates), len(states) // 10, len(plans) // 50))
        linked.sort(key=lambda p: p.id)
        specs = [
            self.initiative_plan(rng, state, linked[i] if i < len(linked) else None)
            for i, state in enumerate(states)
        ]
        specs.sort(key=lambda spec: spec[1][0][0])
        for plan, moments, state, initiator in specs:
            self.initiative_rows(rng, plan, moments, state, initiator)
        # A few people blocked from commenting: authors of hidden comments.
        rows = self.tables["initiative_comments"]
        authors = sorted({row[2] for row in rows if row[5] is not None})
        officers = sorted({o for pool in self.officers.values() for o in pool})
        for uid in authors[: max(1, self.n_initiatives // 2000)]:
            reason = "Herhaaldelijk reacties die niet bij de spelregels passen."
            self.tables["initiative_comment_blocks"].append(
                (uid, rng.choice(officers), reason, self.cap_end - timedelta(hours=8))
            )

    def initiative_plan(
        self, rng: random.Random, state: str, plan: _Plan | None
    ) -> tuple[_Plan | None, list[tuple[datetime, str]], str, int]:
        if plan is not None:
            state = rng.choice(("in_conversation", "running", "realised"))
        steps: list[tuple[int, str]] = [(0, "created")]
        o = published = 0
        if state != "draft":
            o += rng.randint(0, 20)
            steps.append((o, "submitted"))
            if state == "changes_requested" or rng.random() < 0.08:
                o += rng.randint(1, 3)
                steps.append((o, "changes_requested"))
                if state != "changes_requested":
                    o += rng.randint(1, 10)
                    steps.append((o, "submitted"))
        if state in PUBLIC:
            o += rng.randint(0, 3)
            published = o
            steps.append((o, "published"))
            route = {
                "published": [],
                "in_conversation": ["in_conversation"],
                "running": rng.choice((["running"], ["in_conversation", "running"])),
                "realised": rng.choice((["running"], ["in_conversation", "running"])),
                "stopped": rng.choice(([], ["in_conversation"], ["running"])),
            }[state]
            for step in route:
                o += rng.randint(3, 60)
                steps.append((o, step))
            if state in ("realised", "stopped"):
                o += rng.randint(20, 150)
                steps.append((o, state))
        if plan is not None:
            # Published some days before the application was made; later steps up to today.
            zero = plan.created_ts.date() - timedelta(days=published + rng.randint(3, 30))
        else:
            low, high = INITIATIVE_LAST_STEP_AGO.get(state, EVER)
            room = (self.cap - self.first_day).days - o - 60
            low, high = min(low, room), min(high, room)
            zero = self.cap - timedelta(days=rng.randint(low, high) - 1 + o)
        moments: list[tuple[datetime, str]] = []
        for offset, name in steps:
            moment = _at(min(zero + timedelta(days=offset), self.cap), rng)
            if moments and moment <= moments[-1][0]:
                moment = moments[-1][0] + timedelta(minutes=rng.randint(5, 120))
            moments.append((moment, name))
        if plan is not None:
            return plan, moments, state, plan.applicant
        return plan, moments, state, self.resident_before(rng, moments[0][0])

    def initiative_rows(
        self,
        rng: random.Random,
        plan: _Plan | None,
        moments: list[tuple[datetime, str]],
        state: str,
        initiator: int,
    ) -> None:
        t = self.tables
        audit = self.audit
        iid = self.take("initiatives")
        district = self.user_info[initiator][4]
        assert district is not None
        template, pitch, themes, helps = rng.choice(INITIATIVES)
        title = template.format(district=self.by_id[district].name, street=rng.choice(STREETS))
        if plan is not None:
            plan.initiative_id = iid
            title = plan.title
        title = title[:120]
        citywide = plan is None and rng.random() < 0.06
        districts = set() if citywide else {district}
        if not citywide and rng.random() < 0.15:
            borough = self.by_id[district].borough_id
            districts.add(rng.choice([d.id for d in self.c.districts if d.borough_id == borough]))
        officers = self.officers[self.by_id[district].borough_id]
        if citywide:
            officers = sorted({o for pool in self.officers.values() for o in pool})
        officer = rng.choice(officers)
        submitted_at = review_due = published_at = changes = guide = None
        previous: str | None = None
        for moment, step in moments:
            if step == "created":
                audit.append(
                    (
                        moment,
                        initiator,
                        "initiative.created",
                        "initiative",
                        iid,
                        None,
                        "draft",
                        None,
                    )
                )
                previous = "draft"
                continue
            actor, reason = initiator, None
            if step == "submitted":
                submitted_at = moment
                review_due = _add_working_days(moment.date(), 2)
            elif step == "changes_requested":
                actor = officer
                changes = reason = "Wilt u in de beschrijving zetten waar en wanneer het is?"
            elif step == "published":
                actor = officer
                published_at = moment
            elif rng.random() < 0.3:
                actor = officer
            audit.append(
                (moment, actor, f"initiative.{step}", "initiative", iid, previous, step, reason)
            )
            if step in PUBLIC:
                self.updates.append((moment, iid, "status", step, "", actor))
            if step == "published" and rng.random() < 0.4:
                guide = rng.choice(officers)
                at = moment + timedelta(minutes=rng.randint(1, 30))
                why = self.user_info[guide][0]
                audit.append(
                    (at, officer, "initiative.guide_assigned", "initiative", iid, step, step, why)
                )
            previous = step
        row = [
            iid,
            _slugify(title),
            state,
            initiator,
            self.hex(rng),
            title,
            pitch,
            f"{pitch} Doe je mee? We zoeken nog buren die willen helpen. Iedereen is welkom, "
            "jong en oud.",
            citywide,
            "Stuur een bericht via deze pagina; ik antwoord binnen een week.",
            submitted_at,
            review_due,
            changes,
            published_at,
            guide,
            0,
            moments[0][0],
            moments[-1][0],
        ]
        t["initiatives"].append(row)
        t["initiative_districts"].extend((iid, d) for d in sorted(districts))
        chosen_themes = set(themes)
        if rng.random() < 0.3:
            chosen_themes.add(rng.choice(self.kaders()))
        t["initiative_themes"].extend((iid, theme) for theme in sorted(chosen_themes))
        t["initiative_help"].extend((iid, kind) for kind in sorted(helps))
        if published_at is None:
            return
        ended = moments[-1][0] if state in ("realised", "stopped") else self.cap_end
        if state in ("running", "realised") or rng.random() < 0.1:
            for _ in range(rng.randint(0, 3)):
                at = self.between(rng, published_at, ended)
                self.updates.append((at, iid, "update", None, rng.choice(UPDATES), initiator))
                audit.append(
                    (at, initiator, "initiative.update_posted", "initiative", iid, None, None, None)
                )
        # Supports: most initiatives a few, some very many.
        wanted = min(int(3 * rng.paretovariate(1.25)) - 3, 2500)
        if wanted > 0:
            supporters = self.sample_residents(rng, wanted, published_at, district, initiator)
            for uid in supporters:
                t["initiative_supports"].append((iid, uid, self.between(rng, published_at, ended)))
            row[15] = len(supporters)
        # Offers of help with the initiator's answers; a question through the contact form.
        if state != "stopped":
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                helper = self.resident_before(rng, published_at, district)
                if helper == initiator:
                    continue
                kind = rng.choice(sorted(helps))
                at = self.between(rng, published_at, ended)
                offer = self.take("initiative_help_offers")
                when = rng.choice(("", "Zaterdagochtend", "Twee uur per week"))
                t["initiative_help_offers"].append(
                    (offer, iid, helper, kind, HELP_WHAT[kind], when, at)
                )
                answered = at + timedelta(hours=rng.randint(2, 72))
                if rng.random() < 0.6 and answered <= self.cap_end:
                    body = "Dank je wel! Ik stuur je de details."
                    t["initiative_messages"].append(
                        (
                            self.take("initiative_messages"),
                            iid,
                            offer,
                            initiator,
                            helper,
                            body,
                            answered,
                        )
                    )
            if rng.random() < 0.1:
                sender = self.resident_before(rng, published_at)
                if sender != initiator:
                    at = self.between(rng, published_at, ended)
                    body = "Mag ik een keer komen kijken?"
                    t["initiative_messages"].append(
                        (self.take("initiative_messages"), iid, None, sender, initiator, body, at)
                    )
        # Comments: some reported, a few hidden by a case officer.
        comments, reports = t["initiative_comments"], t["initiative_comment_reports"]
        for _ in range(min(int(rng.expovariate(0.5)), 25)):
            if rng.random() < 0.15:
                author = initiator
            else:
                author = self.resident_before(
                    rng, published_at, district if rng.random() < 0.7 else None
                )
            at = self.between(rng, published_at, ended)
            cid = self.take("initiative_comments")
            roll = rng.random() if author != initiator else 1.0
            if roll < 0.04:
                hidden = min(at + timedelta(hours=rng.randint(1, 48)), self.cap_end)
                hidden = max(hidden, at + timedelta(minutes=60))
                hider = rng.choice(officers)
                why = "Deze reactie past niet bij de spelregels."
                reporters = self.sample_residents(rng, rng.randint(1, 3), at, None, author)
                for reporter in reporters:
                    reported = at + timedelta(minutes=rng.randint(5, 55))
                    reports.append((cid, reporter, "Dit is niet aardig.", reported, hidden))
                comments.append(
                    (
                        cid,
                        iid,
                        author,
                        rng.choice(RUDE_COMMENTS),
                        at,
                        hidden,
                        hider,
                        why,
                        len(reporters),
                    )
                )
                audit.append(
                    (
                        hidden,
                        hider,
                        "initiative.comment_hidden",
                        "initiative_comment",
                        cid,
                        None,
                        None,
                        why,
                    )
                )
            elif roll < 0.06:
                reporters = self.sample_residents(rng, 1, at, None, author)
                for reporter in reporters:
                    reported = at + timedelta(minutes=rng.randint(5, 500))
                    reports.append((cid, reporter, "Klopt dit wel?", reported, None))
                comments.append(
                    (cid, iid, author, rng.choice(COMMENTS), at, None, None, None, len(reporters))
                )
            else:
                comments.append((cid, iid, author, rng.choice(COMMENTS), at, None, None, None, 0))

    def kaders(self) -> list[str]:
        kaders = self.rules["kaders"]
        return list(json.loads(kaders) if isinstance(kaders, str) else kaders)

    # --- applications: the rows ----------------------------------------------------------------

    def emit(self, rng: random.Random, p: _Plan) -> None:
        t = self.tables
        rules = self.rules
        audit = self.audit
        aid = p.id
        applicant = p.applicant
        name, _email, postcode, _number, district, _joined = self.user_info[applicant]
        assert district is not None
        draft = p.state == "draft"
        complete = not draft or rng.random() < 0.5
        iban = _iban(rng) if complete else None
        officer = self.officer_for(rng, district)
        second = self.officer_for(rng, district, other_than=officer)
        audit.append(
            (
                p.created_ts,
                applicant,
                "application.created",
                "application",
                aid,
                None,
                "draft",
                None,
            )
        )
        if p.initiative_id is not None:
            why = f"application {aid}"
            audit.append(
                (
                    p.created_ts,
                    applicant,
                    "initiative.application_started",
                    "initiative",
                    p.initiative_id,
                    None,
                    None,
                    why,
                )
            )
        total = other = requested = 0
        if complete or rng.random() < 0.5:
            for position, (description, category, quantity, price) in enumerate(p.lines):
                t["budget_lines"].append(
                    (
                        self.take("budget_lines"),
                        aid,
                        position,
                        description,
                        category,
                        quantity,
                        price,
                    )
                )
            total, other, requested = p.total, p.other_funding, p.requested
        self.endorse(rng, p, draft)
        start_date = end_date = None
        if complete:
            if p.activity[0]:
                start_date = p.zero + timedelta(days=p.activity[0])
                end_date = p.zero + timedelta(days=p.activity[1])
            else:
                start_date = p.zero + timedelta(days=rng.randint(42, 120))
                end_date = start_date + timedelta(days=rng.randint(0, 3))
        state = "draft"
        suspended = extension_weeks = 0
        extension_reason = closed_at = granted_cents = None
        decision: list[Any] | None = None
        info: list[Any] | None = None
        advice: list[Any] | None = None
        intent: list[Any] | None = None
        objection: list[Any] | None = None
        settlement: list[Any] | None = None
        paid = 0
        budget_key: tuple[int, int] = (district, 0)
        last_paid: tuple[datetime, int] | None = None
        previous = p.created_ts

        def step_to(target: str, actor: int, reason: str | None = None, action: str = "") -> None:
            nonlocal state
            audit.append(
                (
                    moment,
                    actor,
                    f"application.{action or target}",
                    "application",
                    aid,
                    state,
                    target,
                    reason,
                )
            )
            state = target

        def stay(action: str, actor: int, reason: str | None = None) -> None:
            audit.append(
                (moment, actor, f"application.{action}", "application", aid, state, state, reason)
            )

        for offset, step, data in p.steps[1:]:
            if step == "submitted":
                moment = p.submitted_ts  # type: ignore[assignment]
            else:
                moment = _at(p.zero + timedelta(days=offset), rng)
            if moment <= previous:
                moment = previous + timedelta(minutes=rng.randint(3, 90))
            previous = moment
            today = moment.date()
            if step == "submitted":
                step_to("submitted", applicant)
                if p.initiative_id is not None:
                    self.updates.append(
                        (moment, p.initiative_id, "milestone", "application_submitted", "", None)
                    )
            elif step == "accepted":
                step_to("in_review", officer, action="accepted")
            elif step == "info_requested":
                questions = rng.choice(QUESTIONS)
                due = _add_period(today, 0, rules["info_period_days"])
                info = [
                    self.take("info_requests"),
                    aid,
                    officer,
                    questions,
                    today,
                    due,
                    None,
                    None,
                    None,
                    moment,
                ]
                t["info_requests"].append(info)
                step_to("info_requested", officer, questions)
            elif step == "info_supplied":
                assert info is not None
                info[6:9] = ["Hierbij de gevraagde informatie.", today, "answered"]
                suspended += max(0, (min(today, info[5]) - info[4]).days)
                step_to("submitted", applicant, action="info_supplied")
                info = None
            elif step == "not_considered":
                assert info is not None
                info[8] = "not_considered"
                suspended += max(0, (info[5] - info[4]).days)
                step_to("not_considered", officer, "De gevraagde informatie kwam niet op tijd.")
                closed_at = moment
                info = None
            elif step == "withdrawn":
                if info is not None:
                    info[8] = "withdrawn"
                    info = None
                why = rng.choice((None, "De activiteit gaat niet door.", "We doen het anders."))
                step_to("withdrawn", applicant, why)
                closed_at = moment
            elif step == "extended":
                extension_weeks = p.extension
                extension_reason = "Wij hebben meer tijd nodig om de aanvraag goed te beoordelen."
                stay("deadline_extended", officer, extension_reason)
            elif step == "advice_requested":
                note = rng.choice(
                    (None, "Graag uw advies over de begroting.", "Past dit in de wijk?")
                )
                due = _add_period(today, 0, rules["advice_period_days"])
                advice = [
                    self.take("advice_requests"),
                    aid,
                    p.council,
                    officer,
                    today,
                    due,
                    note,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ]
                t["advice_requests"].append(advice)
                self.discussion(rng, advice, moment)
                step_to("awaiting_advice", officer, note, action="advice_requested")
            elif step == "advised":
                assert advice is not None and p.council is not None
                outcome = data["outcome"]
                adviser = rng.choice(self.advisers[p.council])
                reasons = {
                    "positive": "Een mooi plan dat de buurt verbindt.",
                    "conditional": "Positief, als de activiteit ook voor ouderen te bezoeken is.",
                    "negative": "Dit plan past niet bij wat de wijk nu nodig heeft.",
                }[outcome]
                conditions = "Ook toegankelijk voor ouderen." if outcome == "conditional" else None
                proposed = None if outcome == "negative" else p.requested
                advice[7:13] = [outcome, reasons, conditions, proposed, adviser, moment]
                step_to("advised", adviser, reasons)
            elif step == "intent_sent":
                refuse = data["kind"] == "refuse"
                grounds = self.grounds(rng) if refuse else ["awb_4_25"]
                reasons = (
                    rng.choice(REFUSE_REASONS)
                    if refuse
                    else ("Het wijkbudget is niet genoeg voor het hele bedrag.")
                )
                view_due = _add_period(today, 0, rules["view_period_days"])
                proposed = None if refuse else p.amount_grant
                intent = [
                    self.take("refusal_intents"),
                    aid,
                    officer,
                    data["kind"],
                    proposed,
                    json.dumps(grounds),
                    reasons,
                    today,
                    view_due,
                    None,
                    None,
                    False,
                ]
                t["refusal_intents"].append(intent)
                step_to("intent_sent", officer, reasons)
            elif step == "view_given":
                assert intent is not None
                intent[9:11] = [rng.choice(VIEWS), today]
                stay("view_given", applicant)
            elif step in ("granted", "grant_proposed", "refused"):
                grant = step != "refused"
                decision = self.decision(
                    rng, p, grant, step == "grant_proposed", officer, moment, advice, intent
                )
                if step == "grant_proposed":
                    step_to("awaiting_approval", officer, decision[7], action="grant_proposed")
                elif step == "refused":
                    step_to("refused", officer, decision[7])
                    closed_at = moment
                else:
                    step_to("granted", officer, decision[7])
                    granted_cents = p.amount_grant
                    budget_key = (district, today.year)
                    paid = self.grant_money(
                        rng, p, decision[0], officer, moment, budget_key, iban, name
                    )
            elif step == "approved":
                assert decision is not None
                decision[3] = "final"
                decision[13:17] = [
                    second,
                    moment,
                    today,
                    _add_period(today, rules["objection_period_weeks"], 0),
                ]
                if intent is not None:
                    intent[11] = True
                step_to("granted", second, decision[7])
                granted_cents = p.amount_grant
                budget_key = (district, today.year)
                paid = self.grant_money(rng, p, decision[0], second, moment, budget_key, iban, name)
            elif step == "objection_lodged":
                assert decision is not None
                reasons = "Ik ben het niet eens met het besluit: de buurt steunt het plan."
                objection = [
                    self.take("objections"),
                    aid,
                    decision[0],
                    applicant,
                    reasons,
                    today,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ]
                t["objections"].append(objection)
                stay("objection_lodged", applicant, reasons)
            elif step == "objection_heard":
                assert objection is not None
                notes = "De aanvrager lichtte het bezwaar toe; een buurman was er ook."
                objection[6:8] = [today, notes]
                stay("objection_heard", officer, notes)
            elif step == "objection_rejected":
                assert objection is not None
                outcome = "unfounded" if rng.random() < 0.9 else "inadmissible"
                reasons = "Het bezwaar geeft geen reden om anders te besluiten."
                objection[8:12] = [outcome, reasons, officer, today]
                stay("objection_rejected", officer, reasons)
            elif step == "accounted":
                self.report(rng, p, moment)
                step_to("accounted", applicant)
            elif step == "settlement_intended":
                reasons = "De werkelijke kosten zijn lager dan begroot."
                view_due = _add_period(today, 0, rules["view_period_days"])
                settlement = [
                    self.take("settlements"),
                    aid,
                    "intended",
                    "lower",
                    data["final"],
                    reasons,
                    officer,
                    moment,
                    view_due,
                    None,
                    None,
                    0,
                    None,
                    None,
                    None,
                    None,
                ]
                t["settlements"].append(settlement)
                stay("settlement_intended", officer, reasons)
            elif step == "settlement_view_given":
                assert settlement is not None
                view = "Een deel van de bonnen is zoek, maar het geld is wel uitgegeven."
                settlement[9:11] = [view, today]
                stay("settlement_view_given", applicant)
            elif step == "settled":
                assert granted_cents is not None and decision is not None
                final, ex_officio = data["final"], data["ex_officio"]
                still_committed = granted_cents - paid
                remainder = final - paid
                release = still_committed - max(remainder, 0)
                if release > 0:
                    self.ledger.append(
                        (
                            moment,
                            budget_key,
                            aid,
                            "release",
                            0,
                            -release,
                            0,
                            0,
                            f"Vaststelling {p.reference}",
                            officer,
                        )
                    )
                kind = (
                    "ex_officio" if ex_officio else ("lower" if final < granted_cents else "equal")
                )
                reasons = None
                if ex_officio:
                    reasons = "Er kwam geen verantwoording; het bedrag is ambtshalve vastgesteld."
                elif final < granted_cents:
                    reasons = "De werkelijke kosten zijn lager dan begroot."
                if settlement is None:
                    settlement = [
                        self.take("settlements"),
                        aid,
                        "",
                        "",
                        0,
                        None,
                        officer,
                        moment,
                        None,
                        None,
                        None,
                        0,
                        None,
                        None,
                        None,
                        None,
                    ]
                    t["settlements"].append(settlement)
                settlement[2:8] = ["final", kind, final, reasons, officer, moment]
                if remainder < 0:
                    settlement[11:15] = [
                        -remainder,
                        f"{p.reference}-T",
                        _add_period(today, 6, 0),
                        "open",
                    ]
                step_to("settled", officer, reasons)
                if remainder > 0:
                    last_paid = self.payment(
                        rng,
                        p,
                        decision[0],
                        "remainder",
                        remainder,
                        moment,
                        budget_key,
                        iban,
                        name,
                        2,
                    )
                elif remainder == 0:
                    moment = moment + timedelta(seconds=1)
                    step_to("closed", officer)
                    closed_at = moment
            elif step == "closed":
                assert settlement is not None
                if data["after"] == "payment":
                    if last_paid is None:
                        raise AssertionError(f"the last payment of {p.reference} is not paid")
                    paid_at, payer = last_paid
                    moment = paid_at + timedelta(seconds=1)
                    step_to("closed", payer)
                else:
                    staff = rng.choice(self.finance) if rng.random() < 0.5 else officer
                    settlement[14:16] = ["received", moment]
                    why = f"Terugbetaling {settlement[12]}"
                    self.ledger.append(
                        (moment, budget_key, aid, "recovery", 0, 0, 0, settlement[11], why, staff)
                    )
                    step_to("closed", staff)
                closed_at = moment
                previous = moment
            else:  # pragma: no cover - a step this function does not know
                raise AssertionError(step)
        assert state == p.state, (p.state, state, p.steps)
        deadline = None
        if p.submitted is not None:
            weeks = rules["decision_period_weeks"]
            deadline = _decision_deadline(p.submitted, weeks, suspended, extension_weeks)
        organisation = complete and rng.random() < 0.2
        district_name = self.by_id[district].name
        t["applications"].append(
            (
                aid,
                p.reference,
                p.state,
                applicant,
                district,
                None if draft else rules["id"],
                self.hex(rng),
                organisation,
                f"Stichting Buurtwerk {district_name}" if organisation else None,
                f"{rng.randrange(10**7, 10**8)}" if organisation else None,
                postcode if organisation else None,
                "Voorzitter" if organisation else None,
                p.title if complete or rng.random() < 0.6 else None,
                f"{p.title}. Met de buren maken we er samen iets moois van; iedereen in de wijk "
                "is welkom."
                if complete
                else None,
                json.dumps(p.kaders if complete else []),
                start_date,
                end_date,
                f"{p.location}, {district_name}" if complete else None,
                rng.randint(15, 250) if complete else None,
                rng.randint(2, 25) if complete else None,
                "Buren helpen met opbouwen en opruimen." if complete else None,
                other,
                "Bijdrage van de woningcorporatie" if other else None,
                total,
                requested,
                iban,
                name if complete else None,
                not draft,
                p.initiative_id,
                self.token(rng),
                p.created_ts,
                previous,
                p.submitted_ts,
                deadline,
                suspended,
                extension_weeks,
                extension_reason,
                granted_cents,
                closed_at,
            )
        )

    def endorse(self, rng: random.Random, p: _Plan, draft: bool) -> None:
        """Endorsements while it was a draft: households of the district, one each, never the
        applicant's own; a submitted one has at least the ruleset's number confirmed."""
        rows = self.tables["endorsements"]
        _name, _email, postcode, number, district, _joined = self.user_info[p.applicant]
        assert district is not None
        needed = self.rules["min_endorsements"]
        count = rng.randint(0, needed + 1) if draft else needed + min(int(rng.expovariate(0.6)), 30)
        end = p.submitted_ts or min(p.created_ts + timedelta(days=rng.randint(1, 20)), self.cap_end)
        seen = {f"{postcode}-{number}".upper()}
        ids, stamps = self.district_ids[district], self.district_ts[district]
        known = bisect_left(stamps, p.created_ts)
        ranges = self.by_id[district].ranges
        confirmed_count = made = tries = 0
        while made < count and tries < count * 4:
            tries += 1
            moment = self.between(rng, p.created_ts, end - timedelta(minutes=2))
            if known and rng.random() < 0.6:
                uid = ids[rng.randrange(known)]
                name, email, pc, hn, _d, _j = self.user_info[uid]
                household = f"{pc}-{hn}".upper()
                if uid == p.applicant or household in seen:
                    continue
                user_id: int | None = uid
                confirmed: datetime | None = moment
            else:
                low, high = rng.choice(ranges)
                letters = rng.choice(ENDORSER_LETTERS) + rng.choice(ENDORSER_LETTERS)
                pc = f"{rng.randint(low, high)}{letters}"
                hn = str(rng.randint(1, 300))
                household = f"{pc}-{hn}"
                if household in seen:
                    continue
                user_id, name = None, self.person_name(rng)
                email = f"buur{rng.randrange(10**7)}@example.org"
                confirmed = moment + timedelta(minutes=rng.randint(1, 600))
                if confirmed >= end or (draft and rng.random() < 0.3):
                    confirmed = None
            seen.add(household)
            rows.append(
                (
                    self.take("endorsements"),
                    p.id,
                    user_id,
                    name,
                    email,
                    pc,
                    hn,
                    household,
                    district,
                    self.token(rng),
                    confirmed,
                    moment,
                )
            )
            made += 1
            confirmed_count += confirmed is not None
        if not draft:
            # Not enough confirmed yet: households that confirmed by e-mail before submitting.
            low = ranges[0][0]
            while confirmed_count < needed:
                household = f"{low}ZZ-{1000 + confirmed_count}"
                moment = p.created_ts + timedelta(minutes=confirmed_count + 1)
                rows.append(
                    (
                        self.take("endorsements"),
                        p.id,
                        None,
                        self.person_name(rng),
                        None,
                        f"{low}ZZ",
                        str(1000 + confirmed_count),
                        household,
                        district,
                        self.token(rng),
                        moment,
                        moment,
                    )
                )
                confirmed_count += 1

    def discussion(self, rng: random.Random, advice: list[Any], moment: datetime) -> None:
        """Some councils discuss a request, and now and then a member declares a conflict."""
        council = advice[2]
        members = self.members[council]
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                body = rng.choice(ADVICE_COMMENTS)
                at = moment + timedelta(hours=rng.randint(2, 72))
                self.tables["advice_comments"].append(
                    (self.take("advice_comments"), advice[0], rng.choice(members), body, at)
                )
        if rng.random() < 0.03:
            others = [m for m in members if m not in self.advisers[council]]
            if others:
                at = moment + timedelta(hours=rng.randint(1, 48))
                self.tables["conflict_declarations"].append(
                    (
                        self.take("conflict_declarations"),
                        advice[0],
                        rng.choice(others),
                        "De aanvrager is mijn buurman.",
                        at,
                    )
                )

    def grounds(self, rng: random.Random) -> list[str]:
        return sorted(set(rng.sample(self.c.refusal_grounds, rng.choice((1, 1, 2)))))

    def decision(
        self,
        rng: random.Random,
        p: _Plan,
        grant: bool,
        proposed: bool,
        officer: int,
        moment: datetime,
        advice: list[Any] | None,
        intent: list[Any] | None,
    ) -> list[Any]:
        """The decision with what the record must say: without advice (and why), the answer to
        the applicant's view, why it departs from the advice."""
        rules = self.rules
        without = None
        if p.advice == "late" and advice is not None:
            without = "Het advies van het wijkorgaan kwam niet binnen de termijn."
            advice[13] = without
        elif advice is None:
            councils = self.by_id[p.district].councils
            without = SMALL_GRANT_SKIP_TEXT if councils else NO_COUNCIL_TEXT
        view_answer = None
        if intent is not None and intent[9] is not None:
            view_answer = "Wij hebben uw reactie gelezen; die verandert het besluit niet."
        advice_answer = None
        if advice is not None and advice[7] is not None:
            departs = advice[7] == "negative" if grant else True
            if grant and advice[10] is not None and advice[10] != p.amount_grant:
                departs = True
            if departs:
                advice_answer = "Wij wijken af van het advies, omdat " + (
                    "de aanvraag aan alle regels voldoet." if grant else "het budget op is."
                )
        final = not proposed
        sent = moment.date() if final else None
        if grant:
            reasons = rng.choice(GRANT_REASONS)
            grounds: list[str] = []
        else:
            assert intent is not None
            reasons, grounds = intent[6], json.loads(intent[5])
        if intent is not None and final:
            intent[11] = True  # the intent is answered by the decision
        row = [
            self.take("decisions"),
            p.id,
            "granted" if grant else "refused",
            "final" if final else "awaiting_approval",
            p.amount_grant if grant else 0,
            rng.choice(GRANT_CONDITIONS) if grant and rng.random() < 0.3 else None,
            json.dumps(grounds),
            reasons,
            view_answer,
            advice_answer,
            without,
            officer,
            moment,
            None,
            None,
            sent,
            _add_period(sent, rules["objection_period_weeks"], 0) if sent else None,
        ]
        self.tables["decisions"].append(row)
        return row

    def report(self, rng: random.Random, p: _Plan, moment: datetime) -> None:
        report_id = self.take("accountability_reports")
        spent_total = 0
        for position, (description, _category, quantity, price) in enumerate(p.lines):
            planned = quantity * price
            spent = int(planned * rng.uniform(0.7, 1.05))
            spent_total += spent
            self.tables["report_lines"].append(
                (self.take("report_lines"), report_id, position, description, planned, spent)
            )
        self.tables["accountability_reports"].append(
            (
                report_id,
                p.id,
                "Het was een geslaagde dag; veel buren deden mee.",
                rng.randint(10, 300),
                "De samenwerking met de buren.",
                rng.choice((None, "Eerder beginnen met de flyers.")),
                rng.random() < 0.9,
                spent_total,
                p.applicant,
                moment,
            )
        )

    def grant_money(
        self,
        rng: random.Random,
        p: _Plan,
        decision_id: int,
        actor: int,
        moment: datetime,
        budget_key: tuple[int, int],
        iban: str | None,
        name: str,
    ) -> int:
        """The grant's commitment and its first payment; returns what was paid of it."""
        why = f"Toekenning {p.reference}"
        self.ledger.append(
            (moment, budget_key, p.id, "commitment", 0, p.amount_grant, 0, 0, why, actor)
        )
        if p.initiative_id is not None:
            self.updates.append((moment, p.initiative_id, "milestone", "granted", "", None))
        first = self.first_payment(p.amount_grant)
        kind = "full" if first == p.amount_grant else "advance"
        paid = self.payment(rng, p, decision_id, kind, first, moment, budget_key, iban, name, 1)
        return first if paid else 0

    def payment(
        self,
        rng: random.Random,
        p: _Plan,
        decision_id: int,
        kind: str,
        amount: int,
        moment: datetime,
        budget_key: tuple[int, int],
        iban: str | None,
        name: str,
        number: int,
    ) -> tuple[datetime, int] | None:
        """A payment, gathered in its borough's batch of the next week: made on Monday, approved
        on Thursday, exported on Friday, paid on the Tuesday after, as far as that lies before
        today. Returns when it was paid and by whom (None: not yet)."""
        payment_id = self.take("payments")
        day = moment.date()
        monday = day + timedelta(days=7 - day.weekday())
        status, batch_id, paid_at, paid = "due", None, None, None
        if monday <= self.cap:
            borough = self.by_id[p.district].borough_id
            batch = self.batches.get((borough, monday))
            if batch is None:
                batch = self.batches[(borough, monday)] = self.new_batch(rng, borough, monday)
            batch_id = batch.id
            batch.payments.append(payment_id)
            status = "batched"
            if batch.status == "paid":
                assert batch.paid_at is not None and batch.paid_by is not None
                status, paid_at = "paid", batch.paid_at
                reference = f"{p.reference}-{number}"
                self.ledger.append(
                    (
                        paid_at,
                        budget_key,
                        p.id,
                        "payment",
                        0,
                        -amount,
                        amount,
                        0,
                        f"Betaling {reference}",
                        batch.paid_by,
                    )
                )
                paid = (paid_at, batch.paid_by)
        self.tables["payments"].append(
            (
                payment_id,
                p.id,
                decision_id,
                kind,
                amount,
                iban,
                name,
                f"{p.reference}-{number}",
                status,
                batch_id,
                moment,
                paid_at,
            )
        )
        return paid

    def new_batch(self, rng: random.Random, borough: int, monday: date) -> _Batch:
        batch = _Batch(
            id=self.take("payment_batches"),
            status="open",
            created_by=rng.choice(self.officers[borough]),
            created_at=_at(monday, rng, 8, 11),
        )
        finance = rng.choice(self.finance)
        approved = _at(monday + timedelta(days=3), rng, 9, 16)
        exported = _at(monday + timedelta(days=4), rng, 9, 12)
        paid = _at(monday + timedelta(days=8), rng, 10, 16)
        if approved.date() <= self.cap:
            batch.status = "approved"
            batch.approved_by, batch.approved_at = finance, approved
            batch.execution_date = _add_working_days(approved.date(), 1)
        if exported.date() <= self.cap:
            batch.message_id = f"WIJKKRACHT-{monday:%Y%m%d}-{batch.id}"
            batch.exported_at = exported
        if paid.date() <= self.cap:
            batch.status = "paid"
            batch.paid_by, batch.paid_at = finance, paid
        return batch

    def emit_batches(self) -> None:
        audit = self.audit
        for b in sorted(self.batches.values(), key=lambda b: b.id):
            ids = ", ".join(map(str, sorted(b.payments)))
            audit.append(
                (
                    b.created_at,
                    b.created_by,
                    "payment_batch.created",
                    "payment_batch",
                    b.id,
                    None,
                    "open",
                    ids,
                )
            )
            if b.approved_at is not None:
                audit.append(
                    (
                        b.approved_at,
                        b.approved_by,
                        "payment_batch.approved",
                        "payment_batch",
                        b.id,
                        "open",
                        "approved",
                        None,
                    )
                )
            if b.paid_at is not None:
                audit.append(
                    (
                        b.paid_at,
                        b.paid_by,
                        "payment_batch.paid",
                        "payment_batch",
                        b.id,
                        "approved",
                        "paid",
                        None,
                    )
                )
            self.tables["payment_batches"].append(
                (
                    b.id,
                    b.status,
                    b.created_by,
                    b.created_at,
                    b.approved_by,
                    b.approved_at,
                    b.execution_date,
                    b.message_id,
                    b.exported_at,
                    b.paid_by,
                    b.paid_at,
                )
            )

    # --- money: budgets, allocations, and a check of every prefix ----------------------------

    def emit_budgets(self) -> None:
        """A budget per district and year, allocated on 1 January with room above what its
        grants commit; the entries numbered in the order they happened, each prefix checked
        against the database's rules (as the trigger would apply them one by one)."""
        committed: dict[tuple[int, int], int] = defaultdict(int)
        for entry in self.ledger:
            if entry[3] == "commitment":
                committed[entry[1]] += entry[5]
        admin = self.admins[0] if self.admins else None
        budget_ids: dict[tuple[int, int], int] = {}
        allocations = []
        totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for district in self.c.districts:
            for year in range(self.first_day.year, self.today.year + 1):
                key = (district.id, year)
                needed = -(-(committed[key] * 6 // 5 + 500_000) // 100_000) * 100_000
                needed = max(district.weight * 100, needed)
                at = datetime(year, 1, 1, 0, 5) + timedelta(minutes=district.id)
                existing = self.c.budgets.get(key)
                if existing is not None:
                    budget_ids[key] = existing[0]
                    totals[key][0] = existing[1]
                    if needed > existing[1]:
                        why = f"Wijkbudget {year} aangevuld (schaaldata)"
                        allocations.append(
                            (at, key, None, "allocation", needed - existing[1], 0, 0, 0, why, admin)
                        )
                else:
                    budget_ids[key] = self.take("district_budgets")
                    self.tables["district_budgets"].append(
                        (budget_ids[key], district.id, year, 0, 0, 0, 0)
                    )
                    allocations.append(
                        (at, key, None, "allocation", needed, 0, 0, 0, f"Wijkbudget {year}", admin)
                    )
        rows = self.tables["ledger_entries"]
        for at, key, aid, kind, a, c, pd, r, why, actor in sorted(
            allocations + self.ledger, key=lambda e: e[0]
        ):
            total = totals[key]
            total[0] += a
            total[1] += c
            total[2] += pd
            total[3] += r
            allocated, committed_now, paid, recovered = total
            if not (committed_now >= 0 and 0 <= recovered <= paid) or (
                committed_now + paid - recovered > allocated
            ):
                raise AssertionError(f"ledger of budget {key} breaks its rules at {at}: {total}")
            rows.append(
                (
                    self.take("ledger_entries"),
                    budget_ids[key],
                    aid,
                    kind,
                    a,
                    c,
                    pd,
                    r,
                    why,
                    actor,
                    at,
                )
            )

    def emit_sorted(self) -> None:
        """Audit records and timeline entries numbered in the order they happened; the rows
        that were filled in step by step made final."""
        rows = self.tables["audit_records"]
        for moment, actor, action, kind, object_id, source, target, why in sorted(
            self.audit, key=lambda e: e[0]
        ):
            rows.append(
                (
                    self.take("audit_records"),
                    actor,
                    action,
                    kind,
                    object_id,
                    source,
                    target,
                    why,
                    ORIGIN,
                    moment,
                )
            )
        updates = self.tables["initiative_updates"]
        for moment, iid, kind, code, body, author in sorted(self.updates, key=lambda e: e[0]):
            updates.append((self.take("initiative_updates"), iid, kind, code, body, author, moment))
        for name in (
            "initiatives",
            "info_requests",
            "advice_requests",
            "refusal_intents",
            "decisions",
            "objections",
            "settlements",
        ):
            self.tables[name] = [tuple(row) for row in self.tables[name]]


ENDORSER_LETTERS = "ABCDEFGHJKLMNPRTVWXZ"
ADVICE_COMMENTS = (
    "Ik ken de aanvrager, een actieve buurtbewoner.",
    "Is de begroting niet aan de hoge kant?",
    "Ik ben voor.",
    "Kunnen we vragen of de school meedoet?",
)
