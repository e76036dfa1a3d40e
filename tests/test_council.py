"""The wijkorgaan's pages: its requests for advice, one request with the plan and the internal
discussion, a declared conflict of interest, and the advice of the chair or secretary."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.applications import services
from portal.applications.models import (
    AdviceComment,
    AdviceRequest,
    Application,
    ConflictDeclaration,
    State,
)
from portal.districts.models import Council, CouncilMembership
from portal.extensions import db
from portal.notifications.dispatch import dispatch_committed
from portal.reviews import advice
from portal.reviews import services as intake
from portal.timeutil import local_today, utcnow
from tests.conftest import login
from tests.test_applications import make_complete_draft

IBAN = "NL91ABNA0417164300"
ACCOUNT_HOLDER = "Stichting Rekening Pietersen"
BATCH = itertools.count()


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "applicant": factory.user(
            postcode="7533AB", name="Anna Aanvrager", email="anna.aanvrager@example.org"
        ),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram"),
        "chair": factory.user(
            postcode="7533AD", name="Carla Voorzitter", council=("Dorpsraad Glanerbrug", "chair")
        ),
        "member": factory.user(
            postcode="7533AE", name="Dirk Lid", council=("Dorpsraad Glanerbrug", "member")
        ),
        "outsider": factory.user(postcode="7545AB", council=("Wijkraad Stadsveld", "chair")),
        "resident": factory.user(postcode="7533AF"),
        "neighbours": [factory.user(postcode="7533AC") for _ in range(5)],
    }


def glanerbrug() -> Council:
    return db.session.scalar(select(Council).where(Council.name == "Dorpsraad Glanerbrug"))


def asked(people: dict[str, Any], note: str | None = "Let op de kosten van het podium.") -> Any:
    """An application of 1,500 euro (above the small-grant limit) in review, with the advice of
    Dorpsraad Glanerbrug requested."""
    applicant = people["applicant"]
    applicant.house_number = "88Z"
    application = make_complete_draft(
        applicant,
        people["neighbours"],
        title="Podium op het Kerkplein",
        description="Een zomeravond met muziek van buren voor buren.",
        account_holder=ACCOUNT_HOLDER,
        iban=IBAN,
        volunteers=12,
        own_contribution="Wij bouwen het podium zelf op.",
    )
    services.set_lines(
        application,
        [
            {
                "description": "Huur podium",
                "category": "huur_spullen",
                "quantity": 1,
                "unit_price_cents": 150_000,
            }
        ],
    )
    services.submit(application, applicant)
    intake.accept(application, people["officer"])
    request = advice.request_advice(
        application, people["officer"], glanerbrug(), local_today() + timedelta(days=21), note
    )
    db.session.commit()
    dispatch_committed()  # what a request does after its commit: send the e-mails
    return request


def switch(client: Any, user: Any) -> None:
    """Log out whoever is logged in, and log in as ``user``."""
    client.post("/uitloggen")
    if user is not None:
        assert login(client, user.email).status_code == 303


def page_of(request: Any) -> str:
    return f"/wijkorgaan/verzoeken/{request.id}"


def text_of(response: Any) -> str:
    """The page as text, without markup and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# --- who sees a request ----------------------------------------------------------------------


def test_only_members_of_the_council_asked_see_the_request(client, people, mailbox) -> None:
    request = asked(people)
    # Every member is told, with a link that opens the page.
    [mail] = [m for m in mailbox.to(people["member"].email) if "Adviesvraag" in m["Subject"]]
    assert mailbox.link(mail) == page_of(request)
    switch(client, None)
    response = client.get(page_of(request))
    assert response.status_code == 302 and "/inloggen" in response.location
    for who in ("chair", "member"):
        switch(client, people[who])
        assert client.get(page_of(request)).status_code == 200, who
    # A member of another council, a resident, the applicant and the case officer: 404.
    for who in ("outsider", "resident", "applicant", "officer"):
        switch(client, people[who])
        assert client.get(page_of(request)).status_code == 404, who
        for action, data in (
            ("reacties", {"body": "Hallo"}),
            ("belang", {"reason": ""}),
            ("advies", {"outcome": "positive", "reasons": "Goed"}),
        ):
            response = client.post(f"{page_of(request)}/{action}", data=data)
            assert response.status_code == 404, (who, action)
    assert client.get("/wijkorgaan/verzoeken/999999").status_code == 404
    db.session.refresh(request)
    assert not request.comments and not request.conflicts and not request.given


def test_an_applicant_who_is_a_member_sees_the_request(client, people) -> None:
    request = asked(people)
    db.session.add(CouncilMembership(council=glanerbrug(), user=people["applicant"], role="member"))
    db.session.commit()
    switch(client, people["applicant"])
    assert client.get(page_of(request)).status_code == 200


def test_the_page_shows_the_plan_but_no_contact_or_bank_details(client, people) -> None:
    request = asked(people)
    switch(client, people["member"])
    response = client.get(page_of(request))
    html = response.get_data(as_text=True)
    text = text_of(response)
    for shown in (
        "Podium op het Kerkplein",
        "Een zomeravond met muziek van buren voor buren.",
        "Wij bouwen het podium zelf op.",
        "Huur podium",
        "€ 1.500,00",
        "5 buren steunen dit plan",
        "Let op de kosten van het podium.",
        "Buren die elkaar kennen en helpen",
        "Het plein",
        "Dorpsraad Glanerbrug",
    ):
        assert shown in text, shown
    due = (local_today() + timedelta(days=21)).day
    assert re.search(rf"Advies uiterlijk {due} \w+ \d{{4}}", text)
    applicant = people["applicant"]
    for hidden in (
        applicant.email,
        "7533AB",
        "7533 AB",
        "88Z",
        IBAN,
        "NL91 ABNA",
        ACCOUNT_HOLDER,
        "Rekeningnummer",
        "Op naam van",
    ):
        assert hidden not in html, hidden


# --- the discussion --------------------------------------------------------------------------


def test_members_discuss_in_internal_comments(client, people) -> None:
    request = asked(people)
    switch(client, people["member"])
    empty = client.post(f"{page_of(request)}/reacties", data={"body": "  "})
    assert empty.status_code == 422
    assert "Schrijf uw reactie." in empty.get_data(as_text=True)
    response = client.post(
        f"{page_of(request)}/reacties", data={"body": "Ik ken de organisatoren: prima mensen."}
    )
    assert response.status_code == 303
    assert response.location.endswith(f"{page_of(request)}#bespreking")
    switch(client, people["chair"])
    text = text_of(client.get(page_of(request)))
    assert "Ik ken de organisatoren: prima mensen." in text
    assert "Dirk Lid" in text
    [comment] = db.session.scalars(
        select(AdviceComment).where(AdviceComment.advice_request_id == request.id)
    ).all()
    assert comment.author_id == people["member"].id
    # The applicant never sees the discussion.
    switch(client, people["applicant"])
    dossier = client.get(f"/aanvragen/{request.application_id}").get_data(as_text=True)
    assert "prima mensen" not in dossier


def test_a_conflicted_member_no_longer_sees_the_application(client, people) -> None:
    request = asked(people)
    switch(client, people["chair"])
    client.post(f"{page_of(request)}/reacties", data={"body": "Zullen we positief adviseren?"})
    switch(client, people["member"])
    page = client.get(page_of(request)).get_data(as_text=True)
    assert f"{page_of(request)}/belang" in page
    # First a confirmation page that says what follows.
    confirm = client.get(f"{page_of(request)}/belang")
    assert confirm.status_code == 200
    assert "ziet u deze aanvraag en de bespreking" in text_of(confirm)
    assert not db.session.scalars(select(ConflictDeclaration)).all()
    response = client.post(f"{page_of(request)}/belang", data={"reason": "Mijn zus organiseert"})
    assert response.status_code == 303
    [declaration] = db.session.scalars(
        select(ConflictDeclaration).where(ConflictDeclaration.advice_request_id == request.id)
    ).all()
    assert declaration.user_id == people["member"].id
    assert declaration.reason == "Mijn zus organiseert"

    # From now on nothing of the application: not the plan, not the discussion, no forms.
    assert client.get(page_of(request)).status_code == 404
    for action in ("reacties", "advies", "belang"):
        assert client.post(f"{page_of(request)}/{action}", data={"body": "x"}).status_code == 404
    assert client.get(f"/aanvragen/{request.application_id}").status_code == 404
    assert len(db.session.scalars(select(AdviceComment)).all()) == 1
    assert len(db.session.scalars(select(ConflictDeclaration)).all()) == 1
    listing = client.get("/wijkorgaan")
    assert "U heeft een belang gemeld" in text_of(listing)
    assert f'href="{page_of(request)}"' not in listing.get_data(as_text=True)


def test_a_conflicted_chair_cannot_give_advice(client, people) -> None:
    request = asked(people)
    switch(client, people["chair"])
    assert client.post(f"{page_of(request)}/belang", data={}).status_code == 303
    assert client.get(page_of(request)).status_code == 404
    response = client.post(
        f"{page_of(request)}/advies", data={"outcome": "positive", "reasons": "Goed plan"}
    )
    assert response.status_code == 404
    db.session.refresh(request.application)
    assert request.application.state == State.AWAITING_ADVICE


# --- the advice ------------------------------------------------------------------------------


def test_the_chair_gives_advice_and_the_application_is_advised(client, people, mailbox) -> None:
    request = asked(people)
    switch(client, people["chair"])
    page = client.get(page_of(request)).get_data(as_text=True)
    assert f'action="{page_of(request)}/advies"' in page
    for label in ("Positief", "Negatief", "Positief onder voorwaarden"):
        assert label in page
    response = client.post(
        f"{page_of(request)}/advies",
        data={
            "outcome": "conditional",
            "reasons": "Goed voor de buurt.",
            "conditions": "Ruim het plein zelf op.",
            "proposed": "1.200,00",
        },
    )
    assert response.status_code == 303
    db.session.refresh(request)
    db.session.refresh(request.application)
    assert request.application.state == State.ADVISED
    assert request.outcome == "conditional"
    assert request.reasons == "Goed voor de buurt."
    assert request.conditions == "Ruim het plein zelf op."
    assert request.proposed_cents == 120_000
    assert request.submitted_by_id == people["chair"].id
    assert any("Advies ontvangen" in m["Subject"] for m in mailbox.to(people["officer"].email))

    shown = client.get(response.location)
    text = text_of(shown)
    assert "Het advies is verstuurd naar de gemeente." in text
    assert "Positief onder voorwaarden" in text and "Ruim het plein zelf op." in text
    assert "€ 1.200,00" in text and "Carla Voorzitter" in text
    html = shown.get_data(as_text=True)
    assert f"{page_of(request)}/advies" not in html
    assert f"{page_of(request)}/reacties" not in html
    # Sending again, or commenting afterwards, changes nothing.
    again = client.post(
        f"{page_of(request)}/advies", data={"outcome": "negative", "reasons": "Toch niet"}
    )
    assert again.status_code == 303
    late = client.post(f"{page_of(request)}/reacties", data={"body": "Nog een gedachte"})
    assert late.status_code == 303
    assert "al gegeven" in text_of(client.get(late.location))
    db.session.refresh(request)
    assert request.outcome == "conditional" and not request.comments
    # The member sees the advice, read-only.
    switch(client, people["member"])
    assert "Ruim het plein zelf op." in text_of(client.get(page_of(request)))


def test_a_plain_member_cannot_give_advice(client, people) -> None:
    request = asked(people)
    switch(client, people["member"])
    html = client.get(page_of(request)).get_data(as_text=True)
    assert f"{page_of(request)}/advies" not in html
    assert "Advies versturen" not in html
    assert f"{page_of(request)}/reacties" in html  # a member does take part in the discussion
    response = client.post(
        f"{page_of(request)}/advies", data={"outcome": "positive", "reasons": "Goed plan"}
    )
    assert response.status_code == 403
    db.session.refresh(request)
    db.session.refresh(request.application)
    assert not request.given and request.application.state == State.AWAITING_ADVICE


@pytest.mark.parametrize(
    ("data", "messages", "kept"),
    [
        (
            {"outcome": "", "reasons": "", "conditions": "", "proposed": ""},
            ["Kies een advies.", "Schrijf op waarom het wijkorgaan dit advies geeft."],
            [],
        ),
        (
            {
                "outcome": "conditional",
                "reasons": "Mooi plan, maar duur & groot.",
                "conditions": "",
                "proposed": "twaalf",
            },
            [
                "Schrijf op onder welke voorwaarden het advies positief is.",
                "Vul een bedrag in euro",
            ],
            [
                "Mooi plan, maar duur &amp; groot.",
                'value="twaalf"',
                'value="conditional" checked',
            ],
        ),
        (
            {"outcome": "positive", "reasons": "Prima", "conditions": "", "proposed": "2000"},
            ["kan niet hoger zijn dan het gevraagde bedrag (€ 1.500,00)"],
            ['value="2000"', 'value="positive" checked', "Prima</textarea>"],
        ),
        (
            {"outcome": "misschien", "reasons": "Prima", "conditions": "", "proposed": ""},
            ["Kies een advies."],
            ["Prima</textarea>"],
        ),
    ],
    ids=["empty", "conditions-and-amount", "above-requested", "unknown-outcome"],
)
def test_advice_errors_are_shown_at_the_field_and_keep_what_was_typed(
    client, people, data, messages, kept
) -> None:
    request = asked(people)
    switch(client, people["chair"])
    response = client.post(f"{page_of(request)}/advies", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="foutenoverzicht"' in html
    for message in messages:
        assert message in html, message
    for value in kept:
        assert value in html, value
    db.session.refresh(request)
    db.session.refresh(request.application)
    assert not request.given and request.application.state == State.AWAITING_ADVICE


def test_posts_need_the_csrf_token(app, client, people) -> None:
    request = asked(people)
    switch(client, people["chair"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for action, data in (
            ("reacties", {"body": "Hallo"}),
            ("belang", {"reason": ""}),
            ("advies", {"outcome": "positive", "reasons": "Goed"}),
        ):
            response = client.post(f"{page_of(request)}/{action}", data=data)
            assert response.status_code == 400, action
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.refresh(request)
    assert not request.comments and not request.conflicts and not request.given


# --- the list of requests --------------------------------------------------------------------


def add_requests(people: dict[str, Any], count: int, *, given: int = 0) -> list[AdviceRequest]:
    """``count`` requests for Dorpsraad Glanerbrug, made directly (the services are tested
    above); the last ``given`` of them already answered."""
    council = glanerbrug()
    applicant = people["applicant"]
    today = local_today()
    made = []
    batch = next(BATCH)
    for number in range(count):
        answered = number >= count - given
        application = Application(
            applicant_id=applicant.id,
            district_id=applicant.district_id,
            creation_key=f"council-list-{batch}-{number}",
            title=f"Plan nummer {number:02d}",
            kaders=["sociale_samenhang"],
            state=(State.ADVISED if answered else State.AWAITING_ADVICE).value,
            reference=f"WB-{2000 + batch}-{number:04d}",
            submitted_at=utcnow(),
            requested_cents=100_000 + number * 100,
            total_cents=100_000 + number * 100,
        )
        db.session.add(application)
        db.session.flush()
        request = AdviceRequest(
            application_id=application.id,
            council_id=council.id,
            requested_by_id=people["officer"].id,
            requested_on=today,
            # The open ones in reverse order of making, to see the sorting.
            due_date=today + timedelta(days=40 - number),
        )
        if answered:
            request.outcome = "positive"
            request.reasons = "Goed"
            request.submitted_by_id = people["chair"].id
            request.submitted_at = utcnow()
        db.session.add(request)
        made.append(request)
    db.session.flush()
    return made


def test_the_list_shows_open_requests_first(client, people) -> None:
    made = add_requests(people, 4, given=1)
    db.session.add(ConflictDeclaration(advice_request_id=made[0].id, user_id=people["member"].id))
    db.session.commit()
    switch(client, people["member"])
    text = text_of(client.get("/wijkorgaan"))
    order = [text.index(f"Plan nummer {n:02d}") for n in (2, 1, 0, 3)]
    assert order == sorted(order), "open ones by due date first, then the given one"
    assert "Advies gegeven: Positief" in text
    assert "U heeft een belang gemeld" in text
    assert text.count("Open") >= 2
    assert "€ 1.000,00" in text and "Glanerbrug" in text
    # A member of another council sees none of them, and an honest empty state.
    switch(client, people["outsider"])
    text = text_of(client.get("/wijkorgaan"))
    assert "Er zijn geen adviesverzoeken" in text and "Plan nummer" not in text


def test_the_list_is_paginated_and_answers_in_a_constant_number_of_queries(
    client, people, count_queries
) -> None:
    add_requests(people, 1)
    db.session.commit()
    switch(client, people["chair"])
    client.get("/wijkorgaan")  # warm up
    with count_queries() as one:
        assert client.get("/wijkorgaan").status_code == 200
    add_requests(people, 30, given=5)
    db.session.commit()
    with count_queries() as many:
        response = client.get("/wijkorgaan")
    assert response.status_code == 200
    assert many.count == one.count, many.statements
    text = text_of(response)
    assert "Pagina 1 van 2" in text and text.count("Plan nummer") == 25
    second = text_of(client.get("/wijkorgaan?page=2"))
    assert second.count("Plan nummer") == 6
