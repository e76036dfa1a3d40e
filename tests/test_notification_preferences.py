"""Preferences (immediately, daily digest, inbox only), the digest, the delivery log, and the
periodic job that computes reminders: run twice, or twice at once, it sends everything once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import CaseOfficerBorough
from portal.applications.models import Application, InfoRequest, State
from portal.audit.models import AuditRecord
from portal.background import run_periodic, slot_after, tick_job_id
from portal.districts.models import Borough
from portal.extensions import db
from portal.notifications import jobs
from portal.notifications.digest import send_digests
from portal.notifications.kinds import KINDS, is_mandatory
from portal.notifications.log import resend_failed
from portal.notifications.models import EmailState, Notification, NotificationPreference
from portal.notifications.services import absolute_url, notify
from portal.timeutil import AMSTERDAM, local_today
from tests.conftest import Factory, make_app, reset_schema
from tests.test_notifications import worker_app  # noqa: F401 - a fixture

# 08:00 in Enschede: after the digest hour (07:00).
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=AMSTERDAM).astimezone(UTC)


def choose(user: Any, **deliveries: str) -> None:
    for kind, delivery in deliveries.items():
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    db.session.flush()


def rows(user: Any) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


# A mix of optional and mandatory messages, rendered from their real templates.
def events(user: Any, application: Any) -> None:
    link = absolute_url("applications.detail", application_id=application.id)
    common = {"object_type": "application", "object_id": application.id, "link": link}
    notify(user, "application_withdrawn", application=application, **common)
    notify(user, "accounting_reminder", application=application, due=local_today(), **common)
    notify(user, "account_password_changed", **common)  # mandatory: always at once
    notify(user, "accounting_overdue", application=application, due=local_today(), **common)


def test_mandatory_kinds_are_the_legal_notices() -> None:
    for kind in (
        "application_submitted",
        "application_info_requested",
        "decision_sent",
        "intent_sent",
        "settled",
        "account_reset_password",
    ):
        assert is_mandatory(kind), kind
    for kind in ("payment_sent", "advice_requested", "decision_due_soon", "accounting_reminder"):
        assert not is_mandatory(kind), kind
    assert is_mandatory("a_kind_nobody_listed")  # unknown: never held back


def test_a_choice_decides_how_a_message_goes_but_legal_notices_go_at_once(
    factory, application_objects
) -> None:
    user = factory.user()
    application = db.session.get(Application, application_objects["submitted"])
    choose(
        user,
        application_withdrawn="digest",
        accounting_reminder="inbox",
        account_password_changed="inbox",  # not offered on the page; ignored if stored anyway
    )
    events(user, application)
    states = {n.kind: n.email_state for n in rows(user)}
    assert states == {
        "application_withdrawn": EmailState.DIGEST,
        "accounting_reminder": EmailState.NOT_EMAILED,
        "account_password_changed": EmailState.WAITING,
        "accounting_overdue": EmailState.WAITING,
    }


def test_the_digest_holds_exactly_what_the_immediate_path_would_have_sent(
    factory, application_objects, mailbox
) -> None:
    application = db.session.get(Application, application_objects["submitted"])
    # Two people alike in everything but their choice.
    at_once = factory.user(name="Sanne de Vries", email="direct@example.org")
    in_digest = factory.user(name="Sanne de Vries", email="overzicht@example.org")
    optional = [k for k, kind in KINDS.items() if kind.audience and not kind.mandatory]
    choose(in_digest, **dict.fromkeys(optional, "digest"))
    events(at_once, application)
    events(in_digest, application)
    db.session.commit()
    jobs.relay_outbox()  # in-process delivery of whatever waits (no Redis in this test)
    for notification in db.session.scalars(
        select(Notification).where(Notification.email_state == EmailState.WAITING)
    ):
        jobs.deliver(notification.id)

    sent_at_once = [(m["Subject"], mailbox.text(m)) for m in mailbox.to("direct@example.org")]
    assert len(sent_at_once) == 4
    before_digest = [(m["Subject"], mailbox.text(m)) for m in mailbox.to("overzicht@example.org")]
    # Only the legal notice went out at once.
    assert [subject for subject, _ in before_digest] == [sent_at_once[2][0]]

    assert send_digests(MORNING) == 1
    assert send_digests(MORNING) == 0  # once a day
    db.session.commit()
    digest_row = db.session.scalar(select(Notification).where(Notification.kind == "digest"))
    jobs.deliver(digest_row.id)
    digests = mailbox.to("overzicht@example.org")[len(before_digest) :]
    assert len(digests) == 1
    digest_text = mailbox.text(digests[0]).replace("\r\n", "\n")
    held = [item for item in sent_at_once if item != sent_at_once[2]]
    # Every held message, with its exact subject and text, in the order it happened.
    positions = []
    for subject, text in held:
        assert subject in digest_text
        # The message as sent at once, without the footer every mail ends with.
        body = text.replace("\r\n", "\n").split("\n\n--\n")[0].strip()
        assert body in digest_text
        positions.append(digest_text.index(subject))
    assert positions == sorted(positions)
    assert "3 berichten" in digests[0]["Subject"]
    # Nothing else: the held rows are marked as sent in this digest, and no row is left behind.
    states = {n.kind: (n.email_state, n.digest_id) for n in rows(in_digest) if n.kind != "digest"}
    assert states["account_password_changed"] == (EmailState.SENT, None)
    for kind in ("application_withdrawn", "accounting_reminder", "accounting_overdue"):
        assert states[kind] == (EmailState.IN_DIGEST, digest_row.id)
    # The digest is an e-mail, not an extra inbox message.
    assert digest_row.read_at is not None


def test_no_digest_before_the_digest_hour(factory, application_objects) -> None:
    user = factory.user()
    choose(user, application_withdrawn="digest")
    application = db.session.get(Application, application_objects["submitted"])
    notify(user, "application_withdrawn", link="http://localhost/x", application=application)
    early = datetime(2026, 12, 1, 6, 30, tzinfo=AMSTERDAM).astimezone(UTC)
    assert send_digests(early) == 0
    assert send_digests(MORNING) == 1


def test_the_preferences_page_offers_the_kinds_of_each_role(client, factory, login_as) -> None:
    officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    member = factory.user(council=("Dorpsraad Glanerbrug", "member"))
    resident = factory.user()
    db.session.commit()
    login_as(resident)
    page = client.get("/berichten/instellingen").get_data(as_text=True)
    assert "Over uw eigen aanvragen" in page
    assert "Voor uw wijkorgaan" not in page and "Voor behandelaars" not in page
    assert 'name="bericht-payment_sent"' in page
    assert 'name="bericht-decision_sent"' not in page  # a legal notice: not a choice
    assert "Besluit op uw aanvraag" in page  # listed under "always at once"
    client.post("/uitloggen")
    login_as(member)
    assert "Voor uw wijkorgaan" in client.get("/berichten/instellingen").get_data(as_text=True)
    client.post("/uitloggen")
    login_as(officer)
    page = client.get("/berichten/instellingen").get_data(as_text=True)
    assert "Voor behandelaars" in page and 'name="bericht-decision_due_soon"' in page


def test_saving_preferences_keeps_the_choices(client, factory, login_as) -> None:
    user = factory.user()
    db.session.commit()
    login_as(user)
    response = client.post(
        "/berichten/instellingen",
        data={
            "bericht-payment_sent": "digest",
            "bericht-accounting_reminder": "inbox",
            "bericht-application_withdrawn": "nonsense",
            "bericht-decision_sent": "inbox",  # not offered: ignored
        },
    )
    assert response.status_code == 303
    stored = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    assert stored == {"payment_sent": "digest", "accounting_reminder": "inbox"}
    page = client.get("/berichten/instellingen").get_data(as_text=True)
    assert 'id="bericht-payment_sent-digest" value="digest" checked' in page
    assert "Uw keuzes voor berichten zijn bewaard." in page


def test_every_mail_links_to_the_preferences(factory) -> None:
    user = factory.user()
    notification = notify(user, "account_password_changed", link="http://localhost/x")
    url = absolute_url("notifications.preferences")
    assert url.endswith("/berichten/instellingen")
    assert url in notification.body_text
    assert url in notification.body_html


# --- the delivery log ---------------------------------------------------------------------------


def test_the_delivery_log_filters_and_resends(client, factory, login_as, personas) -> None:
    admin = personas["admin"]
    someone = factory.user(email="kapot@example.org")
    failed = notify(someone, "account_password_changed", link="http://localhost/x")
    failed.email_state = EmailState.FAILED
    failed.attempts = 5
    failed.last_error = "RCPT TO refused: 550 5.1.1 mailbox unavailable"
    notify(factory.user(), "account_password_changed", link="http://localhost/y")
    db.session.commit()
    login_as(admin)
    page = client.get("/beheer/berichten/?status=failed").get_data(as_text=True)
    assert "kapot@example.org" in page and "550 5.1.1" in page
    assert "1 bericht" in page
    assert "kapot@" not in client.get("/beheer/berichten/?status=sent").get_data(as_text=True)
    assert "kapot@" in client.get("/beheer/berichten/?ontvanger=KAPOT").get_data(as_text=True)
    assert "kapot@" not in client.get("/beheer/berichten/?soort=application_submitted").get_data(
        as_text=True
    )
    detail = client.get(f"/beheer/berichten/{failed.id}").get_data(as_text=True)
    assert "Opnieuw versturen" in detail and "mailbox unavailable" in detail
    counts = client.get("/beheer/").get_data(as_text=True)
    assert "/beheer/berichten/?status=failed" in counts

    assert client.post(f"/beheer/berichten/{failed.id}/opnieuw").status_code == 303
    db.session.refresh(failed)
    assert failed.email_state in (EmailState.WAITING, EmailState.SENT)
    assert failed.attempts <= 1
    audit = db.session.scalar(
        select(AuditRecord).where(
            AuditRecord.action == "resend_notification", AuditRecord.object_id == failed.id
        )
    )
    assert audit is not None and audit.actor_id == admin.id
    # Resending what is not failed changes nothing.
    assert resend_failed(failed.id, admin.id) is False


def test_the_delivery_log_and_inbox_use_constant_queries(
    client, factory, login_as, personas, count_queries
) -> None:
    admin = personas["admin"]
    people = [factory.user() for _ in range(3)]
    for person in people:
        notify(person, "account_password_changed", link="http://localhost/x")
    db.session.commit()
    login_as(admin)
    client.get("/beheer/berichten/")
    with count_queries() as few:
        assert client.get("/beheer/berichten/?status=waiting").status_code == 200
    for _ in range(3):
        for person in [factory.user() for _ in range(40)]:
            notify(person, "account_password_changed", link="http://localhost/x")
    db.session.commit()
    with count_queries() as many:
        page = client.get("/beheer/berichten/?status=waiting&page=2")
    assert page.status_code == 200
    assert "Volgende" in page.get_data(as_text=True)
    assert many.count == few.count


# --- the periodic job ---------------------------------------------------------------------------


def test_ticks_are_every_quarter_hour_and_named_by_their_slot() -> None:
    moment = datetime(2026, 12, 1, 9, 7, 30, tzinfo=UTC)
    assert slot_after(moment) == datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    assert slot_after(datetime(2026, 12, 1, 9, 15, tzinfo=UTC)) == datetime(
        2026, 12, 1, 9, 30, tzinfo=UTC
    )
    assert tick_job_id(slot_after(moment)) == "wijkkracht-tick-20261201T0915"


def test_the_information_request_reminder_goes_out_three_days_before(
    factory, application_objects
) -> None:
    from portal.applications.reminders import send_info_request_reminders
    from portal.reviews import services as intake

    officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    application = db.session.get(Application, application_objects["submitted"])
    today = local_today()
    info = intake.request_info(application, officer, "Stuur de offerte.", today + timedelta(10))
    assert send_info_request_reminders(today) == 0
    assert send_info_request_reminders(info.due_date - timedelta(days=3)) == 1
    assert send_info_request_reminders(info.due_date - timedelta(days=1)) == 0
    reminder = db.session.scalar(
        select(Notification).where(Notification.kind == "info_request_reminder")
    )
    assert reminder.user_id == application.applicant_id
    assert application.reference in reminder.subject
    assert reminder.link == absolute_url("applications.detail", application_id=application.id)
    # Once answered, nothing more is sent for it.
    db.session.get(InfoRequest, info.id).outcome = "answered"
    db.session.execute(
        update(Notification)
        .where(Notification.kind == "info_request_reminder")
        .values(dedupe_key=None)
    )
    assert send_info_request_reminders(info.due_date - timedelta(days=1)) == 0


@pytest.fixture
def committed_app() -> Any:
    app = make_app("wijkkracht_test_periodic", TESTING=False)
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_periodic_job_run_twice_at_once_sends_each_reminder_once(committed_app) -> None:
    """Two workers run the tick at the same moment: every reminder is stored (and so sent)
    once."""
    from portal.reviews import services as intake
    from tests.test_applications import make_complete_draft

    app = committed_app
    with app.app_context():
        factory = Factory()
        neighbours = [factory.user(postcode="7533AC") for _ in range(5)]
        officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
        other = factory.user(roles=("case_officer",), boroughs=("Oost",))
        from portal.applications import services as applications

        for _ in range(6):
            applicant = factory.user(postcode="7533AB")
            draft = make_complete_draft(applicant, neighbours)
            applications.submit(draft, applicant)
        db.session.flush()
        submitted = db.session.scalars(select(Application).order_by(Application.id)).all()
        for application in submitted[:3]:
            intake.request_info(
                application, officer, "Graag de offerte.", local_today() + timedelta(2)
            )
        for application in submitted[3:]:
            intake.accept(application, officer)
        # The decision deadline of the accepted ones is within a week.
        db.session.execute(
            update(Application)
            .where(Application.state == State.IN_REVIEW)
            .values(decision_deadline=local_today() + timedelta(days=3))
        )
        db.session.commit()
        officer_ids = {officer.id, other.id}

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tick() -> None:
        with app.app_context():
            try:
                barrier.wait()
                run_periodic()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with app.app_context():
        run_periodic()  # and a third time, later
        counted = dict(
            db.session.execute(
                select(Notification.kind, func.count())
                .where(Notification.kind.in_(["info_request_reminder", "decision_due_soon"]))
                .group_by(Notification.kind)
            ).all()
        )
        oost = db.session.scalar(
            select(func.count(CaseOfficerBorough.user_id))
            .join(Borough, Borough.id == CaseOfficerBorough.borough_id)
            .where(Borough.name == "Oost")
        )
        # 3 information requests; 3 deadlines times every case officer of the borough.
        assert counted == {"info_request_reminder": 3, "decision_due_soon": 3 * oost}
        pairs = db.session.execute(
            select(Notification.user_id, Notification.object_id).where(
                Notification.kind == "decision_due_soon"
            )
        ).all()
        assert len(set(pairs)) == len(pairs)
        assert {user_id for user_id, _ in pairs} >= officer_ids


@pytest.mark.redis
def test_the_tick_is_on_rqs_scheduler_once_per_slot(worker_app) -> None:  # noqa: F811
    from rq.job import Job
    from rq.serializers import JSONSerializer

    from portal.background import periodic_tick, schedule_tick
    from portal.extensions import rq

    app, _mailbox = worker_app
    with app.app_context():
        first = schedule_tick()
        assert schedule_tick() == first  # a second worker or the relay: the same job
        queue = rq.queue
        assert queue.scheduled_job_registry.get_job_ids() == [first]
        job = Job.fetch(first, connection=queue.connection, serializer=JSONSerializer)
        assert job.func_name == "portal.background.periodic_tick"
        # Running the tick puts the next one in line (same slot: still one job) and does the work.
        counts = periodic_tick()
        assert set(counts) == {"accounting", "review", "information", "digests"}
        assert queue.scheduled_job_registry.get_job_ids() == [first]
