"""Intake: complete, ask for information (the decision clock stops, Awb 4:15), the applicant's
answer, not considered after the period (Awb 4:5), and one extension (Awb 4:14)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.applications import services
from portal.applications.models import Application, Attachment, State
from portal.audit.models import AuditRecord
from portal.deadlines import add_period, decision_deadline
from portal.extensions import db
from portal.reviews import services as intake
from portal.timeutil import local_today, to_local
from tests.conftest import TINY_PDF
from tests.test_applications import make_complete_draft


@pytest.fixture
def applicant(factory) -> Any:
    return factory.user(postcode="7533AB", name="Anna Aanvrager")


@pytest.fixture
def officer(factory) -> Any:
    return factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram Behandelaar")


@pytest.fixture
def submitted(applicant, factory) -> Application:
    neighbours = [factory.user(postcode="7533AC") for _ in range(5)]
    application = make_complete_draft(applicant, neighbours)
    services.submit(application, applicant)
    db.session.commit()
    return application


def received(application: Application) -> date:
    return to_local(application.submitted_at).date()


def trail(application: Application) -> list[tuple[str, str | None, str | None]]:
    return [
        (r.action, r.from_state, r.to_state)
        for r in db.session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.object_type == "application", AuditRecord.object_id == application.id
            )
            .order_by(AuditRecord.id)
        )
    ]


# --- the deadline arithmetic, on real dates ------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "suspended", "extension", "expected", "why"),
    [
        (date(2026, 3, 3), 0, 0, date(2026, 4, 28), "8 weeks from a Tuesday is a Tuesday"),
        (date(2026, 3, 3), 6, 0, date(2026, 5, 4), "6 days stopped: Monday 4 May"),
        (date(2026, 3, 3), 7, 0, date(2026, 5, 6), "Liberation Day, 5 May, moves it on"),
        (date(2026, 3, 3), 13, 2, date(2026, 5, 26), "stopped and extended onto Whit Monday"),
        (date(2026, 3, 3), 2, 2, date(2026, 5, 18), "Ascension and the Friday after (Atw 3.3)"),
        (date(2026, 10, 29), 1, 0, date(2026, 12, 28), "Christmas and a weekend"),
        (date(2026, 9, 10), 0, 8, date(2026, 12, 31), "an extension of 8 weeks"),
        (date(2026, 9, 10), 1, 8, date(2027, 1, 4), "New Year's Day and a weekend"),
        (date(2026, 3, 2), 0, 0, date(2026, 4, 28), "King's Day, Monday 27 April 2026"),
    ],
)
def test_decision_deadline_with_suspension_and_extension(
    received_on, suspended, extension, expected, why
) -> None:
    deadline = decision_deadline(
        received_on, weeks=8, suspended_days=suspended, extension_weeks=extension
    )
    assert deadline == expected, why


def test_the_suspension_runs_from_the_request_to_the_answer_or_the_end_of_the_period() -> None:
    info = intake.InfoRequest(requested_on=date(2026, 3, 3), due_date=date(2026, 3, 17))
    assert intake.suspension_days(info, date(2026, 3, 10)) == 7
    assert intake.suspension_days(info, date(2026, 3, 3)) == 0  # answered the same day
    assert intake.suspension_days(info, date(2026, 3, 20)) == 14  # late: only the given period


# --- the case officer's intake -------------------------------------------------------------


def test_a_complete_application_goes_into_review(client, login_as, officer, submitted) -> None:
    login_as(officer)
    page = client.get(f"/behandeling/{submitted.id}").get_data(as_text=True)
    assert "Compleet: in behandeling nemen" in page and submitted.reference in page
    assert client.post(f"/behandeling/{submitted.id}/compleet").status_code == 303
    db.session.refresh(submitted)
    assert submitted.state == State.IN_REVIEW
    assert trail(submitted)[-1] == ("application.accepted", "submitted", "in_review")
    page = client.get(f"/behandeling/{submitted.id}").get_data(as_text=True)
    assert "Compleet: in behandeling nemen" not in page
    assert "Aanvraag compleet, in behandeling genomen" in page  # the audit trail


def test_an_officer_of_another_borough_cannot_touch_it(client, factory, login_as, submitted):
    login_as(factory.user(roles=("case_officer",), boroughs=("Zuid",)))
    assert client.get(f"/behandeling/{submitted.id}").status_code == 404
    assert client.post(f"/behandeling/{submitted.id}/compleet").status_code == 404
    db.session.refresh(submitted)
    assert submitted.state == State.SUBMITTED


def test_asking_for_information_stops_the_clock_until_the_answer(
    client, app, login_as, officer, applicant, submitted, mailbox
) -> None:
    login_as(officer)
    page = client.get(f"/behandeling/{submitted.id}").get_data(as_text=True)
    default_due = add_period(local_today(), days=14)
    assert f'value="{default_due.isoformat()}"' in page  # 14 days from the ruleset
    # A request without questions or with a date in the past is refused, with what was typed.
    response = client.post(
        f"/behandeling/{submitted.id}/aanvulling", data={"questions": "", "due_date": ""}
    )
    assert response.status_code == 422
    assert "Schrijf op welke informatie ontbreekt." in response.get_data(as_text=True)
    response = client.post(
        f"/behandeling/{submitted.id}/aanvulling",
        data={"questions": "Stuur de offerte van de tent mee.", "due_date": "2020-01-01"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Kies een datum na vandaag." in html and "Stuur de offerte van de tent mee." in html
    db.session.refresh(submitted)
    assert submitted.state == State.SUBMITTED
    response = client.post(
        f"/behandeling/{submitted.id}/aanvulling",
        data={"questions": "Stuur de offerte van de tent mee.", "due_date": default_due},
    )
    assert response.status_code == 303
    db.session.refresh(submitted)
    assert submitted.state == State.INFO_REQUESTED
    [mail] = [m for m in mailbox.to(applicant.email) if "meer informatie" in m["Subject"]]
    text = mailbox.text(mail)
    assert "Stuur de offerte van de tent mee." in text
    assert f"/aanvragen/{submitted.id}" in text

    # Ten days later the applicant answers: the decision deadline moves ten days.
    info = submitted.open_info_request
    info.requested_on = local_today() - timedelta(days=10)
    info.due_date = local_today() + timedelta(days=4)
    db.session.commit()
    before = submitted.decision_deadline
    client.post("/uitloggen")
    login_as(applicant)
    detail = client.get(f"/aanvragen/{submitted.id}").get_data(as_text=True)
    assert "De gemeente vraagt om aanvulling" in detail
    assert "De termijn staat stil tot uw aanvulling binnen is." in detail
    # An empty answer, or a file that is not what it says, keeps what was typed.
    response = client.post(f"/aanvragen/{submitted.id}/aanvulling", data={"answer": ""})
    assert response.status_code == 422
    response = client.post(
        f"/aanvragen/{submitted.id}/aanvulling",
        data={
            "answer": "Hierbij de offerte.",
            "kind": "quote",
            "files": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "offerte.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hierbij de offerte." in html and "Kies de bestanden opnieuw" in html
    response = client.post(
        f"/aanvragen/{submitted.id}/aanvulling",
        data={
            "answer": "Hierbij de offerte.",
            "kind": "quote",
            "files": (io.BytesIO(TINY_PDF), "offerte tent.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    application = db.session.get(Application, submitted.id)
    assert application.state == State.SUBMITTED
    assert application.suspended_days == 10
    assert application.decision_deadline == decision_deadline(
        received(application), weeks=8, suspended_days=10
    )
    assert application.decision_deadline > before
    [answered] = application.info_requests
    assert answered.outcome == "answered" and answered.answer == "Hierbij de offerte."
    [file] = db.session.scalars(
        select(Attachment).where(Attachment.info_request_id == answered.id)
    ).all()
    assert file.display_name == "offerte tent.pdf"
    # The officer who asked is told, and sees the answer and the file.
    assert any("Aanvulling ontvangen" in m["Subject"] for m in mailbox.to(officer.email))
    client.post("/uitloggen")
    login_as(officer)
    page = client.get(f"/behandeling/{submitted.id}").get_data(as_text=True)
    assert "Hierbij de offerte." in page and "offerte tent.pdf" in page
    assert "10 dagen stilgestaan voor aanvulling" in page
    assert [step[0] for step in trail(application)][-2:] == [
        "application.info_requested",
        "application.info_supplied",
    ]


def test_not_considered_only_after_the_period_passed_unused(
    client, login_as, officer, applicant, submitted, mailbox
) -> None:
    intake.request_info(submitted, officer, "Stuur de offerte mee.", local_today() + timedelta(1))
    db.session.commit()
    login_as(officer)
    page = client.get(f"/behandeling/{submitted.id}").get_data(as_text=True)
    assert "Dit kan pas als de termijn voor de aanvulling voorbij is" in page
    response = client.post(
        f"/behandeling/{submitted.id}/buiten-behandeling", data={"reasons": "Geen offerte."}
    )
    assert response.status_code == 303
    db.session.refresh(submitted)
    assert submitted.state == State.INFO_REQUESTED  # the period still runs: refused
    info = submitted.open_info_request
    info.requested_on = local_today() - timedelta(days=15)
    info.due_date = local_today() - timedelta(days=1)
    db.session.commit()
    confirm = client.get(f"/behandeling/{submitted.id}/buiten-behandeling")
    assert "Aanvraag buiten behandeling stellen?" in confirm.get_data(as_text=True)
    response = client.post(f"/behandeling/{submitted.id}/buiten-behandeling", data={"reasons": ""})
    assert response.status_code == 422
    response = client.post(
        f"/behandeling/{submitted.id}/buiten-behandeling",
        data={"reasons": "Zonder offerte kunnen wij de kosten niet beoordelen."},
    )
    assert response.status_code == 303
    db.session.refresh(submitted)
    assert submitted.state == State.NOT_CONSIDERED and submitted.suspended_days == 14
    assert submitted.info_requests[0].outcome == "not_considered"
    [letter] = [m for m in mailbox.to(applicant.email) if "niet behandeld" in m["Subject"]]
    text = re.sub(r"\s+", " ", mailbox.text(letter))
    assert "Zonder offerte kunnen wij de kosten niet beoordelen." in text
    assert "artikel 4:5 van de Algemene wet bestuursrecht" in text
    assert "binnen 6 weken bezwaar maken" in text
    assert trail(submitted)[-1] == (
        "application.not_considered",
        "info_requested",
        "not_considered",
    )


def test_the_decision_period_is_extended_once_with_a_reason(
    client, login_as, officer, applicant, submitted, mailbox
) -> None:
    login_as(officer)
    first = submitted.decision_deadline
    response = client.post(
        f"/behandeling/{submitted.id}/verlengen", data={"weeks": "9", "reason": "Drukte"}
    )
    assert response.status_code == 422
    assert "met hoogstens 8 weken" in response.get_data(as_text=True)
    response = client.post(
        f"/behandeling/{submitted.id}/verlengen",
        data={"weeks": "4", "reason": "Wij wachten op een advies van de brandweer."},
    )
    assert response.status_code == 303
    db.session.refresh(submitted)
    assert submitted.extension_weeks == 4
    assert submitted.decision_deadline == decision_deadline(
        received(submitted), weeks=8, extension_weeks=4
    )
    assert submitted.decision_deadline > first
    [mail] = [m for m in mailbox.to(applicant.email) if "komt later" in m["Subject"]]
    text = re.sub(r"\s+", " ", mailbox.text(mail))
    assert "Wij wachten op een advies van de brandweer." in text and "4 weken" in text
    # Only once.
    response = client.post(
        f"/behandeling/{submitted.id}/verlengen", data={"weeks": "2", "reason": "Nog eens"}
    )
    assert "Dat kan maar één keer" in response.get_data(as_text=True)
    db.session.refresh(submitted)
    assert submitted.extension_weeks == 4
    # And not after the period ended.
    other = submitted
    other.extension_weeks = 0
    other.decision_deadline = local_today() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(intake.IntakeRefused, match="period_ended"):
        intake.extend_deadline(other, officer, 2, "Te laat")


def test_withdrawing_closes_the_open_request(applicant, officer, submitted) -> None:
    intake.request_info(submitted, officer, "Stuur de offerte mee.", local_today() + timedelta(5))
    services.withdraw(submitted, applicant, None)
    db.session.commit()
    assert submitted.state == State.WITHDRAWN
    assert submitted.info_requests[0].outcome == "withdrawn"


def test_the_case_page_uses_a_constant_number_of_queries(
    client, login_as, officer, submitted, count_queries, factory
) -> None:
    login_as(officer)

    def measure() -> int:
        with count_queries() as counter:
            assert client.get(f"/behandeling/{submitted.id}").status_code == 200
        return counter.count

    def ask_and_answer(times: int) -> None:
        for n in range(times):
            intake.request_info(submitted, officer, f"Vraag {n}", local_today() + timedelta(5))
            db.session.flush()
            intake.supply_info(submitted, submitted.applicant, f"Antwoord {n}", [])
            db.session.commit()

    ask_and_answer(1)
    one = measure()
    ask_and_answer(6)
    assert measure() == one
