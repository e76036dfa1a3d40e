"""Benchmark: with one worker running, the receipt for a submitted application reaches the SMTP
server within 2 seconds at the 95th percentile, over 200 submissions.

    make bench-mail            (or: .venv/bin/python scripts/bench_receipts.py)

What it does, on a machine with PostgreSQL and Redis (``make services``):

* drops and creates the database ``wijkkracht_bench_mail``, migrates it and loads the demo data;
* starts an SMTP server in this process that notes when each message arrives;
* empties Redis database 5 and starts ONE ``python worker.py --single`` against it;
* lets 200 residents, one after another, log in and submit a complete draft through the real
  route (``POST /aanvragen/<id>/indienen``, in this process via Flask's test client);
* waits for the 200 receipts and reports the latency from the receipt's commit
  (``Notification.created_at``) to its arrival at the SMTP server, and from the resident's click
  (the start of the POST) to the arrival.

Writes ``bench/results/receipts.json`` and ``receipts.md``; exits 1 when p95 is over 2 seconds.
Settings: PORTAL_BENCH_PG (server URL without database), PORTAL_BENCH_REDIS (a Redis URL whose
database this benchmark may empty), --submissions N.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "wijkkracht_bench_mail"
PG_BASE = os.environ.get("PORTAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("PORTAL_BENCH_REDIS", "redis://127.0.0.1:6379/5")
TARGET_P95_SECONDS = 2.0
RESULTS = ROOT / "bench" / "results"
PASSWORD = "een-lange-zin-als-wachtwoord"  # noqa: S105 - benchmark accounts only


# --- the SMTP server ---------------------------------------------------------------------------


class Arrivals:
    """Arrival time (epoch seconds) per Message-ID, and every recipient seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}
        self.recipients: dict[str, str] = {}
        self.duplicates = 0

    def note(self, message_id: str, recipient: str) -> None:
        now = time.time()
        with self.lock:
            if message_id in self.at:
                self.duplicates += 1
                return
            self.at[message_id] = now
            self.recipients[message_id] = recipient

    def count(self) -> int:
        with self.lock:
            return len(self.at)


def start_smtp(arrivals: Arrivals) -> tuple[Any, int]:
    import email
    import socket
    from email import policy

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            arrivals.note(str(message["Message-ID"]), str(message["To"]))
            return "250 2.0.0 Message accepted for delivery"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


# --- database and data -------------------------------------------------------------------------


def recreate_database() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    engine.dispose()
    return f"{PG_BASE}/{DATABASE}"


def make_user(number: int, postcode: str, district: Any, password_hash: str) -> Any:
    from portal.accounts.models import User, UserRole
    from portal.extensions import db
    from portal.timeutil import utcnow

    user = User(
        name=f"Benchmark Bewoner {number}",
        email=f"bench-{number}@example.org",
        password_hash=password_hash,
        postcode=postcode,
        house_number=str(number),
        district=district,
        adult_confirmed_at=utcnow(),
        email_verified_at=utcnow(),
    )
    user.role_links.append(UserRole(role="resident"))
    db.session.add(user)
    return user


def prepare_drafts(count: int) -> list[tuple[str, int]]:
    """``count`` residents of Glanerbrug, each with a draft that meets every rule: (e-mail,
    application id). Five neighbours endorse every draft."""
    from portal.accounts.passwords import hash_password
    from portal.applications import services
    from portal.districts.services import district_for_postcode
    from portal.extensions import db
    from portal.timeutil import local_today

    password_hash = hash_password(PASSWORD)
    district = district_for_postcode("7533AB")
    start = local_today() + timedelta(weeks=8)
    neighbours = [make_user(1000 + n, "7533AC", district, password_hash) for n in range(5)]
    db.session.flush()
    prepared = []
    for number in range(1, count + 1):
        applicant = make_user(number, "7533AB", district, password_hash)
        db.session.flush()
        application = services.create_draft(applicant, f"bench-{number}")
        application.title = f"Buurtfeest {number}"
        application.description = "Een middag met muziek en soep voor de hele straat."
        application.kaders = ["sociale_samenhang"]
        application.start_date = application.end_date = start
        application.location = "Het plein"
        application.iban = "NL91ABNA0417164300"
        application.account_holder = applicant.name
        application.declaration = True
        services.set_lines(
            application,
            [
                {
                    "description": "Tent",
                    "category": "huur_spullen",
                    "quantity": 1,
                    "unit_price_cents": 25000,
                },
                {
                    "description": "Soep",
                    "category": "eten_drinken",
                    "quantity": 40,
                    "unit_price_cents": 250,
                },
                {
                    "description": "Flyers",
                    "category": "drukwerk",
                    "quantity": 100,
                    "unit_price_cents": 15,
                },
            ],
        )
        for neighbour in neighbours:
            services.endorse(application, user=neighbour)
        db.session.flush()
        prepared.append((applicant.email, application.id))
    db.session.commit()
    db.session.remove()
    return prepared


# --- the worker --------------------------------------------------------------------------------


def start_worker(log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "worker.py", "--single"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


# --- submitting --------------------------------------------------------------------------------


def submit(app: Any, email: str, application_id: int) -> tuple[float, float]:
    """Log in and submit through the route; the time the POST started and returned."""
    client = app.test_client()
    response = client.post("/inloggen", data={"email": email, "password": PASSWORD})
    if response.status_code != 303:
        raise SystemExit(f"login of {email} failed: {response.status_code}")
    clicked = time.time()
    response = client.post(f"/aanvragen/{application_id}/indienen", data={"declaration": "y"})
    returned = time.time()
    if response.status_code != 303 or not response.headers["Location"].endswith(
        f"/aanvragen/{application_id}"
    ):
        raise SystemExit(f"submitting application {application_id} failed: {response.status}")
    return clicked, returned


def stored_receipts(app: Any, application_ids: list[int]) -> list[Any]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.notifications.models import Notification

    with app.app_context():
        receipts = db.session.execute(
            select(
                Notification.object_id,
                Notification.message_id,
                Notification.created_at,
                Notification.recipient,
            ).where(
                Notification.kind == "application_submitted",
                Notification.object_id.in_(application_ids),
            )
        ).all()
        db.session.remove()
    return list(receipts)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        ("from the receipt's commit", results["from_commit"]),
        ("from the resident's click", results["from_click"]),
    ]
    lines = [
        f"Receipts: {results['arrived']} of {results['submissions']} arrived, "
        f"{results['duplicates']} duplicates, one worker (RQ SimpleWorker), "
        f"submissions one after another",
        "",
        "| latency to the SMTP server | p50 | p95 | p99 | max | mean |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, values in rows:
        cells = " | ".join(
            f"{values[key] * 1000:.0f} ms" for key in ("p50", "p95", "p99", "max", "mean")
        )
        lines.append(f"| {label} | {cells} |")
    lines += [
        "",
        f"Target: p95 from commit <= {TARGET_P95_SECONDS:.0f} s: **{results['verdict']}** "
        f"(p95 {results['from_commit']['p95'] * 1000:.0f} ms)",
        f"Submitting took {results['submit_seconds']:.1f} s "
        f"({results['submissions'] / results['submit_seconds']:.1f} per second, "
        f"median POST {results['post_p50'] * 1000:.0f} ms).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()

    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    arrivals = Arrivals()
    smtp, smtp_port = start_smtp(arrivals)
    instance = Path(tempfile.mkdtemp(prefix="wijkkracht-bench-"))
    os.environ.update(
        FLASK_APP="portal:create_app",
        PORTAL_DATABASE_URL=recreate_database(),
        PORTAL_REDIS_URL=REDIS_URL,
        PORTAL_MAIL_BACKEND="smtp",
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(smtp_port),
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_SECRET_KEY=secrets.token_hex(32),
        PORTAL_BASE_URL="http://localhost",
        PYTHONUNBUFFERED="1",
    )
    from flask_migrate import upgrade

    from portal import create_app
    from portal.accounts.passwords import use_fast_hashing
    from portal.demo import seed_demo
    from portal.extensions import db

    # The benchmark measures mail, not password hashing: the 200 logins use cheap argon2.
    use_fast_hashing()
    app = create_app({"WTF_CSRF_ENABLED": False})
    print(f"Preparing {DATABASE}: migrations, demo data, {args.submissions} drafts ...")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
        db.session.commit()
        prepared = prepare_drafts(args.submissions + 1)

    worker_log = instance / "worker.log"
    worker = start_worker(worker_log)
    try:
        # Warm-up, not counted: the worker has started and delivered a first receipt.
        print("Starting one worker; warm-up submission ...")
        warm_email, warm_id = prepared.pop()
        submit(app, warm_email, warm_id)
        wait_until(
            lambda: warm_email in arrivals.recipients.values(),
            timeout=60,
            what=f"the warm-up receipt (worker log: {worker_log})",
        )
        print(f"Submitting {len(prepared)} applications one after another ...")
        clicks: dict[int, tuple[float, float]] = {}
        started = time.monotonic()
        for email, application_id in prepared:
            clicks[application_id] = submit(app, email, application_id)
        submit_seconds = time.monotonic() - started
        receipts = stored_receipts(app, list(clicks))
        if len(receipts) != len(prepared):
            raise SystemExit(f"expected {len(prepared)} receipts, found {len(receipts)}")
        wait_until(
            lambda: all(receipt.message_id in arrivals.at for receipt in receipts),
            timeout=120,
            what=f"{len(prepared)} receipts (worker log: {worker_log})",
        )
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        stop_worker(worker)
        smtp.stop()

    from_commit, from_click, posts, wrong = [], [], [], []
    for receipt in receipts:
        arrived = arrivals.at[receipt.message_id]
        if arrivals.recipients[receipt.message_id] != receipt.recipient:
            wrong.append(receipt.object_id)
        clicked, returned = clicks[receipt.object_id]
        from_commit.append(arrived - receipt.created_at.timestamp())
        from_click.append(arrived - clicked)
        posts.append(returned - clicked)
    if wrong:
        raise SystemExit(f"receipts that went to the wrong address: {wrong}")

    commit_summary = summary(from_commit)
    results = {
        "benchmark": "receipt of a submitted application to the SMTP server",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "database": "PostgreSQL",
        "workers": 1,
        "submissions": len(prepared),
        "arrived": len(from_commit),
        "duplicates": arrivals.duplicates,
        "submit_seconds": submit_seconds,
        "post_p50": percentile(posts, 0.5),
        "from_commit": commit_summary,
        "from_click": summary(from_click),
        "target_p95_seconds": TARGET_P95_SECONDS,
        "verdict": "PASS" if commit_summary["p95"] <= TARGET_P95_SECONDS else "FAIL",
    }
    report = table(results)
    print()
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "receipts.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "receipts.md").write_text(
        "# Receipt latency (`make bench-mail`)\n\n"
        f"{results['when']}, {results['machine']}\n\n{report}\n"
    )
    print(f"\nWritten: {RESULTS / 'receipts.json'}, {RESULTS / 'receipts.md'}")
    return 0 if results["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
