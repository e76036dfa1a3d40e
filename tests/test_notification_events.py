"""A test per event: who is told, in which language, with which subject, and a link that every
recipient can open.

Every notification is a row made by ``notify``. Each test drives the step that causes it (its page
with the test client where practical, else the service that page or the reminder command calls)
and checks exactly the rows that step produced:

1. the recipients, and nobody else;
2. the language of each recipient (the one who acts speaks the other language, so a message in
   the actor's language shows up);
3. the whole subject;
4. the link: absolute, on ``PORTAL_BASE_URL``, to the page that needs them, in the text and the
   HTML part, beside a link to the notification preferences; and each recipient, logged in (or
   anonymous, without an account), opens it with an answer 200.

The application lives in Helmerhoek (borough Zuid, council Wijkplatform Helmerhoek): the demo data
has no case officers or council members there, so every recipient is made by the test.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from babel.dates import format_date
from flask import current_app
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from portal import uploads
from portal.accounts import services as accounts
from portal.applications import services
from portal.applications.models import Application, Endorsement, State
from portal.districts.models import Council
from portal.extensions import db
from portal.money import payments, settlement
from portal.money.models import Payment
from portal.notifications.models import Notification
from portal.notifications.services import absolute_url
from portal.reviews import advice, decisions, objections
from portal.reviews import services as intake
from portal.reviews.reminders import send_review_reminders
from portal.timeutil import local_today
from portal.web import format_money
from tests.conftest import PASSWORD, TINY_PDF, login
from tests.test_applications import make_complete_draft

COUNCIL = "Wijkplatform Helmerhoek"
BOROUGH = "Zuid"
LOCALES = pytest.mark.parametrize("locale", ["nl", "en"])

# The subject of every kind, in Dutch and in English; ``{date}`` is written in the language.
SUBJECTS: dict[str, tuple[str, str]] = {
    "application_submitted": (
        "Ontvangen: uw aanvraag {reference}",
        "Received: your application {reference}",
    ),
    "application_withdrawn": (
        "Ingetrokken: uw aanvraag {reference}",
        "Withdrawn: your application {reference}",
    ),
    "application_info_requested": (
        "Wij hebben meer informatie nodig: aanvraag {reference}",
        "We need more information: application {reference}",
    ),
    "info_request_reminder": (
        "Herinnering: stuur uiterlijk {date} uw aanvulling voor {reference}",
        "Reminder: send the extra information for {reference} by {date}",
    ),
    "application_info_supplied": (
        "Aanvulling ontvangen: {reference}",
        "Additional information received: {reference}",
    ),
    "application_not_considered": (
        "Besluit: uw aanvraag {reference} wordt niet behandeld",
        "Decision: your application {reference} will not be considered",
    ),
    "application_deadline_extended": (
        "Het besluit over {reference} komt later",
        "The decision on {reference} will come later",
    ),
    "advice_requested": (
        "Adviesvraag: {title} ({reference})",
        "Request for advice: {title} ({reference})",
    ),
    "advice_reminder": (
        "Herinnering: advies over {reference} uiterlijk {date}",
        "Reminder: advice on {reference} by {date}",
    ),
    "advice_given": ("Advies ontvangen: {reference}", "Advice received: {reference}"),
    "intent_sent": (
        "Wat wij van plan zijn met uw aanvraag {reference}",
        "What we intend to do with your application {reference}",
    ),
    "view_given": (
        "Reactie op voornemen: {reference}",
        "Response to intended decision: {reference}",
    ),
    "decision_sent": (
        "Besluit over uw aanvraag {reference}",
        "Decision on your application {reference}",
    ),
    "grant_returned": ("Voorstel teruggestuurd: {reference}", "Proposal returned: {reference}"),
    "objection_received": ("Bezwaar ontvangen: {reference}", "Objection received: {reference}"),
    "objection_decided": (
        "Besluit op uw bezwaar: {reference}",
        "Decision on your objection: {reference}",
    ),
    "payment_sent": ("Betaald: {amount} voor {reference}", "Paid: {amount} for {reference}"),
    "accounting_reminder": (
        "Herinnering: uw verantwoording voor {reference}",
        "Reminder: your report for {reference}",
    ),
    "accounting_overdue": (
        "Uw verantwoording voor {reference} is te laat",
        "Your report for {reference} is overdue",
    ),
    "report_submitted": (
        "Verantwoording ontvangen: {reference}",
        "Report received: {reference}",
    ),
    "settlement_intended": (
        "Wij willen een lager bedrag vaststellen: {reference}",
        "We want to settle at a lower amount: {reference}",
    ),
    "settled": (
        "Besluit: het bedrag voor {reference} is vastgesteld",
        "Decision: the amount for {reference} has been settled",
    ),
    "decision_due_soon": (
        "Besluit over {reference} uiterlijk {date}",
        "Decision on {reference} due by {date}",
    ),
    "decision_overdue": (
        "Te laat: besluit over {reference}",
        "Overdue: decision on {reference}",
    ),
    "endorsement_invite": (
        "{inviter} vraagt uw steun voor een plan in uw wijk",
        "{inviter} asks for your support for a plan in your district",
    ),
    "endorsement_confirm": (
        "Bevestig uw steun voor: {title}",
        "Confirm your support for: {title}",
    ),
    "account_verify_email": (
        "Bevestig uw e-mailadres voor Wijkkracht",
        "Confirm your email address for Wijkkracht",
    ),
    "account_reset_password": (
        "Kies een nieuw wachtwoord voor Wijkkracht",
        "Choose a new password for Wijkkracht",
    ),
    "account_password_changed": (
        "Uw wachtwoord voor Wijkkracht is gewijzigd",
        "Your Wijkkracht password has been changed",
    ),
    "account_confirm_new_email": (
        "Bevestig uw nieuwe e-mailadres voor Wijkkracht",
        "Confirm your new email address for Wijkkracht",
    ),
}


# Written in the recipient's language: how the message begins, and the footer of both parts.
GREETINGS = {"nl": ("Beste ", "Hallo,"), "en": ("Dear ", "Hello,")}
FOOTERS = {
    "nl": "U krijgt dit bericht van Wijkkracht",
    "en": "You are receiving this message from Wijkkracht",
}


def other(locale: str) -> str:
    return "nl" if locale == "en" else "en"


def subject(kind: str, locale: str, **values: Any) -> str:
    dutch, english = SUBJECTS[kind]
    written = {
        key: format_date(value, "d MMMM y", locale=locale) if isinstance(value, date) else value
        for key, value in values.items()
    }
    return (english if locale == "en" else dutch).format(**written)


def preferences_link() -> str:
    """Where an e-mail's footer should send the recipient to choose what they receive: the
    notification preferences page once it exists, until then the account page."""
    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    if "notifications.preferences" in endpoints:
        return absolute_url("notifications.preferences")
    return absolute_url("accounts.account")


# --- the people ---------------------------------------------------------------------------


@pytest.fixture
def cast(factory) -> SimpleNamespace:
    """An applicant in Helmerhoek with five neighbours; two case officers of the borough (the
    second reads English), one of another borough; the council's chair, secretary (English)
    and a member, and the chair of another council; finance."""

    def person(locale: str = "nl", **values: Any) -> Any:
        user = factory.user(**values)
        user.locale = locale
        return user

    people = SimpleNamespace(
        applicant=person(postcode="7542AB", name="Anna Aanvrager"),
        officer=person(roles=("case_officer",), boroughs=(BOROUGH,), name="Bram Behandelaar"),
        second=person("en", roles=("case_officer",), boroughs=(BOROUGH,), name="Cees Collega"),
        elsewhere=person(roles=("case_officer",), boroughs=("Oost",), name="Olga Oost"),
        chair=person(postcode="7542AD", council=(COUNCIL, "chair"), name="Carla Voorzitter"),
        secretary=person(
            "en", postcode="7542AE", council=(COUNCIL, "secretary"), name="Sam Secretaris"
        ),
        member=person(postcode="7542AF", council=(COUNCIL, "member"), name="Dirk Lid"),
        other_chair=person(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        finance=person(roles=("finance",), name="Fien Financiën"),
        neighbours=[factory.user(postcode="7542AC") for _ in range(5)],
    )
    db.session.flush()
    return people


def speaks(user: Any, locale: str) -> None:
    user.locale = locale
    db.session.flush()


# --- bringing an application to the step before the event, through the services ------------


def council() -> Council:
    return db.session.scalar(select(Council).where(Council.name == COUNCIL))


def new_draft(cast: Any, cents: int = 150_000) -> Application:
    """Above the small-grant limit (1,000 euro) unless told otherwise: the council advises."""
    application = make_complete_draft(cast.applicant, cast.neighbours)
    services.set_lines(
        application,
        [
            {
                "description": "Podium",
                "category": "huur_spullen",
                "quantity": 1,
                "unit_price_cents": cents,
            }
        ],
    )
    db.session.flush()
    return application


def submitted(cast: Any, cents: int = 150_000) -> Application:
    application = new_draft(cast, cents)
    services.submit(application, cast.applicant)
    db.session.flush()
    return application


def in_review(cast: Any, cents: int = 150_000) -> Application:
    application = submitted(cast, cents)
    intake.accept(application, cast.officer)
    db.session.flush()
    return application


def awaiting_advice(cast: Any, cents: int = 150_000) -> Application:
    application = in_review(cast, cents)
    advice.request_advice(
        application, cast.officer, council(), local_today() + timedelta(days=21), None
    )
    db.session.flush()
    return application


def advised(cast: Any, cents: int = 150_000) -> Application:
    application = awaiting_advice(cast, cents)
    advice.give_advice(application, cast.chair, "positive", "Een goed plan.", None, None)
    db.session.flush()
    return application


def granted(cast: Any, cents: int = 150_000) -> Application:
    application = advised(cast, cents)
    decisions.decide(
        application,
        cast.officer,
        decisions.Proposal(grant=True, amount_cents=cents, reasons="Past in de regels."),
    )
    assert application.state == State.GRANTED
    return application


def accounted(cast: Any, cents: int = 150_000) -> Application:
    application = granted(cast, cents)
    root = current_app.config["PORTAL_UPLOAD_DIR"]
    settlement.submit_report(
        application,
        cast.applicant,
        settlement.ReportInput(
            what_happened="Een mooie middag met 80 buren.",
            participants=80,
            went_well=None,
            do_differently=None,
            would_recommend=True,
            lines=[("Podium", cents, cents)],
            files=[
                intake.AnswerFile(
                    uploads.store(io.BytesIO(TINY_PDF), "bon.pdf", root=root), "receipt"
                )
            ],
        ),
    )
    db.session.flush()
    return application


# --- what a step produced, and the checks ----------------------------------------------------


def newest() -> int:
    return db.session.scalar(select(func.max(Notification.id))) or 0


def since(start: int) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification).where(Notification.id > start).order_by(Notification.id)
        )
    )


@dataclass
class To:
    """One expected recipient: an address in a language, of an account or of nobody."""

    email: str
    locale: str
    user: Any = None


def to(user: Any, email: str | None = None) -> To:
    return To(email or user.email, user.locale, user)


def switch(client: FlaskClient, user: Any) -> None:
    """Log out whoever is logged in, and log in as ``user`` (None: stay anonymous)."""
    client.post("/uitloggen")
    if user is not None:
        response = login(client, user.email, PASSWORD)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def post(client: FlaskClient, user: Any, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """``user`` takes a step through its page; the page answers with a redirect."""
    switch(client, user)
    response = client.post(path, data=data, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


def assert_told(
    client: FlaskClient,
    rows: list[Notification],
    kind: str,
    recipients: list[To],
    path: str,
    *,
    follow: bool = False,
    logged_in: bool = True,
    shows: str | None = None,
    **values: Any,
) -> None:
    """The step produced ``kind`` for exactly ``recipients``, each in their language, with the
    subject, and a link to ``path`` that each of them can open: logged in when they have an
    account (unless ``logged_in`` is False: links for someone who cannot log in yet). ``shows``:
    what the page must offer them (the link to the action the message asks for)."""
    assert sorted((row.kind, row.recipient) for row in rows) == sorted(
        (kind, recipient.email) for recipient in recipients
    )
    by_address = {row.recipient: row for row in rows}
    link = current_app.config["PORTAL_BASE_URL"] + path
    preferences = preferences_link()
    for recipient in recipients:
        row = by_address[recipient.email]
        where = (kind, recipient.email, recipient.locale)
        assert row.user_id == (recipient.user.id if recipient.user is not None else None), where
        assert row.locale == recipient.locale, where
        assert row.subject == subject(kind, recipient.locale, **values), where
        assert row.link == link, where
        assert link in row.body_text, where
        assert f'href="{escape(link)}"' in row.body_html, where
        assert preferences in row.body_text, where
        assert f'href="{escape(preferences)}"' in row.body_html, where
        assert f'lang="{recipient.locale}"' in row.body_html, where
        assert row.body_text.startswith(GREETINGS[recipient.locale]), where
        for body in (row.body_text, row.body_html):
            assert FOOTERS[recipient.locale] in body, where
            assert FOOTERS[other(recipient.locale)] not in body, where
    for recipient in recipients:
        switch(client, recipient.user if logged_in else None)
        response = client.get(path, follow_redirects=follow)
        assert response.status_code == 200, (kind, recipient.email, path, response.location)
        if shows is not None:
            assert shows in response.get_data(as_text=True), (kind, recipient.email, shows)
        if recipient.user is not None and logged_in:
            prefs = client.get(preferences.removeprefix(current_app.config["PORTAL_BASE_URL"]))
            assert prefs.status_code == 200, (kind, recipient.email, preferences)


def reloaded(application: Application) -> Application:
    db.session.expire_all()
    found = db.session.get(Application, application.id)
    assert found is not None
    return found


# --- the application: submitted, withdrawn ---------------------------------------------------


@LOCALES
def test_application_submitted(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    application = new_draft(cast)
    db.session.commit()
    start = newest()
    post(client, cast.applicant, f"/aanvragen/{application.id}/indienen", {"declaration": "y"})
    application = reloaded(application)
    assert application.state == State.SUBMITTED
    assert_told(
        client,
        since(start),
        "application_submitted",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


@LOCALES
def test_application_withdrawn(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    application = submitted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/intrekken",
        {"reason": "Het feest gaat niet door."},
    )
    assert reloaded(application).state == State.WITHDRAWN
    assert_told(
        client,
        since(start),
        "application_withdrawn",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


# --- intake ------------------------------------------------------------------------------


@LOCALES
def test_application_info_requested(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = submitted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/aanvulling",
        {
            "questions": "Stuur de offerte van het podium mee.",
            "due_date": (local_today() + timedelta(days=14)).isoformat(),
        },
    )
    assert reloaded(application).state == State.INFO_REQUESTED
    assert_told(
        client,
        since(start),
        "application_info_requested",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        shows=f"/aanvragen/{application.id}/aanvulling",
        reference=application.reference,
    )


@LOCALES
def test_info_request_reminder(client, cast, locale) -> None:
    """Three days before the period for the answer ends."""
    reminders = pytest.importorskip("portal.applications.reminders")
    speaks(cast.applicant, locale)
    application = submitted(cast)
    info = intake.request_info(
        application, cast.officer, "Stuur de offerte mee.", local_today() + timedelta(days=14)
    )
    db.session.commit()
    start = newest()
    assert reminders.send_info_request_reminders(info.due_date - timedelta(days=3)) == 1
    db.session.commit()
    assert_told(
        client,
        since(start),
        "info_request_reminder",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        shows=f"/aanvragen/{application.id}/aanvulling",
        reference=application.reference,
        date=info.due_date,
    )


@LOCALES
def test_application_info_supplied(client, cast, locale) -> None:
    """To the case officer who asked, not to the other officers of the borough."""
    speaks(cast.second, locale)
    speaks(cast.applicant, other(locale))
    application = submitted(cast)
    intake.request_info(
        application, cast.second, "Stuur de offerte mee.", local_today() + timedelta(days=14)
    )
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/aanvulling",
        {"answer": "Hierbij de offerte.", "kind": "quote"},
    )
    assert reloaded(application).state == State.SUBMITTED
    assert_told(
        client,
        since(start),
        "application_info_supplied",
        [to(cast.second)],
        f"/behandeling/{application.id}",
        reference=application.reference,
    )


@LOCALES
def test_application_not_considered(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = submitted(cast)
    info = intake.request_info(
        application, cast.officer, "Stuur de offerte mee.", local_today() + timedelta(days=1)
    )
    info.requested_on = local_today() - timedelta(days=15)
    info.due_date = local_today() - timedelta(days=1)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/buiten-behandeling",
        {"reasons": "Zonder offerte kunnen wij de kosten niet beoordelen."},
    )
    assert reloaded(application).state == State.NOT_CONSIDERED
    assert_told(
        client,
        since(start),
        "application_not_considered",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        shows=f"/aanvragen/{application.id}/bezwaar",
        reference=application.reference,
    )


@LOCALES
def test_application_deadline_extended(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = in_review(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/verlengen",
        {"weeks": "4", "reason": "Wij wachten op een advies van de brandweer."},
    )
    assert reloaded(application).extension_weeks == 4
    assert_told(
        client,
        since(start),
        "application_deadline_extended",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


# --- the council's advice ------------------------------------------------------------------


def test_advice_requested(client, cast) -> None:
    """Every member of the council asked (the secretary in English), nobody of another council,
    not the applicant."""
    application = in_review(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/advies-vragen",
        {
            "advies-council": str(council().id),
            "advies-due_date": (local_today() + timedelta(days=21)).isoformat(),
            "advies-note": "Let op de kosten van het podium.",
        },
    )
    application = reloaded(application)
    assert application.state == State.AWAITING_ADVICE
    assert_told(
        client,
        since(start),
        "advice_requested",
        [to(cast.chair), to(cast.secretary), to(cast.member)],
        f"/wijkorgaan/verzoeken/{application.advice_request.id}",
        reference=application.reference,
        title=application.title,
    )


def test_advice_reminder(client, cast) -> None:
    """Three days before the advice is due: the members without a conflict of interest."""
    application = awaiting_advice(cast)
    advice.declare_conflict(application, cast.member, "Mijn buurman organiseert het.")
    request = application.advice_request
    db.session.commit()
    start = newest()
    send_review_reminders(request.due_date - timedelta(days=3))
    db.session.commit()
    path = f"/wijkorgaan/verzoeken/{request.id}"
    assert_told(
        client,
        since(start),
        "advice_reminder",
        [to(cast.chair), to(cast.secretary)],
        path,
        reference=application.reference,
        date=request.due_date,
    )
    switch(client, cast.member)  # declared a conflict: may not see it, and was not told
    assert client.get(path).status_code == 404


@LOCALES
def test_advice_given(client, cast, locale) -> None:
    """To the case officer who asked for the advice."""
    speaks(cast.officer, locale)
    speaks(cast.chair, other(locale))
    application = awaiting_advice(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.chair,
        f"/wijkorgaan/verzoeken/{application.advice_request.id}/advies",
        {"outcome": "positive", "reasons": "Het plan brengt de buurt samen."},
    )
    assert reloaded(application).state == State.ADVISED
    assert_told(
        client,
        since(start),
        "advice_given",
        [to(cast.officer)],
        f"/behandeling/{application.id}",
        reference=application.reference,
    )


# --- refusal intent and view -------------------------------------------------------------


@LOCALES
def test_intent_sent(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = advised(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/voornemen",
        {
            "voornemen-kind": "refuse",
            "voornemen-grounds": "rules",
            "voornemen-reasons": "Een podium past niet in de regels.",
        },
    )
    assert reloaded(application).state == State.INTENT_SENT
    rows = since(start)
    assert_told(
        client,
        rows,
        "intent_sent",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}/reactie",
        reference=application.reference,
    )
    # The ground is written in the applicant's language too.
    ground = {
        "nl": "De aanvraag voldoet niet aan de regels van de verordening wijkbudgetten.",
        "en": "The application does not meet the rules",
    }[locale]
    assert ground in " ".join(rows[0].body_text.split())


@LOCALES
def test_view_given(client, cast, locale) -> None:
    """To the case officer who sent the intent."""
    speaks(cast.second, locale)
    speaks(cast.applicant, other(locale))
    application = advised(cast)
    decisions.send_intent(
        application,
        cast.second,
        refuse=True,
        proposed_cents=None,
        grounds=["rules"],
        reasons="Een podium past niet in de regels.",
    )
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/reactie",
        {"view": "Het podium is voor de hele buurt."},
    )
    assert reloaded(application).open_intent.view is not None
    assert_told(
        client,
        since(start),
        "view_given",
        [to(cast.second)],
        f"/behandeling/{application.id}",
        reference=application.reference,
    )


# --- the decision ------------------------------------------------------------------------


@LOCALES
def test_decision_sent(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = advised(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/besluit",
        {"outcome": "grant", "amount": "1500", "reasons": "Past in de regels."},
    )
    assert reloaded(application).state == State.GRANTED
    assert_told(
        client,
        since(start),
        "decision_sent",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}/besluit",
        reference=application.reference,
    )


def test_decision_sent_after_the_second_officer_approves(client, cast) -> None:
    """Above the four-eyes limit the decision goes out when the second officer approves."""
    speaks(cast.applicant, "en")
    application = advised(cast, 300_000)
    decisions.decide(
        application,
        cast.officer,
        decisions.Proposal(grant=True, amount_cents=300_000, reasons="Past in de regels."),
    )
    assert application.state == State.AWAITING_APPROVAL
    db.session.commit()
    start = newest()
    post(client, cast.second, f"/behandeling/{application.id}/goedkeuren", {})
    assert reloaded(application).state == State.GRANTED
    assert_told(
        client,
        since(start),
        "decision_sent",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}/besluit",
        reference=application.reference,
    )


@LOCALES
def test_grant_returned(client, cast, locale) -> None:
    """To the case officer who proposed the grant, from the second one who sent it back."""
    speaks(cast.officer, locale)
    speaks(cast.second, other(locale))
    application = advised(cast, 300_000)
    decisions.decide(
        application,
        cast.officer,
        decisions.Proposal(grant=True, amount_cents=300_000, reasons="Past in de regels."),
    )
    db.session.commit()
    start = newest()
    post(
        client,
        cast.second,
        f"/behandeling/{application.id}/terugsturen",
        {"terug-reason": "Het bedrag voor het podium is te hoog."},
    )
    assert reloaded(application).state == State.IN_REVIEW
    assert_told(
        client,
        since(start),
        "grant_returned",
        [to(cast.officer)],
        f"/behandeling/{application.id}",
        reference=application.reference,
    )


# --- objection ---------------------------------------------------------------------------


@LOCALES
def test_objection_received(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    application = granted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/bezwaar",
        {"reasons": "De voorwaarden zijn te streng.", "kind": "other"},
    )
    assert reloaded(application).open_objection is not None
    assert_told(
        client,
        since(start),
        "objection_received",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


@LOCALES
def test_objection_decided(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = granted(cast)
    objections.lodge(application, cast.applicant, "De voorwaarden zijn te streng.", [])
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/bezwaar-besluit",
        {"bezwaar-outcome": "unfounded", "bezwaar-reasons": "De voorwaarden zijn gewoon."},
    )
    assert reloaded(application).objections[0].outcome == "unfounded"
    assert_told(
        client,
        since(start),
        "objection_decided",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


# --- money -------------------------------------------------------------------------------


@LOCALES
def test_payment_sent(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.finance, other(locale))
    application = granted(cast)
    [payment] = db.session.scalars(select(Payment).where(Payment.application_id == application.id))
    batch = payments.create_batch(cast.officer, [payment.id])
    payments.approve(batch, cast.finance)
    db.session.commit()
    start = newest()
    post(client, cast.finance, f"/betalingen/batches/{batch.id}/betaald", {})
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "paid"
    assert_told(
        client,
        since(start),
        "payment_sent",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
        amount=format_money(120_000),  # the advance: 80% of 1,500 euro
    )


@LOCALES
@pytest.mark.parametrize(
    ("kind", "days"), [("accounting_reminder", -14), ("accounting_overdue", 1)]
)
def test_accounting_reminders(client, cast, locale, kind, days) -> None:
    """Two weeks before the accounting is due, and the day after."""
    speaks(cast.applicant, locale)
    application = granted(cast)
    due = settlement.accounting_due(application)
    db.session.commit()
    start = newest()
    assert settlement.send_accounting_reminders(due + timedelta(days=days)) == 1
    db.session.commit()
    assert_told(
        client,
        since(start),
        kind,
        [to(cast.applicant)],
        f"/aanvragen/{application.id}/verantwoording",
        reference=application.reference,
    )


@LOCALES
def test_report_submitted(client, cast, locale) -> None:
    """To the case officer who decided."""
    speaks(cast.officer, locale)
    speaks(cast.applicant, other(locale))
    application = granted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/verantwoording",
        {
            "what_happened": "Een mooie middag met 80 buren.",
            "participants": "80",
            "actual-0": "1500",
            "kind": "receipt",
            "would_recommend": "ja",
            "files": (io.BytesIO(TINY_PDF), "bon.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert reloaded(application).state == State.ACCOUNTED
    assert_told(
        client,
        since(start),
        "report_submitted",
        [to(cast.officer)],
        f"/behandeling/{application.id}",
        reference=application.reference,
    )


@LOCALES
def test_settlement_intended(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = accounted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/vaststellen",
        {"vaststellen-amount": "1000", "vaststellen-reasons": "Het podium was goedkoper."},
    )
    assert settlement.open_settlement(reloaded(application)) is not None
    assert_told(
        client,
        since(start),
        "settlement_intended",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}/vaststelling",
        reference=application.reference,
    )


@LOCALES
def test_settled(client, cast, locale) -> None:
    speaks(cast.applicant, locale)
    speaks(cast.officer, other(locale))
    application = accounted(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/vaststellen",
        {"vaststellen-amount": "1500", "vaststellen-reasons": ""},
    )
    assert reloaded(application).state == State.SETTLED
    assert_told(
        client,
        since(start),
        "settled",
        [to(cast.applicant)],
        f"/aanvragen/{application.id}",
        reference=application.reference,
    )


# --- the decision deadline, to the case officers of the borough ------------------------------


@pytest.mark.parametrize(("kind", "days"), [("decision_due_soon", -7), ("decision_overdue", 1)])
def test_decision_deadline_reminders(client, cast, kind, days) -> None:
    """Every case officer of the borough (one reads English), not those of another borough."""
    application = in_review(cast)
    deadline = application.decision_deadline
    db.session.commit()
    start = newest()
    send_review_reminders(deadline + timedelta(days=days))
    db.session.commit()
    assert_told(
        client,
        since(start),
        kind,
        [to(cast.officer), to(cast.second)],
        f"/behandeling/{application.id}",
        reference=application.reference,
        date=deadline,
    )


# --- draagvlak: mail to people without an account ---------------------------------------------


@LOCALES
def test_endorsement_invite(client, cast, locale) -> None:
    """Neighbours without an account get the invitation in the inviter's language (the only
    one known), with the link to the plan that anyone may open."""
    speaks(cast.applicant, locale)
    application = new_draft(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.applicant,
        f"/aanvragen/{application.id}/draagvlak/uitnodigen",
        {"emails": "buur.een@example.org\nbuur.twee@example.org"},
    )
    assert_told(
        client,
        since(start),
        "endorsement_invite",
        [To("buur.een@example.org", locale), To("buur.twee@example.org", locale)],
        f"/steun/{application.endorsement_token}",
        inviter=cast.applicant.name,
    )


@LOCALES
def test_endorsement_confirm(client, cast, locale) -> None:
    """A neighbour without an account endorses on the page in their language and confirms from
    the e-mail."""
    application = new_draft(cast)
    db.session.commit()
    switch(client, None)
    client.post("/taal", data={"locale": locale, "next": "/"})
    start = newest()
    response = client.post(
        f"/steun/{application.endorsement_token}",
        data={
            "name": "Nina Nieuw",
            "postcode": "7542 AC",
            "house_number": "77",
            "email": "nina@example.org",
        },
        headers={"Accept-Language": locale},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    endorsement = db.session.scalar(
        select(Endorsement).where(
            Endorsement.application_id == application.id, Endorsement.email == "nina@example.org"
        )
    )
    assert endorsement is not None and endorsement.confirmed_at is None
    assert_told(
        client,
        since(start),
        "endorsement_confirm",
        [To("nina@example.org", locale)],
        f"/steun/bevestigen/{endorsement.confirm_token}",
        follow=True,
        title=application.title,
    )
    db.session.expire_all()
    assert db.session.get(Endorsement, endorsement.id).confirmed_at is not None


# --- the account (covered in depth by test_accounts) -------------------------------------------


@LOCALES
def test_account_messages(client, factory, locale) -> None:
    """Links for someone who is not logged in (or cannot log in yet): opened anonymously."""
    user = factory.user(verified=False)
    speaks(user, locale)
    db.session.commit()

    def step(kind: str, action: Any, path_of: str, email: str | None = None) -> None:
        start = newest()
        action()
        db.session.commit()
        rows = since(start)
        assert len(rows) == 1, [row.kind for row in rows]
        path = rows[0].link.removeprefix(current_app.config["PORTAL_BASE_URL"])
        assert path.startswith(path_of), path
        assert_told(client, rows, kind, [to(user, email)], path, follow=True, logged_in=False)

    step("account_verify_email", lambda: accounts.send_verification(user), "/e-mail-bevestigen/")
    step(
        "account_reset_password",
        lambda: accounts.request_password_reset(user.email),
        "/wachtwoord-herstellen/",
    )
    step(
        "account_password_changed",
        lambda: accounts.set_password(user, PASSWORD, action="account.password_changed"),
        "/wachtwoord-vergeten",
    )
    step(
        "account_confirm_new_email",
        lambda: accounts.request_email_change(user, f"nieuw-{user.id}@example.org"),
        "/e-mail-bevestigen/",
        email=f"nieuw-{user.id}@example.org",
    )


# --- who may not open the object is not told; the chosen language counts --------------------


def test_deadline_reminders_skip_who_cannot_open_the_case(client, cast, factory) -> None:
    factory.user(roles=("finance",), boroughs=(BOROUGH,), name="Was Behandelaar")
    gone = factory.user(roles=("case_officer",), boroughs=(BOROUGH,), name="Uit Dienst")
    gone.active = False
    application = in_review(cast)
    deadline = application.decision_deadline
    db.session.commit()
    start = newest()
    send_review_reminders(deadline - timedelta(days=7))
    db.session.commit()
    assert_told(
        client,
        since(start),
        "decision_due_soon",
        [to(cast.officer), to(cast.second)],
        f"/behandeling/{application.id}",
        reference=application.reference,
        date=deadline,
    )


def test_advice_requested_skips_deactivated_members(client, cast) -> None:
    cast.member.active = False
    application = in_review(cast)
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/advies-vragen",
        {
            "advies-council": str(council().id),
            "advies-due_date": (local_today() + timedelta(days=21)).isoformat(),
            "advies-note": "",
        },
    )
    application = reloaded(application)
    assert_told(
        client,
        since(start),
        "advice_requested",
        [to(cast.chair), to(cast.secretary)],
        f"/wijkorgaan/verzoeken/{application.advice_request.id}",
        reference=application.reference,
        title=application.title,
    )


def test_a_member_with_a_conflict_is_not_asked_again_after_an_objection(client, cast) -> None:
    application = awaiting_advice(cast)
    advice.declare_conflict(application, cast.member, "Mijn buurman organiseert het.")
    advice.give_advice(application, cast.chair, "positive", "Een goed plan.", None, None)
    decisions.decide(
        application,
        cast.officer,
        decisions.Proposal(grant=True, amount_cents=150_000, reasons="Past in de regels."),
    )
    objections.lodge(application, cast.applicant, "Het advies was niet eerlijk.", [])
    objections.decide(application, cast.officer, "well_founded", "Opnieuw advies vragen.")
    assert application.state == State.IN_REVIEW
    db.session.commit()
    start = newest()
    post(
        client,
        cast.officer,
        f"/behandeling/{application.id}/advies-vragen",
        {
            "advies-council": str(council().id),
            "advies-due_date": (local_today() + timedelta(days=21)).isoformat(),
            "advies-note": "",
        },
    )
    application = reloaded(application)
    path = f"/wijkorgaan/verzoeken/{application.advice_request.id}"
    switch(client, cast.member)
    assert client.get(path).status_code == 404
    assert_told(
        client,
        since(start),
        "advice_requested",
        [to(cast.chair), to(cast.secretary)],
        path,
        reference=application.reference,
        title=application.title,
    )


def test_endorsement_confirm_is_in_the_language_the_visitor_chose(client, cast) -> None:
    application = new_draft(cast)
    db.session.commit()
    switch(client, None)
    client.post("/taal", data={"locale": "en", "next": "/"})
    page = client.get(f"/steun/{application.endorsement_token}", headers={"Accept-Language": "nl"})
    assert '<html lang="en"' in page.get_data(as_text=True)  # the page is in English
    start = newest()
    client.post(
        f"/steun/{application.endorsement_token}",
        data={
            "name": "Nina Nieuw",
            "postcode": "7542 AC",
            "house_number": "77",
            "email": "nina@example.org",
        },
        headers={"Accept-Language": "nl"},
    )
    [row] = since(start)
    assert (row.kind, row.locale) == ("endorsement_confirm", "en")
