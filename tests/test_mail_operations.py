"""Mail in operation, end to end: Redis going away, a worker killed mid-send, a mail server
that refuses for a while. Real PostgreSQL, a real ``redis-server`` of the test's own, real RQ
workers (``worker.py``) and real SMTP to an in-process server.

These are heavy and need PostgreSQL (committed data shared between processes), so they run in
the PostgreSQL pass of the suite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from portal.accounts.passwords import use_fast_hashing
from portal.extensions import db
from portal.notifications import jobs
from portal.notifications.models import EmailState, Notification
from tests.conftest import (
    DATABASE_KIND,
    PASSWORD,
    ROOT,
    TMP,
    Factory,
    Mailbox,
    free_port,
    make_app,
    reset_schema,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        DATABASE_KIND != "postgresql",
        reason="worker processes share committed data: PostgreSQL pass only",
    ),
]

DATABASE_NAME = "wijkkracht_test_mailops"
RECEIPT = "application_submitted"


# --- a Redis of our own, that the tests can stop and start -------------------------------------


class RedisServer:
    """``redis-server`` on a free port, without persistence; stop() and start() keep the port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=15)
        self.process = None

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


# --- an SMTP server that can be slow -----------------------------------------------------------


class SlowMailbox(Mailbox):
    """conftest's Mailbox, plus a per-message ``delay`` between storing a message and answering
    its DATA (a slow server; the message is kept even when the client is gone by the answer),
    and a count of DATA commands in progress."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.in_progress = 0

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
        self.delay = 0.0
        self.refuse = False
        self.in_progress = 0

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)


@pytest.fixture(scope="module")
def slow_smtp() -> Iterator[tuple[SlowMailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox = SlowMailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mailbox.in_progress += 1
            try:
                answer = mailbox.handle(envelope)  # stored (unless refusing) ...
                if mailbox.delay:
                    # ... and only then answered: a client that dies meanwhile never hears that
                    # its message was taken (the duplicate window of RFC 1047).
                    await asyncio.sleep(mailbox.delay)
                return answer
            finally:
                mailbox.in_progress -= 1

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


# --- the portal on its own committed database --------------------------------------------------


@dataclass
class Ops:
    app: Flask
    mailbox: SlowMailbox
    redis: RedisServer
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A portal command (``worker.py --burst``, ``-m flask relay-outbox``) to the end."""
        result = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def start(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        """A long-running portal process in its own process group (so it can be killed whole)."""
        log = (self.logs / log_name).open("wb")
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def log_tail(self, log_name: str) -> str:
        return (self.logs / log_name).read_text(errors="replace")[-3000:]

    def burst_in_process(self) -> None:
        """An RQ worker in this process (portal.background.AppWorker): empties the queue."""
        from portal.background import make_worker

        with self.app.app_context():
            make_worker().work(burst=True)


STALE_CLAIM_SECONDS = 2


@pytest.fixture
def ops(redis_server: RedisServer, slow_smtp: tuple[SlowMailbox, int]) -> Iterator[Ops]:
    """A fresh, migrated, seeded database; our Redis (running, empty); the SMTP server empty."""
    mailbox, smtp_port = slow_smtp
    mailbox.reset()
    redis_server.start()
    redis.Redis.from_url(redis_server.url).flushall()
    # What the suite's TESTING apps switch on; these apps run with TESTING off, like worker_app.
    use_fast_hashing()
    settings = {
        "PORTAL_REDIS_URL": redis_server.url,
        "PORTAL_MAIL_BACKEND": "smtp",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": smtp_port,
        "PORTAL_SMTP_TIMEOUT": 10,
        "PORTAL_MAIL_STALE_CLAIM_SECONDS": STALE_CLAIM_SECONDS,
        "PORTAL_MAIL_RELAY_GRACE_SECONDS": 0,
    }
    app = make_app(
        DATABASE_NAME, TESTING=False, RQ_ASYNC=True, RQ_CONNECTION=redis_server.url, **settings
    )
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
        db.session.remove()
    # The worker and relay processes build the same app from the environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({key: str(value) for key, value in settings.items()})
    env.update(
        FLASK_APP="portal:create_app",
        PYTHONUNBUFFERED="1",
        PORTAL_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PORTAL_INSTANCE_PATH=app.instance_path,
        PORTAL_SECRET_KEY=app.config["SECRET_KEY"],
        PORTAL_BASE_URL="http://localhost",
    )
    logs = TMP / "mail-operations"
    logs.mkdir(parents=True, exist_ok=True)
    state = Ops(app=app, mailbox=mailbox, redis=redis_server, env=env, logs=logs)
    try:
        yield state
    finally:
        for process in state.processes:
            # The whole group: a worker.py's children too, even if it stopped itself.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        redis_server.start()  # a test may leave it stopped
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Shown on the terminal also without ``-s``."""
    with capsys.disabled():
        print(f"\n[mail operations] {line}")


def states(app: Flask, ids: list[int]) -> dict[int, tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.id, Notification.email_state, Notification.attempts).where(
                Notification.id.in_(ids)
            )
        ).all()
        db.session.remove()
    return {row.id: (row.email_state, row.attempts) for row in rows}


# --- 1. Redis stopped during 100 submissions -----------------------------------------------------


def prepare_drafts(app: Flask, count: int) -> list[tuple[str, int]]:
    """``count`` applicants with a complete draft each: (e-mail, application id)."""
    from tests.test_applications import make_complete_draft

    with app.app_context():
        factory = Factory()
        neighbours = [factory.user(postcode="7533AC") for _ in range(5)]
        prepared = []
        for _ in range(count):
            applicant = factory.user(postcode="7533AB")
            application = make_complete_draft(applicant, neighbours)
            prepared.append((applicant.email, application.id))
        db.session.commit()
        db.session.remove()
    return prepared


def submit_through_the_route(app: Flask, email: str, application_id: int) -> None:
    """What a resident does: log in, tick the declaration, press "Indienen"."""
    client = app.test_client()
    response = client.post("/inloggen", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    response = client.post(f"/aanvragen/{application_id}/indienen", data={"declaration": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    assert response.headers["Location"].endswith(f"/aanvragen/{application_id}")


def test_redis_stopped_during_100_submissions_every_receipt_arrives_once(
    ops: Ops, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.applications.models import Application, State

    app, mailbox = ops.app, ops.mailbox
    prepared = prepare_drafts(app, 100)
    application_ids = [application_id for _, application_id in prepared]
    emails = [email for email, _ in prepared]

    ops.redis.stop()
    assert not ops.redis.answers()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:  # residents submit at the same time, too
        list(pool.map(lambda job: submit_through_the_route(app, *job), prepared))
    submitting = time.monotonic() - started

    with app.app_context():
        stored = db.session.scalar(
            select(func.count(Application.id)).where(
                Application.id.in_(application_ids),
                Application.state == State.SUBMITTED.value,
                Application.reference.is_not(None),
            )
        )
        receipts = db.session.execute(
            select(Notification.id, Notification.email_state, Notification.recipient).where(
                Notification.kind == RECEIPT, Notification.object_id.in_(application_ids)
            )
        ).all()
        db.session.remove()
    assert stored == 100
    assert len(receipts) == 100
    assert {row.email_state for row in receipts} == {EmailState.WAITING.value}
    assert sorted(row.recipient for row in receipts) == sorted(emails)
    assert mailbox.messages == []
    receipt_ids = [row.id for row in receipts]

    # Redis is back (same port, empty: whatever was queued before is gone).
    ops.redis.start()
    started = time.monotonic()
    relayed = ops.run("-m", "flask", "relay-outbox")
    assert "relayed 100 notifications" in relayed.stdout, relayed.stdout + relayed.stderr
    ops.run("worker.py", "--burst")
    recovering = time.monotonic() - started

    def check_every_receipt_once() -> None:
        for email in emails:
            assert len(mailbox.to(email)) == 1, email
        assert len(mailbox.messages) == 100
        assert all(count == 1 for count in mailbox.message_ids().values())
        assert set(states(app, receipt_ids).values()) == {(EmailState.SENT.value, 1)}

    check_every_receipt_once()
    # The relay and a worker once more: nothing is due, nothing goes out twice.
    with app.app_context():
        assert jobs.relay_outbox() == 0
    ops.burst_in_process()
    check_every_receipt_once()
    report(
        capsys,
        f"100 submissions with Redis down in {submitting:.1f} s; after Redis came back, "
        f"relay + burst worker delivered 100 receipts in {recovering:.1f} s, none twice",
    )


# --- 2. a worker killed with SIGKILL mid-send ----------------------------------------------------


def waiting_notifications(app: Flask, count: int) -> tuple[list[int], dict[str, str]]:
    """``count`` committed, waiting notifications handed to the queue as after any commit:
    their ids, and Message-ID → recipient."""
    from portal.notifications.dispatch import dispatch_committed
    from portal.notifications.services import notify

    with app.app_context():
        factory = Factory()
        users = [factory.user() for _ in range(count)]
        db.session.commit()
        notifications = [
            notify(user, "account_password_changed", link="http://localhost/account")
            for user in users
        ]
        db.session.commit()
        dispatch_committed()  # the after-commit hand-over: 20 jobs on Redis
        ids = [n.id for n in notifications]
        recipients = {n.message_id: n.recipient for n in notifications}
        db.session.remove()
    return ids, recipients


def test_worker_killed_mid_send_every_mail_arrives_at_most_one_duplicate(
    ops: Ops, capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    app, mailbox = ops.app, ops.mailbox
    ids, recipients = waiting_notifications(app, 20)
    queue_length = redis.Redis.from_url(ops.redis.url).llen("rq:queue:default")
    assert queue_length == 20
    mailbox.delay = 0.3  # well below the stale-claim time, so a live send is never taken over

    worker = ops.start("worker.py", "--single", log_name="killed-worker.log")
    wait_for(
        lambda: len(mailbox.messages) >= 6 and mailbox.in_progress > 0,
        timeout=40,
        what="five mails sent and a sixth in progress",
    )
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=15)
    killed_at = time.monotonic()
    arrived_before_kill = len(mailbox.messages)

    before = states(app, ids)
    cut_off = [i for i, (state, _) in before.items() if state == EmailState.SENDING.value]
    assert cut_off, f"no delivery was cut off: {before}"
    assert all(before[i][1] == 1 for i in cut_off)
    assert sum(1 for state, _ in before.values() if state == EmailState.WAITING.value) > 0

    # A new worker.py (a worker and the relay, as in production) takes over.
    supervisor = ops.start("worker.py", "--relay-every", "0.5", log_name="new-worker.log")

    def all_sent() -> bool:
        return all(state == EmailState.SENT.value for state, _ in states(app, ids).values())

    try:
        wait_for(all_sent, timeout=45, what="all 20 notifications sent")
    except AssertionError:
        raise AssertionError(
            f"{states(app, ids)}\n{ops.log_tail('new-worker.log')}\n"
            f"{ops.log_tail('killed-worker.log')}"
        ) from None
    recovered = time.monotonic() - killed_at
    time.sleep(0.5)  # a straggling duplicate would show up now
    supervisor.send_signal(signal.SIGTERM)
    try:
        supervisor.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(supervisor.pid, signal.SIGKILL)
        supervisor.wait(timeout=15)

    received = mailbox.message_ids()
    assert set(recipients) <= set(received), "a mail never arrived"
    assert set(received) <= set(recipients)
    for message_id, recipient in recipients.items():
        assert {str(m["To"]) for m in mailbox.messages if m["Message-ID"] == message_id} == {
            recipient
        }
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    record_property("duplicates", duplicates)
    report(
        capsys,
        f"worker killed with {arrived_before_kill} of 20 mails at the server, "
        f"{len(cut_off)} of them not yet acknowledged (delivery cut off); all 20 arrived "
        f"{recovered:.1f} s later; duplicates: {duplicates}",
    )
    assert duplicates <= 1
    after = states(app, ids)
    for notification_id in cut_off:
        assert after[notification_id] == (EmailState.SENT.value, 2), "the cut-off job was retried"
    assert all(attempts == 1 for i, (_, attempts) in after.items() if i not in cut_off)


# --- 3. the mail server refusing for a while -----------------------------------------------------


class Clock:
    """Stands in for ``portal.notifications.jobs.utcnow``: time moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[:2000]
    return html.unescape(found.group(1))


def test_refused_mail_backs_off_fails_and_goes_out_after_an_admin_resends(
    ops: Ops, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.audit.models import AuditRecord
    from portal.notifications.dispatch import dispatch_committed
    from portal.notifications.services import notify
    from portal.timeutil import utcnow

    app, mailbox = ops.app, ops.mailbox
    clock = Clock(utcnow())
    monkeypatch.setattr(jobs, "utcnow", clock)
    mailbox.refuse = True
    with app.app_context():
        factory = Factory()
        user = factory.user()
        admin = factory.user(roles=("admin",))
        db.session.commit()
        notification = notify(user, "account_password_changed", link="http://localhost/account")
        db.session.commit()
        dispatch_committed()  # queued on Redis
        notification_id, recipient, admin_email, admin_id = (
            notification.id,
            user.email,
            admin.email,
            admin.id,
        )
        db.session.remove()

    def row() -> Notification:
        with app.app_context():
            found = db.session.get(Notification, notification_id)
            assert found is not None
            db.session.expunge(found)
            db.session.remove()
        return found

    gaps = []
    for attempt in range(1, 6):
        if attempt > 1:
            with app.app_context():
                # One second early: not due, the relay leaves it and a delivery does nothing.
                due = row().next_attempt_at
                clock.now = due - timedelta(seconds=1)
                assert notification_id not in jobs.due_notification_ids()
                assert jobs.deliver(notification_id) == "not due or already taken"
                # Due: the relay hands it to the queue again.
                clock.now = due
                assert jobs.relay_outbox() == 1
        ops.burst_in_process()  # the worker tries: real SMTP, refused
        current = row()
        assert current.attempts == attempt
        assert "451" in (current.last_error or ""), current.last_error
        if attempt < 5:
            assert current.email_state == EmailState.WAITING.value
            gaps.append((current.next_attempt_at - clock.now).total_seconds())
    assert gaps == [60, 300, 1800, 7200]
    failed = row()
    assert failed.email_state == EmailState.FAILED.value
    assert "451" in failed.last_error and "Try again later" in failed.last_error
    assert mailbox.messages == []
    with app.app_context():
        clock.now += timedelta(days=1)
        assert notification_id not in jobs.due_notification_ids()  # failed stays failed

    # The admin finds it in the delivery log, with the mail server's refusal.
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    token = csrf_token(client.get("/inloggen").get_data(as_text=True))
    response = client.post(
        "/inloggen", data={"email": admin_email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    listing = client.get("/beheer/berichten/?status=failed")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert f"/beheer/berichten/{notification_id}" in page and recipient in page
    assert "status--mail-failed" in page and "Mislukt" in page
    detail = client.get(f"/beheer/berichten/{notification_id}")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert "451" in page and "Try again later" in page and "Opnieuw versturen" in page
    assert (
        client.get("/beheer/berichten/?status=sent")
        .get_data(as_text=True)
        .count(f'/beheer/berichten/{notification_id}"')
        == 0
    )

    # The mail server accepts again; the admin resends (the form's CSRF token is required).
    mailbox.refuse = False
    resend = f"/beheer/berichten/{notification_id}/opnieuw"
    assert client.post(resend).status_code == 400
    response = client.post(resend, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/beheer/berichten/{notification_id}")
    assert row().email_state == EmailState.WAITING.value and row().attempts == 0
    ops.burst_in_process()
    sent = row()
    assert sent.email_state == EmailState.SENT.value and sent.attempts == 1
    assert sent.smtp_response.startswith("250")
    assert len(mailbox.messages) == 1
    assert mailbox.to(recipient)[0]["Message-ID"] == sent.message_id
    # A second click: nothing is failed, nothing goes out again.
    response = client.post(resend, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    ops.burst_in_process()
    assert len(mailbox.messages) == 1 and row().email_state == EmailState.SENT.value
    with app.app_context():
        audit = db.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "resend_notification",
                AuditRecord.object_type == "notification",
                AuditRecord.object_id == notification_id,
            )
        ).all()
        assert [(a.actor_id, a.from_state, a.to_state) for a in audit] == [
            (admin_id, EmailState.FAILED.value, EmailState.WAITING.value)
        ]
        db.session.remove()
    report(capsys, f"refused 5 times, waits {[int(g) for g in gaps]} s, failed; resent once")
