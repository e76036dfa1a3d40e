"""The decision path as people use it: the case page's forms, the applicant's view, the letter
(page and PDF by the worker), and an objection in and out of time."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select

from portal.applications.models import Application, Decision, State
from portal.extensions import db
from portal.reviews import advice, decisions
from portal.reviews.jobs import make_decision_letter
from portal.timeutil import local_today
from tests.test_decisions import ask_advice, in_review


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "applicant": factory.user(postcode="7533AB", name="Anna Aanvrager"),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram Beslist"),
        "second": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Cees Controle"),
        "chair": factory.user(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        "neighbours": [factory.user(postcode="7533AC") for _ in range(5)],
    }


def switch(client: Any, login_as: Any, user: Any) -> None:
    client.post("/uitloggen")
    login_as(user)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_grant_above_the_limit_through_the_case_page_with_a_second_officer(
    client, login_as, people, mailbox
) -> None:
    application = in_review(people, cents=300_000)
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "conditional", "Mooi", "Ruim op.", None)
    db.session.commit()
    switch(client, login_as, people["officer"])
    page = client.get(f"/behandeling/{application.id}").get_data(as_text=True)
    assert "Positief onder voorwaarden" in page and "Ruim op." in page
    # The conditions of the advice are there to take over.
    assert re.search(r'<textarea[^>]*name="conditions"[^>]*>\s*Ruim op\.</textarea>', page)
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={"outcome": "grant", "amount": "3.000,00", "conditions": "Ruim op.", "reasons": ""},
    )
    assert response.status_code == 422
    assert "Schrijf de redenen op." in response.get_data(as_text=True)
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={
            "outcome": "grant",
            "amount": "3.000,00",
            "conditions": "Ruim op.",
            "reasons": "Het plan past bij de kaders.",
        },
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.state == State.AWAITING_APPROVAL
    page = client.get(f"/behandeling/{application.id}").get_data(as_text=True)
    assert "U kunt uw eigen voorstel niet goedkeuren" in page
    response = client.post(f"/behandeling/{application.id}/goedkeuren")
    assert response.status_code == 422
    assert "U kunt uw eigen voorstel niet goedkeuren" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.state == State.AWAITING_APPROVAL
    switch(client, login_as, people["second"])
    assert client.post(f"/behandeling/{application.id}/goedkeuren").status_code == 303
    db.session.refresh(application)
    assert application.state == State.GRANTED and application.granted_cents == 300_000
    decision = application.decision
    assert decision.approved_by_id == people["second"].id
    # The applicant is told, and finds the letter.
    [mail] = [m for m in mailbox.to(people["applicant"].email) if "Besluit" in m["Subject"]]
    assert "3.000,00" in mailbox.text(mail)
    switch(client, login_as, people["applicant"])
    letter = text_of(client.get(f"/aanvragen/{application.id}/besluit").get_data(as_text=True))
    assert "Wij geven u € 3.000,00 uit het wijkbudget." in letter
    assert "Ruim op." in letter and "80%" in letter and "€ 2.400,00" in letter
    due = format_date(decision.objection_due, "d MMMM y", locale="nl")
    assert "Dan kunt u bezwaar maken." in letter and f"dus uiterlijk {due}" in letter
    assert "Positief onder voorwaarden".lower() in letter.lower()


def test_the_worker_makes_the_letter_pdf(client, login_as, people, app) -> None:
    application = in_review(people, cents=39_000)
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(
            grant=True, amount_cents=39_000, conditions="Zet een foto op de website.", reasons="Ok"
        ),
    )
    db.session.commit()
    assert make_decision_letter(decision.id)
    db.session.refresh(decision)
    switch(client, login_as, people["applicant"])
    response = client.get(f"/aanvragen/{application.id}/besluit/{decision.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "€ 390,00" in text and "Zet een foto op de website." in text
    assert "bezwaar" in text and decision.objection_due.strftime("%Y") in text


def test_refusal_with_intent_view_and_an_objection(client, login_as, people, mailbox) -> None:
    application = in_review(people, cents=39_000)
    db.session.commit()
    switch(client, login_as, people["officer"])
    # Refusing straight away is not possible: first the intent.
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={"outcome": "refuse", "grounds": "rules", "reasons": "Past niet."},
    )
    assert response.status_code == 422
    assert "stuurt u eerst een voornemen" in response.get_data(as_text=True)
    response = client.post(
        f"/behandeling/{application.id}/voornemen",
        data={
            "voornemen-kind": "refuse",
            "voornemen-grounds": ["awb_4_35_1a"],
            "voornemen-reasons": "De zaal is niet vrij.",
        },
    )
    assert response.status_code == 303
    switch(client, login_as, people["applicant"])
    detail = client.get(f"/aanvragen/{application.id}").get_data(as_text=True)
    assert "De gemeente is van plan uw aanvraag af te wijzen" in detail
    page = client.get(f"/aanvragen/{application.id}/reactie").get_data(as_text=True)
    assert "De zaal is niet vrij." in page and "Awb 4:35 lid 1a" in page
    assert client.post(f"/aanvragen/{application.id}/reactie", data={"view": ""}).status_code == 422
    response = client.post(
        f"/aanvragen/{application.id}/reactie", data={"view": "De zaal is wel vrij, zie mail."}
    )
    assert response.status_code == 303
    switch(client, login_as, people["officer"])
    page = client.get(f"/behandeling/{application.id}").get_data(as_text=True)
    assert "De zaal is wel vrij, zie mail." in page
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={"outcome": "refuse", "grounds": "awb_4_35_1a", "reasons": "De zaal is niet vrij."},
    )
    assert "Schrijf in het besluit wat u met die reactie doet" in response.get_data(as_text=True)
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={
            "outcome": "refuse",
            "grounds": "awb_4_35_1a",
            "reasons": "De zaal is niet vrij.",
            "view_answer": "Wij belden de zaal: die is verhuurd.",
        },
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.state == State.REFUSED
    switch(client, login_as, people["applicant"])
    letter = text_of(client.get(f"/aanvragen/{application.id}/besluit").get_data(as_text=True))
    assert "Wij wijzen uw aanvraag af." in letter
    assert "De zaal is wel vrij, zie mail." in letter
    assert "Wij belden de zaal: die is verhuurd." in letter
    # An objection in time.
    response = client.post(f"/aanvragen/{application.id}/bezwaar", data={"reasons": ""})
    assert response.status_code == 422
    response = client.post(
        f"/aanvragen/{application.id}/bezwaar",
        data={"reasons": "De zaal is echt vrij.", "kind": "other"},
    )
    assert response.status_code == 303
    assert any("Bezwaar ontvangen" in m["Subject"] for m in mailbox.to(people["applicant"].email))
    switch(client, login_as, people["officer"])
    client.post(
        f"/behandeling/{application.id}/hoorzitting",
        data={"held_on": local_today().isoformat(), "notes": "Mevrouw toonde de bevestiging."},
    )
    response = client.post(
        f"/behandeling/{application.id}/bezwaar-besluit",
        data={"bezwaar-outcome": "well_founded", "bezwaar-reasons": "De zaal bleek vrij."},
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.state == State.IN_REVIEW
    response = client.post(
        f"/behandeling/{application.id}/besluit",
        data={"outcome": "grant", "amount": "390", "reasons": "Na bezwaar: toegekend."},
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.state == State.GRANTED
    finals = db.session.scalars(
        select(Decision).where(Decision.application_id == application.id).order_by(Decision.id)
    ).all()
    assert [d.outcome for d in finals] == ["refused", "granted"]
    assert finals[1].supersedes_id == finals[0].id


def test_an_objection_after_six_weeks_is_refused_with_an_explanation(
    client, login_as, people
) -> None:
    application = in_review(people, cents=39_000)
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=39_000, reasons="Ok"),
    )
    decision.objection_due = local_today() - timedelta(days=1)
    db.session.commit()
    switch(client, login_as, people["applicant"])
    page = client.get(f"/aanvragen/{application.id}/bezwaar").get_data(as_text=True)
    assert "De termijn voor bezwaar is voorbij." in page and "<textarea" not in page
    response = client.post(f"/aanvragen/{application.id}/bezwaar", data={"reasons": "Te laat"})
    assert "De termijn voor bezwaar is voorbij." in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.objections == []


def test_the_applicant_page_uses_a_constant_number_of_queries(
    client, login_as, people, count_queries
) -> None:
    application = in_review(people, cents=39_000)
    decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=39_000, reasons="Ok"),
    )
    db.session.commit()
    switch(client, login_as, people["applicant"])
    with count_queries() as counter:
        assert client.get(f"/aanvragen/{application.id}").status_code == 200
    with count_queries() as again:
        assert client.get(f"/aanvragen/{application.id}/besluit").status_code == 200
    assert counter.count <= 25 and again.count <= 25
    assert isinstance(application, Application)
