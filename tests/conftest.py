"""Test harness: real PostgreSQL (or SQLite), migrations once, a rolled-back transaction per test,
factories, query counting, an in-process SMTP server, a live server for browser tests."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from portal import create_app
from portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DATABASE_KIND = os.environ.get("PORTAL_TEST_DATABASE", "postgresql")
PG_BASE = os.environ.get("PORTAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
TMP = Path(tempfile.mkdtemp(prefix="wijkkracht-tests-"))
PASSWORD = "wijkkracht-demo"


# Two runs of the suite at once on one PostgreSQL (say, a developer's and CI's) each set their own
# prefix; the databases are created when missing.
DATABASE_PREFIX = os.environ.get("PORTAL_TEST_DATABASE_PREFIX", "")


def database_url(name: str) -> str:
    name = DATABASE_PREFIX + name
    if DATABASE_KIND == "sqlite":
        return f"sqlite:///{TMP / (name + '.sqlite')}"
    ensure_database(name)
    return f"{PG_BASE}/{name}"


_ENSURED: set[str] = set()


def ensure_database(name: str) -> None:
    """Create the PostgreSQL database ``name`` when it does not exist yet."""
    from sqlalchemy import create_engine

    if name in _ENSURED:
        return
    engine = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    _ENSURED.add(name)


def make_app(name: str, **overrides: Any) -> Flask:
    instance = TMP / f"instance-{name}"
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-1234567890",
        "SQLALCHEMY_DATABASE_URI": database_url(name),
        "WTF_CSRF_ENABLED": False,
        "PORTAL_MAIL_DIR": str(instance / "mail"),
        "PORTAL_UPLOAD_DIR": str(instance / "uploads"),
        "PORTAL_BASE_URL": "http://localhost",
        "PORTAL_REDIS_URL": None,
        "SERVER_NAME": None,
        "PORTAL_FAST_PASSWORD_HASHING": True,
    }
    config.update(overrides)
    return create_app(config)


def reset_schema(app: Flask) -> None:
    """Drop everything and build the schema with the migrations, as production does."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.engine.dispose()
            path = Path(db.engine.url.database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    application = make_app("wijkkracht_test")
    reset_schema(application)
    with application.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    yield application


@pytest.fixture
def database(app: Flask) -> Iterator[Any]:
    """One transaction per test, rolled back at the end; the app's commits become savepoints."""
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        try:
            yield db
        finally:
            db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (fresh ``g`` and session), as in production.

    Without this, Flask reuses the test's app context for every request, and values cached in
    ``g`` (such as the logged-in user) would leak from one request into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def csrf_app(app: Flask, database: Any) -> Iterator[Flask]:
    """The test app with CSRF checked as in production, for this test only."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield app
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def client(app: Flask, database: Any) -> FlaskClient:
    app.test_client_class = FreshContextClient
    return app.test_client()


PAGE_CACHE_REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('PORTAL_TEST_REDIS_DB', '14')}"


@pytest.fixture
def cache(app: Flask, database: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The page caches (portal/page_cache.py) on, in the test Redis, under a prefix of this
    test's own; the Redis connection to look into them."""
    import redis

    connection = redis.Redis.from_url(PAGE_CACHE_REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {PAGE_CACHE_REDIS_URL}")
    prefix = f"wijkkracht-test:{uuid.uuid4().hex}:"
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_URL", PAGE_CACHE_REDIS_URL)
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_PREFIX", prefix)
    yield connection
    keys = list(connection.scan_iter(prefix + "*"))
    if keys:
        connection.delete(*keys)


@pytest.fixture
def count_queries(app: Flask, database: Any) -> Any:
    """``with count_queries() as counted: ...`` then ``counted.count`` / ``counted.statements``."""

    class Counter:
        def __init__(self) -> None:
            self.statements: list[str] = []

        @property
        def count(self) -> int:
            return len(self.statements)

    @contextmanager
    def counting() -> Iterator[Counter]:
        counter = Counter()
        connection = db._app_engines[app][None]

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return counting


# --- factories ----------------------------------------------------------------------------------


class Factory:
    """Create rows for tests; everything flushes into the test's transaction."""

    def __init__(self) -> None:
        self.counter = 0

    def user(
        self,
        *,
        roles: tuple[str, ...] = ("resident",),
        postcode: str = "7533AB",
        verified: bool = True,
        password: str = PASSWORD,
        name: str | None = None,
        email: str | None = None,
        boroughs: tuple[str, ...] = (),
        council: tuple[str, str] | None = None,
    ) -> Any:
        from sqlalchemy import select

        from portal.accounts.models import CaseOfficerBorough, User, UserRole
        from portal.accounts.passwords import hash_password
        from portal.districts.models import Borough, Council, CouncilMembership
        from portal.districts.services import district_for_postcode
        from portal.timeutil import utcnow

        self.counter += 1
        user = User(
            name=name or f"Testpersoon {self.counter}",
            email=email or f"test{self.counter}-{uuid.uuid4().hex[:12]}@example.org",
            password_hash=_hash_cache(password, hash_password),
            postcode=postcode,
            house_number=str(self.counter),
            district=district_for_postcode(postcode),
            adult_confirmed_at=utcnow(),
            email_verified_at=utcnow() if verified else None,
        )
        for role in roles:
            user.role_links.append(UserRole(role=role))
        db.session.add(user)
        db.session.flush()
        for borough_name in boroughs:
            borough = db.session.scalar(select(Borough).where(Borough.name == borough_name))
            db.session.add(CaseOfficerBorough(user_id=user.id, borough_id=borough.id))
        if council:
            found = db.session.scalar(select(Council).where(Council.name == council[0]))
            db.session.add(CouncilMembership(council=found, user=user, role=council[1]))
        db.session.flush()
        db.session.refresh(user)
        return user


_HASHES: dict[str, str] = {}


def _hash_cache(password: str, hasher: Any) -> str:
    if password not in _HASHES:
        _HASHES[password] = hasher(password)
    return _HASHES[password]


@pytest.fixture
def factory(database: Any) -> Factory:
    return Factory()


@pytest.fixture
def personas(factory: Factory) -> dict[str, Any]:
    return {
        "anonymous": None,
        "resident": factory.user(postcode="7533AB"),
        "other_resident": factory.user(postcode="7511AB"),
        "council_member": factory.user(council=("Dorpsraad Glanerbrug", "chair")),
        "other_council_member": factory.user(
            postcode="7545AB", council=("Wijkraad Stadsveld", "member")
        ),
        "conflicted_member": factory.user(
            postcode="7534AB", council=("Dorpsraad Glanerbrug", "secretary")
        ),
        "case_officer": factory.user(roles=("case_officer",), boroughs=("Oost",)),
        "finance": factory.user(roles=("finance",)),
        "admin": factory.user(roles=("admin",)),
    }


TINY_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def application_objects(app: Flask, personas: dict[str, Any]) -> dict[str, Any]:
    """A draft and a submitted application of ``personas["resident"]`` (Glanerbrug), each with
    a stored attachment; the draft has an endorsement, the submitted one a PDF summary."""
    import io

    from sqlalchemy import select

    from portal import uploads
    from portal.applications.models import (
        AdviceRequest,
        Application,
        Attachment,
        ConflictDeclaration,
        Decision,
        Endorsement,
        InfoRequest,
        RefusalIntent,
        State,
    )
    from portal.districts.models import Council
    from portal.money.models import Payment, PaymentBatch
    from portal.timeutil import local_today, utcnow

    resident = personas["resident"]
    root = Path(app.config["PORTAL_UPLOAD_DIR"])

    def attached(application: Any) -> Any:
        stored = uploads.store(io.BytesIO(TINY_PDF), "offerte.pdf", root=root)
        attachment = Attachment(
            kind="quote",
            storage_key=stored.storage_key,
            display_name=stored.display_name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by_id=resident.id,
        )
        application.attachments.append(attachment)
        db.session.flush()
        return attachment

    draft = Application(
        applicant_id=resident.id,
        district_id=resident.district_id,
        creation_key="matrix-draft",
        title="Concept voor de matrix",
        kaders=[],
    )
    submitted = Application(
        applicant_id=resident.id,
        district_id=resident.district_id,
        creation_key="matrix-submitted",
        title="Ingediend voor de matrix",
        kaders=["leefbaarheid"],
        state=State.SUBMITTED.value,
        reference=f"WB-1999-{os.getpid() % 10000:04d}",
        submitted_at=utcnow(),
    )
    waiting = Application(
        applicant_id=resident.id,
        district_id=resident.district_id,
        creation_key="matrix-info",
        title="Wacht op aanvulling",
        kaders=["leefbaarheid"],
        state=State.INFO_REQUESTED.value,
        reference=f"WB-1998-{os.getpid() % 10000:04d}",
        submitted_at=utcnow(),
    )
    db.session.add_all([draft, submitted, waiting])
    db.session.flush()
    today = local_today()
    db.session.add(
        InfoRequest(
            application_id=waiting.id,
            requested_by_id=personas["case_officer"].id,
            questions="Stuur de offerte mee.",
            requested_on=today - timedelta(days=20),
            due_date=today - timedelta(days=6),
        )
    )

    # Further along: asked for advice, an intent sent, and a final grant (for the letter and
    # an objection).
    def further(key: str, state: State, number: int) -> Application:
        application = Application(
            applicant_id=resident.id,
            district_id=resident.district_id,
            creation_key=f"matrix-{key}",
            title=f"Matrix {key}",
            kaders=["leefbaarheid"],
            state=state.value,
            reference=f"WB-{1990 + number}-{os.getpid() % 10000:04d}",
            submitted_at=utcnow(),
            requested_cents=150_000,
            total_cents=150_000,
            iban="NL91ABNA0417164300",
            account_holder=resident.name,
            start_date=today + timedelta(weeks=8),
            end_date=today + timedelta(weeks=8),
        )
        db.session.add(application)
        db.session.flush()
        return application

    council = db.session.scalar(select(Council).where(Council.name == "Dorpsraad Glanerbrug"))
    advising = further("advice", State.AWAITING_ADVICE, 1)
    advice_request = AdviceRequest(
        application_id=advising.id,
        council_id=council.id,
        requested_by_id=personas["case_officer"].id,
        requested_on=today,
        due_date=today + timedelta(days=21),
    )
    advice_request.conflicts.append(
        ConflictDeclaration(user_id=personas["conflicted_member"].id, reason="Mijn buurman")
    )
    intended = further("intent", State.INTENT_SENT, 2)
    granted = further("granted", State.GRANTED, 3)
    decision = Decision(
        application_id=granted.id,
        outcome="granted",
        status="final",
        amount_cents=150_000,
        reasons="Voldoet aan de regels.",
        decided_by_id=personas["case_officer"].id,
        sent_on=today,
        objection_due=today + timedelta(weeks=6),
        letter_storage_key=uploads.store(
            io.BytesIO(TINY_PDF), "besluit.pdf", root=root
        ).storage_key,
    )
    db.session.add_all(
        [
            advice_request,
            decision,
            RefusalIntent(
                application_id=intended.id,
                created_by_id=personas["case_officer"].id,
                kind="refuse",
                grounds=["rules"],
                reasons="Past niet in de regels.",
                sent_on=today,
                view_due=today + timedelta(days=14),
            ),
        ]
    )
    db.session.flush()
    # The grant's payment, in a batch that finance approved (not yet paid).
    batch = PaymentBatch(
        created_by_id=personas["case_officer"].id,
        status="approved",
        approved_by_id=personas["finance"].id,
        approved_at=utcnow(),
        execution_date=today + timedelta(days=1),
    )
    db.session.add(batch)
    db.session.flush()
    payment = Payment(
        application_id=granted.id,
        decision_id=decision.id,
        kind="advance",
        amount_cents=120_000,
        iban="NL91ABNA0417164300",
        account_holder=resident.name,
        reference=f"WB-1993-{os.getpid() % 10000:04d}-1",
        status="batched",
        batch_id=batch.id,
    )
    db.session.add(payment)
    db.session.flush()
    endorsement = Endorsement(
        application_id=draft.id,
        name="Buur",
        postcode="7533AC",
        house_number="99",
        household="7533AC-99",
        district_id=resident.district_id,
    )
    db.session.add(endorsement)
    pdf = uploads.store(io.BytesIO(TINY_PDF), "samenvatting.pdf", root=root)
    submitted.pdf_storage_key = pdf.storage_key
    submitted.pdf_requested_at = submitted.pdf_generated_at = utcnow()
    draft_attachment = attached(draft)
    submitted_attachment = attached(submitted)
    db.session.commit()
    return {
        "draft": draft.id,
        "submitted": submitted.id,
        "info_requested": waiting.id,
        "advising": advising.id,
        "advice_request": advice_request.id,
        "intent": intended.id,
        "granted": granted.id,
        "decision": decision.id,
        "batch": batch.id,
        "payment": payment.id,
        "draft_attachment": draft_attachment.id,
        "submitted_attachment": submitted_attachment.id,
        "endorsement": endorsement.id,
        "endorsement_confirm_token": endorsement.confirm_token,
        "endorsement_token": draft.endorsement_token,
    }


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/inloggen", data={"email": email, "password": password})


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def do(user: Any, password: str = PASSWORD) -> Any:
        response = login(client, user.email, password)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
        return response

    return do


def assert_security_headers(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, where
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ---------------------------------------------------------------------------------------


class Mailbox:
    """Messages received by the in-process SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False
        self.lock = threading.Lock()

    def handle(self, envelope: Any) -> str:
        import email
        from email import policy

        if self.refuse:
            return "451 4.3.0 Try again later (test server refuses)"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message: Any) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def link(message: Any) -> str:
        found = re.search(r"http://localhost(/\S+)", Mailbox.text(message))
        assert found, Mailbox.text(message)
        return found.group(1)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return mailbox.handle(envelope)

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(app: Flask, smtp_server: tuple[Mailbox, int]) -> Iterator[Mailbox]:
    """Send real SMTP to the in-process server during this test."""
    box, port = smtp_server
    box.messages.clear()
    box.refuse = False
    saved = {
        k: app.config[k] for k in ("PORTAL_MAIL_BACKEND", "PORTAL_SMTP_HOST", "PORTAL_SMTP_PORT")
    }
    app.config.update(
        PORTAL_MAIL_BACKEND="smtp", PORTAL_SMTP_HOST="127.0.0.1", PORTAL_SMTP_PORT=port
    )
    yield box
    app.config.update(saved)
