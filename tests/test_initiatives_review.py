"""The staff side of initiatives: the case officer's queue (borough, deadline, tabs, constant
queries), the review page with publish, ask for changes and assign a guide, status changes after
publication by the initiator and the staff (supporters told), moderation of comments (hide,
restore, dismiss, block, unblock), who may use which route, and hostile text shown as text."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from portal.applications import workflow
from portal.audit.models import AuditRecord
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import review, services
from portal.initiatives.models import (
    Comment,
    CommentBlock,
    CommentReport,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativePhoto,
    InitiativeTheme,
    InitiativeUpdate,
    Support,
)
from portal.notifications.models import Notification
from portal.timeutil import local_today, utcnow

HOSTILE = (
    '<script>alert("x")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(2)">klik</a> \u202eevil'
)


# --- helpers ------------------------------------------------------------------------------------


def district(name: str) -> District:
    return db.session.scalar(select(District).where(District.name == name))


def make(
    initiator: Any,
    title: str,
    *,
    districts: tuple[str, ...] = ("Glanerbrug",),
    citywide: bool = False,
    state: str = "submitted",
    submitted_at: datetime | None = None,
    by: Any = None,
    **fields: Any,
) -> Initiative:
    """An initiative of ``initiator`` in ``state``, moved there through the workflow table
    (``by`` is a case officer who handles it, for the steps after submission)."""
    initiative = services.create_draft(initiator, uuid.uuid4().hex)
    initiative.title = title
    initiative.slug = services.slugify(title)
    initiative.pitch = fields.pop("pitch", "Samen tuinieren in de wijk")
    initiative.description = fields.pop("description", "Een moestuin voor iedereen.")
    initiative.citywide = citywide
    for name, value in fields.items():
        setattr(initiative, name, value)
    wanted = {district(name).id for name in districts}
    initiative.district_links[:] = [
        link for link in initiative.district_links if link.district_id in wanted
    ]
    db.session.flush()
    have = {link.district_id for link in initiative.district_links}
    for district_id in sorted(wanted - have):
        initiative.district_links.append(InitiativeDistrict(district_id=district_id))
    initiative.theme_links.append(InitiativeTheme(theme="leefbaarheid"))
    initiative.help_links.append(InitiativeHelp(kind="volunteers"))
    db.session.flush()
    if state == "draft":
        return initiative
    moment = submitted_at or utcnow()
    workflow.transition_initiative(
        initiative,
        "submit",
        initiator,
        submitted_at=moment,
        review_due=review.review_due_for(moment),
    )
    steps = {
        "changes_requested": ["request_changes"],
        "published": ["publish"],
        "in_conversation": ["publish", "start_conversation"],
        "running": ["publish", "start_running"],
        "realised": ["publish", "start_running", "realise"],
        "stopped": ["publish", "stop"],
    }
    for action in steps.get(state, []):
        extra = {"published_at": utcnow()} if action == "publish" else {}
        workflow.transition_initiative(initiative, action, by, **extra)
    db.session.flush()
    return initiative


def notifications(user: Any, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def audit(object_type: str, object_id: int) -> list[AuditRecord]:
    return list(
        db.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_type == object_type, AuditRecord.object_id == object_id)
            .order_by(AuditRecord.id)
        )
    )


def row_of(html: str, text: str) -> str:
    """The table row that holds ``text``."""
    for row in re.findall(r"<tr class=\"utrecht-table__row[^>]*>.*?</tr>", html, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


def titles_in(html: str) -> list[str]:
    return re.findall(r"/behandeling/initiatieven/\d+\"><bdi>([^<]*)</bdi>", html)


@pytest.fixture
def officer(factory) -> Any:
    return factory.user(roles=("case_officer",), boroughs=("Oost",), name="Olga Oost")


@pytest.fixture
def everywhere(factory) -> Any:
    """A case officer of every borough, who moves test initiatives along."""
    return factory.user(
        roles=("case_officer",),
        boroughs=("Centrum", "Noord", "Oost", "Zuid", "West"),
        name="Stan Stad",
    )


@pytest.fixture
def initiator(factory) -> Any:
    return factory.user(postcode="7533AB", name="Anna Initiatief")


# --- the queue ----------------------------------------------------------------------------------


def test_the_queue_shows_the_boroughs_submitted_initiatives_and_city_wide_ones_oldest_first(
    client, factory, login_as, officer, everywhere, initiator
) -> None:
    now = utcnow()
    zuid = factory.user(postcode="7545AB", name="Zoë Zuid")
    make(initiator, "Moestuin jong", submitted_at=now - timedelta(hours=1))
    make(initiator, "Bankjes oud", submitted_at=now - timedelta(days=3))
    make(zuid, "Hele stad danst", citywide=True, districts=(), submitted_at=now - timedelta(days=2))
    make(zuid, "Zonder wijk", districts=(), submitted_at=now - timedelta(hours=5))
    make(zuid, "Elders in Zuid", districts=("Zuid-Oost",))
    make(initiator, "Al online", state="published", by=everywhere)
    make(initiator, "Nog een concept", state="draft")
    guided = make(
        zuid, "Begeleid in Zuid", districts=("Zuid-Oost",), submitted_at=now - timedelta(days=1)
    )
    workflow.transition_initiative(guided, "assign_guide", everywhere, guide_id=officer.id)
    db.session.commit()

    login_as(officer)
    html = client.get("/behandeling/initiatieven").get_data(as_text=True)
    assert titles_in(html) == [
        "Bankjes oud",
        "Hele stad danst",
        "Begeleid in Zuid",
        "Zonder wijk",
        "Moestuin jong",
    ]
    assert "Elders in Zuid" not in html and "Nog een concept" not in html
    assert "5 initiatieven gevonden" in html
    row = row_of(html, "Hele stad danst")
    assert "Hele stad" in row and "Zoë Zuid" in row
    assert "Glanerbrug" in row_of(html, "Moestuin jong")

    published = client.get("/behandeling/initiatieven?status=published").get_data(as_text=True)
    assert titles_in(published) == ["Al online"]
    # The filter is a plain GET form: without JavaScript it works the same.
    assert 'method="get"' in html and 'name="status"' in html
    searched = client.get("/behandeling/initiatieven?zoek=bankjes").get_data(as_text=True)
    assert titles_in(searched) == ["Bankjes oud"]
    by_name = client.get("/behandeling/initiatieven?zoek=zo%C3%AB&status=alle").get_data(
        as_text=True
    )
    assert set(titles_in(by_name)) == {"Hele stad danst", "Zonder wijk", "Begeleid in Zuid"}

    # With htmx only the results are sent, and the answer varies on that.
    fragment = client.get(
        "/behandeling/initiatieven?status=published", headers={"HX-Request": "true"}
    )
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="initiatieven-resultaten"')
    assert "HX-Request" in fragment.headers["Vary"]

    # The work queue of applications links to it.
    assert "/behandeling/initiatieven" in client.get("/werkvoorraad").get_data(as_text=True)


def test_the_review_deadline_is_two_working_days_and_late_is_said_in_words(
    client, login_as, officer, initiator
) -> None:
    # Friday 6 March 2026, 00:30 in Enschede (Thursday 23:30 UTC): due Tuesday 10 March.
    late_thursday_utc = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    assert review.review_due_for(late_thursday_utc) == date(2026, 3, 10)
    assert review.review_due_for(datetime(2026, 3, 6, 11, 0, tzinfo=UTC)) == date(2026, 3, 10)
    # Wednesday: due Friday, no weekend in between.
    assert review.review_due_for(datetime(2026, 3, 4, 9, 0, tzinfo=UTC)) == date(2026, 3, 6)

    make(initiator, "Te laat bekeken", submitted_at=late_thursday_utc)
    make(initiator, "Net binnen")
    db.session.commit()
    login_as(officer)
    html = client.get("/behandeling/initiatieven").get_data(as_text=True)
    late = row_of(html, "Te laat bekeken")
    assert "10 maart 2026" in late and "Te laat" in late.replace("Te laat bekeken", "")
    fresh = row_of(html, "Net binnen")
    assert "Te laat" not in fresh.replace("Te laat bekeken", "")


def test_the_queue_uses_the_same_number_of_queries_for_many_rows(
    client, factory, login_as, officer, initiator, count_queries
) -> None:
    login_as(officer)
    other = factory.user(postcode="7534AB")

    def add(count: int, start: int) -> None:
        glanerbrug, dolphia = district("Glanerbrug").id, district("Dolphia").id
        for number in range(start, start + count):
            initiative = Initiative(
                initiator_id=(initiator if number % 2 else other).id,
                creation_key=f"many-{number}",
                slug=f"plan-{number}",
                title=f"Plan {number}",
                state="submitted",
                submitted_at=utcnow() - timedelta(minutes=number),
                review_due=local_today() + timedelta(days=number % 3 - 1),
            )
            db.session.add(initiative)
            db.session.flush()
            db.session.add(InitiativeDistrict(initiative_id=initiative.id, district_id=glanerbrug))
            if number % 3 == 0:
                db.session.add(InitiativeDistrict(initiative_id=initiative.id, district_id=dolphia))
        db.session.commit()

    add(2, 0)
    with count_queries() as few:
        assert client.get("/behandeling/initiatieven").status_code == 200
    add(40, 10)
    with count_queries() as many:
        html = client.get("/behandeling/initiatieven").get_data(as_text=True)
    assert "42 initiatieven gevonden" in html
    assert len(titles_in(html)) == 25 and "Volgende" in html
    assert many.count == few.count, many.statements
    with count_queries() as second_page:
        html = client.get("/behandeling/initiatieven?page=2").get_data(as_text=True)
    assert len(titles_in(html)) == 17
    assert second_page.count == few.count


# --- the review page and its actions -------------------------------------------------------------


def test_the_review_page_shows_everything_the_initiator_wrote(
    client, login_as, officer, initiator
) -> None:
    initiative = make(
        initiator,
        "Moestuin Glanerbrug",
        pitch="Groente kweken met buren",
        description="Op het grasveld achter de school.\nIedere zaterdag.",
        contact_note="Kom langs op zaterdag.",
    )
    for number, ready in enumerate((True, False)):
        db.session.add(
            InitiativePhoto(
                initiative_id=initiative.id,
                position=number,
                storage_key=f"review-{uuid.uuid4().hex}",
                content_type="image/jpeg",
                display_name=f"foto-{number}.jpg",
                size=1000,
                description=f"Het grasveld, foto {number}",
                ready=ready,
                uploaded_by_id=initiator.id,
            )
        )
    db.session.commit()
    login_as(officer)
    html = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    ready, waiting = db.session.scalars(
        select(InitiativePhoto.id)
        .where(InitiativePhoto.initiative_id == initiative.id)
        .order_by(InitiativePhoto.position)
    ).all()
    assert f'/initiatieven/{initiative.id}/fotos/{ready}/klein" alt="Het grasveld, foto 0"' in html
    assert f"/fotos/{waiting}/" not in html and "Het grasveld, foto 1 (wordt nog verwerkt)" in html
    for text in (
        "Moestuin Glanerbrug",
        "Groente kweken met buren",
        "Op het grasveld achter de school.\nIedere zaterdag.",
        "Kom langs op zaterdag.",
        "Anna Initiatief",
        "Glanerbrug (Oost)",
        "Prettig wonen in de wijk",
        "Vrijwilligers",
        "Ingediend om te bekijken",  # the audit trail
        "Publiceren: online zetten",
        "Vraag om aanpassing versturen",
        "Begeleider opslaan",
    ):
        assert text in html, text


def test_publishing_makes_it_public_on_the_timeline_with_audit_and_tells_the_initiator(
    client, login_as, officer, initiator
) -> None:
    initiative = make(initiator, "Moestuin")
    db.session.commit()
    login_as(officer)
    response = client.post(f"/behandeling/initiatieven/{initiative.id}/publiceren")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/behandeling/initiatieven/{initiative.id}")
    db.session.expire_all()
    initiative = db.session.get(Initiative, initiative.id)
    assert initiative.state == "published" and initiative.published_at is not None
    entries = db.session.scalars(
        select(InitiativeUpdate).where(InitiativeUpdate.initiative_id == initiative.id)
    ).all()
    assert [(e.kind, e.code, e.author_id) for e in entries] == [("status", "published", officer.id)]
    published = [
        r for r in audit("initiative", initiative.id) if r.action == "initiative.published"
    ]
    assert [(r.actor_id, r.from_state, r.to_state) for r in published] == [
        (officer.id, "submitted", "published")
    ]
    told = notifications(initiator, "initiative_published")
    assert len(told) == 1 and "Moestuin" in told[0].subject
    assert told[0].link == services.public_url(initiative)

    # Twice is refused with a message, not a 500.
    again = client.post(f"/behandeling/initiatieven/{initiative.id}/publiceren")
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Dit kan niet (meer) in de huidige status van het initiatief." in page


def test_asking_for_changes_needs_a_message_stores_it_and_tells_the_initiator(
    client, login_as, officer, initiator, mailbox
) -> None:
    initiative = make(initiator, "Moestuin")
    db.session.commit()
    login_as(officer)
    url = f"/behandeling/initiatieven/{initiative.id}/aanpassing-vragen"
    empty = client.post(url, data={"message": "   "})
    assert empty.status_code == 422
    assert "Schrijf op wat de initiatiefnemer moet aanpassen." in empty.get_data(as_text=True)
    too_long = client.post(url, data={"message": "x" * 5001})
    assert too_long.status_code == 422
    assert "Gebruik hoogstens 5000 tekens." in too_long.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "submitted"

    message = "Kies ook een thema.\nEn een foto graag."
    response = client.post(url, data={"message": message})
    assert response.status_code == 303
    db.session.expire_all()
    initiative = db.session.get(Initiative, initiative.id)
    assert initiative.state == "changes_requested"
    assert initiative.changes_message == message
    record = [r for r in audit("initiative", initiative.id) if r.action.endswith("requested")]
    assert record[0].reason == message and record[0].actor_id == officer.id
    told = notifications(initiator, "initiative_changes_requested")
    assert len(told) == 1 and message in told[0].body_text
    assert "mijn-initiatieven" in told[0].link
    # The e-mail went out, with the message and the link.
    sent = mailbox.to(initiator.email)
    assert len(sent) == 1
    assert "Kies ook een thema." in mailbox.text(sent[0])
    # The review page shows what was asked.
    page = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "Gevraagde aanpassing" in page and "En een foto graag." in page


def test_a_guide_is_assigned_and_told(client, factory, login_as, officer, initiator) -> None:
    guide = factory.user(roles=("case_officer",), boroughs=("Centrum",), name="Gijs Gids")
    resident = factory.user(name="Geen Collega")
    initiative = make(initiator, "Moestuin")
    db.session.commit()
    login_as(officer)
    page = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "Gijs Gids" in page and "Geen Collega" not in page

    url = f"/behandeling/initiatieven/{initiative.id}/begeleider"
    wrong = client.post(url, data={"guide": str(resident.id)})
    assert wrong.status_code == 422
    assert "Kies een begeleider uit de lijst." in wrong.get_data(as_text=True)
    assert client.post(url, data={"guide": "abc"}).status_code == 422

    response = client.post(url, data={"guide": str(guide.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).guide_id == guide.id
    assert [r.reason for r in audit("initiative", initiative.id) if "guide" in r.action] == [
        "Gijs Gids"
    ]
    told = notifications(guide, "initiative_guide_assigned")
    assert len(told) == 1 and told[0].link.endswith(f"/behandeling/initiatieven/{initiative.id}")
    assert "Olga Oost" in told[0].body_text

    # The guide (of another borough) now handles it and can open its page.
    client.post("/uitloggen")
    login_as(guide)
    assert client.get(f"/behandeling/initiatieven/{initiative.id}").status_code == 200


# --- status changes after publication ------------------------------------------------------------


def test_the_initiator_and_the_staff_change_the_status_and_supporters_are_told(
    client, factory, login_as, officer, everywhere, initiator
) -> None:
    initiative = make(initiator, "Moestuin", state="published", by=everywhere)
    fans = [factory.user(name=f"Fan {n}") for n in range(2)]
    gone = factory.user(name="Vertrokken fan")
    gone.active = False
    for person in [*fans, gone]:
        db.session.add(Support(initiative_id=initiative.id, user_id=person.id))
    db.session.execute(
        update(Initiative).where(Initiative.id == initiative.id).values(support_count=3)
    )
    db.session.commit()

    # The initiator, from their own page.
    login_as(initiator)
    back = f"/mijn-initiatieven/{initiative.id}"
    response = client.post(
        f"/initiatieven/{initiative.id}/status",
        data={"action": "start_conversation", "note": "We praten met de school.", "next": back},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(back)
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "in_conversation"
    for fan in fans:
        told = notifications(fan, "initiative_status_changed")
        assert len(told) == 1 and "We praten met de school." in told[0].body_text
        assert "In gesprek" in told[0].subject
    assert notifications(gone, "initiative_status_changed") == []
    assert notifications(initiator, "initiative_status_changed") == []  # they did it

    # The staff, from the review page (the default way back).
    client.post("/uitloggen")
    login_as(officer)
    page = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "Status bijwerken" in page and 'value="start_running"' in page
    assert 'value="start_conversation"' not in page  # not from this state
    response = client.post(
        f"/initiatieven/{initiative.id}/status", data={"action": "start_running"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/behandeling/initiatieven/{initiative.id}")
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "running"
    assert len(notifications(initiator, "initiative_status_changed")) == 1
    assert all(len(notifications(fan, "initiative_status_changed")) == 2 for fan in fans)
    codes = db.session.scalars(
        select(InitiativeUpdate.code)
        .where(InitiativeUpdate.initiative_id == initiative.id, InitiativeUpdate.kind == "status")
        .order_by(InitiativeUpdate.id)
    ).all()
    assert codes == ["in_conversation", "running"]
    actions = [r.action for r in audit("initiative", initiative.id)]
    assert actions[-2:] == ["initiative.in_conversation", "initiative.running"]


def test_status_changes_are_refused_for_others_and_from_wrong_states_without_a_500(
    client, factory, login_as, officer, everywhere, initiator
) -> None:
    initiative = make(initiator, "Moestuin", state="published", by=everywhere)
    waiting = make(initiator, "Nog niet online")
    db.session.commit()
    url = f"/initiatieven/{initiative.id}/status"

    login_as(factory.user(name="Iemand anders"))
    assert client.post(url, data={"action": "stop", "confirm_stop": "y"}).status_code == 403
    assert (
        client.post(f"/initiatieven/{waiting.id}/status", data={"action": "stop"}).status_code
        == 404
    )
    assert client.post("/initiatieven/999999/status", data={"action": "stop"}).status_code == 404
    client.post("/uitloggen")
    # A case officer of another borough may read the public page, not change it.
    login_as(factory.user(roles=("case_officer",), boroughs=("West",)))
    assert client.post(url, data={"action": "start_running"}).status_code == 403
    client.post("/uitloggen")

    login_as(initiator)
    # Not from this state: a Dutch message on the page it came from.
    wrong = client.post(
        url, data={"action": "realise", "next": f"/mijn-initiatieven/{initiative.id}"}
    )
    assert wrong.status_code == 303
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert ("error", "Dit kan niet (meer) in de huidige status van het initiatief.") in flashes
    # Before publication: refused too.
    refused = client.post(
        f"/initiatieven/{waiting.id}/status", data={"action": "stop", "confirm_stop": "y"}
    )
    assert refused.status_code == 303
    # An unknown action, a missing confirmation, a long note: the form again, 422.
    unknown = client.post(url, data={"action": "publish"})
    assert unknown.status_code == 422 and "Kies de nieuwe status." in unknown.get_data(as_text=True)
    unconfirmed = client.post(url, data={"action": "stop"})
    assert unconfirmed.status_code == 422
    assert "Vink aan dat u het initiatief wilt stoppen." in unconfirmed.get_data(as_text=True)
    long_note = client.post(url, data={"action": "start_running", "note": "x" * 1001})
    assert long_note.status_code == 422
    assert "Gebruik hoogstens 1000 tekens." in long_note.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "published"
    assert db.session.get(Initiative, waiting.id).state == "submitted"

    # Only a path on this site is followed back.
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = client.post(url, data={"action": "realise", "next": evil})
        assert response.headers["Location"].endswith(f"/mijn-initiatieven/{initiative.id}"), evil
    stopped = client.post(url, data={"action": "stop", "confirm_stop": "y"})
    assert stopped.status_code == 303
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "stopped"


def test_the_status_form_carries_its_csrf_token(client, csrf_app, everywhere, initiator) -> None:
    initiative = make(initiator, "Moestuin", state="published", by=everywhere)
    db.session.commit()
    # Logging in needs the token too.
    login_page = client.get("/inloggen").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    client.post(
        "/inloggen",
        data={"email": initiator.email, "password": "wijkkracht-demo", "csrf_token": token[1]},
    )
    page = client.get(f"/mijn-initiatieven/{initiative.id}").get_data(as_text=True)
    form = re.search(r'action="/initiatieven/\d+/status".*?</form>', page, re.S)
    assert form, "the initiator's page includes the status form"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form[0])[1]
    url = f"/initiatieven/{initiative.id}/status"
    assert client.post(url, data={"action": "start_running"}).status_code == 400
    answer = client.post(url, data={"action": "start_running", "csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/mijn-initiatieven/{initiative.id}")


# --- moderation -----------------------------------------------------------------------------------


@pytest.fixture
def discussion(factory, everywhere, initiator) -> dict[str, Any]:
    initiative = make(initiator, "Moestuin", state="published", by=everywhere)
    author = factory.user(name="Rob Reageerder")
    nice = Comment(initiative_id=initiative.id, author_id=author.id, body="Mooi plan!")
    rude = Comment(initiative_id=initiative.id, author_id=author.id, body="Wat een onzin.")
    db.session.add_all([nice, rude])
    db.session.flush()
    reporters = [factory.user(name=f"Melder {n}") for n in range(2)]
    db.session.add_all(
        [
            CommentReport(comment_id=rude.id, user_id=reporters[0].id, reason="Beledigend"),
            CommentReport(comment_id=rude.id, user_id=reporters[1].id, reason="Niet aardig"),
        ]
    )
    rude.report_count = 2
    db.session.commit()
    return {"initiative": initiative, "author": author, "nice": nice, "rude": rude}


def test_reported_comments_are_listed_with_their_reasons_and_can_be_hidden_and_restored(
    client, login_as, officer, discussion
) -> None:
    rude, author = discussion["rude"], discussion["author"]
    login_as(officer)
    html = client.get("/behandeling/initiatieven/reacties").get_data(as_text=True)
    assert "Wat een onzin." in html and "Mooi plan!" not in html
    assert "2 open meldingen" in html and "Beledigend" in html and "Niet aardig" in html

    url = f"/behandeling/initiatieven/reacties/{rude.id}/verbergen"
    assert "Wat een onzin." in client.get(url).get_data(as_text=True)
    empty = client.post(url, data={"reason": ""})
    assert empty.status_code == 422 and "Schrijf de reden op." in empty.get_data(as_text=True)
    response = client.post(url, data={"reason": "Scheldwoorden passen niet bij de spelregels."})
    assert response.status_code == 303
    db.session.expire_all()
    rude = db.session.get(Comment, rude.id)
    assert rude.hidden and rude.hidden_by_id == officer.id
    assert rude.hidden_reason == "Scheldwoorden passen niet bij de spelregels."
    assert (
        db.session.scalar(
            select(func.count()).where(
                CommentReport.comment_id == rude.id, CommentReport.handled_at.is_(None)
            )
        )
        == 0
    )
    assert [(r.action, r.actor_id) for r in audit("initiative_comment", rude.id)] == [
        ("initiative.comment_hidden", officer.id)
    ]
    told = notifications(author, "initiative_comment_hidden")
    assert len(told) == 1 and "Scheldwoorden passen niet" in told[0].body_text

    assert "Wat een onzin." not in client.get("/behandeling/initiatieven/reacties").get_data(
        as_text=True
    )
    hidden = client.get("/behandeling/initiatieven/reacties?lijst=verborgen").get_data(as_text=True)
    assert "Wat een onzin." in hidden and "Scheldwoorden passen niet" in hidden
    # The review page's audit trail names the moderation too.
    page = client.get(f"/behandeling/initiatieven/{discussion['initiative'].id}")
    assert "Reactie verborgen" in page.get_data(as_text=True)

    restore = f"/behandeling/initiatieven/reacties/{rude.id}/terugzetten"
    assert client.post(restore, data={"reason": ""}).status_code == 422
    assert client.post(restore, data={"reason": "Na overleg toch toegestaan."}).status_code == 303
    db.session.expire_all()
    rude = db.session.get(Comment, rude.id)
    assert not rude.hidden and rude.hidden_reason is None and rude.hidden_by_id is None
    assert audit("initiative_comment", rude.id)[-1].action == "initiative.comment_restored"
    told = notifications(author, "initiative_comment_restored")
    assert len(told) == 1 and "Na overleg toch toegestaan." in told[0].body_text
    # Restoring what is visible is refused with a message.
    again = client.post(restore, data={"reason": "Nog eens"})
    assert again.status_code == 303


def test_reports_are_dismissed_and_people_blocked_and_unblocked(
    client, login_as, officer, discussion
) -> None:
    rude, author = discussion["rude"], discussion["author"]
    login_as(officer)
    dismiss = client.post(f"/behandeling/initiatieven/reacties/{rude.id}/afhandelen")
    assert dismiss.status_code == 303
    db.session.expire_all()
    assert not db.session.get(Comment, rude.id).hidden
    assert (
        db.session.scalar(
            select(func.count()).where(
                CommentReport.comment_id == rude.id, CommentReport.handled_at.is_(None)
            )
        )
        == 0
    )
    assert audit("initiative_comment", rude.id)[-1].action == (
        "initiative.comment_reports_dismissed"
    )
    assert "Wat een onzin." not in client.get("/behandeling/initiatieven/reacties").get_data(
        as_text=True
    )

    block = f"/behandeling/initiatieven/blokkeren/{author.id}"
    assert "Rob Reageerder" in client.get(block).get_data(as_text=True)
    assert client.post(block, data={"reason": "x" * 2001}).status_code == 422
    assert client.post(block, data={"reason": "Blijft schelden."}).status_code == 303
    blocked = db.session.get(CommentBlock, author.id)
    assert blocked is not None and blocked.reason == "Blijft schelden."
    assert blocked.blocked_by_id == officer.id
    assert [(r.action, r.reason) for r in audit("user", author.id)] == [
        ("initiative.comment_block", "Blijft schelden.")
    ]
    listing = client.get("/behandeling/initiatieven/reacties?lijst=geblokkeerd").get_data(
        as_text=True
    )
    assert "Rob Reageerder" in listing and "Blijft schelden." in listing
    # Twice is refused with a message.
    assert client.post(block, data={"reason": "Nog eens"}).status_code == 303
    # Staff cannot be blocked here.
    client.post(f"/behandeling/initiatieven/blokkeren/{officer.id}", data={"reason": "Test"})
    assert db.session.get(CommentBlock, officer.id) is None

    unblock = client.post(f"/behandeling/initiatieven/deblokkeren/{author.id}")
    assert unblock.status_code == 303
    db.session.expire_all()
    assert db.session.get(CommentBlock, author.id) is None
    assert audit("user", author.id)[-1].action == "initiative.comment_unblock"


def test_the_moderation_lists_use_the_same_number_of_queries_for_many_rows(
    client, factory, login_as, officer, everywhere, initiator, count_queries
) -> None:
    initiatives = [make(initiator, f"Plan {n}", state="published", by=everywhere) for n in range(3)]
    reporter = factory.user()
    authors = [factory.user(name=f"Schrijver {n}") for n in range(4)]

    def add(count: int) -> None:
        for number in range(count):
            comment = Comment(
                initiative_id=initiatives[number % 3].id,
                author_id=authors[number % 4].id,
                body=f"Reactie {number}",
            )
            hidden = Comment(
                initiative_id=initiatives[number % 3].id,
                author_id=authors[number % 4].id,
                body=f"Weg {number}",
                hidden_at=utcnow(),
                hidden_by_id=officer.id,
                hidden_reason="Past niet",
            )
            db.session.add_all([comment, hidden])
            db.session.flush()
            db.session.add(CommentReport(comment_id=comment.id, user_id=reporter.id, reason="Nee"))
        db.session.commit()

    login_as(officer)
    add(2)
    db.session.add(CommentBlock(user_id=authors[0].id, blocked_by_id=officer.id, reason="Nee"))
    db.session.commit()
    few = {}
    for listed in ("gemeld", "verborgen", "geblokkeerd"):
        with count_queries() as counted:
            assert (
                client.get(f"/behandeling/initiatieven/reacties?lijst={listed}").status_code == 200
            )
        few[listed] = counted.count
    add(30)
    for user in authors[1:]:
        db.session.add(CommentBlock(user_id=user.id, blocked_by_id=officer.id, reason="Nee"))
    db.session.commit()
    for listed in ("gemeld", "verborgen", "geblokkeerd"):
        with count_queries() as counted:
            html = client.get(f"/behandeling/initiatieven/reacties?lijst={listed}").get_data(
                as_text=True
            )
        assert counted.count == few[listed], (listed, counted.statements)
    html = client.get("/behandeling/initiatieven/reacties").get_data(as_text=True)
    assert "Gemeld: 32" in html and "Verborgen: 32" in html and "Volgende" in html


# --- who may use which route --------------------------------------------------------------------


STAFF_ROUTES = [
    ("GET", "/behandeling/initiatieven", "list"),
    ("GET", "/behandeling/initiatieven/reacties", "list"),
    ("GET", "/behandeling/initiatieven/{initiative}", "read"),
    ("POST", "/behandeling/initiatieven/{initiative}/publiceren", "act"),
    ("POST", "/behandeling/initiatieven/{initiative}/aanpassing-vragen", "act"),
    ("POST", "/behandeling/initiatieven/{initiative}/begeleider", "act"),
    ("GET", "/behandeling/initiatieven/reacties/{comment}/verbergen", "act"),
    ("POST", "/behandeling/initiatieven/reacties/{comment}/verbergen", "act"),
    ("GET", "/behandeling/initiatieven/reacties/{comment}/terugzetten", "act"),
    ("POST", "/behandeling/initiatieven/reacties/{comment}/terugzetten", "act"),
    ("POST", "/behandeling/initiatieven/reacties/{comment}/afhandelen", "act"),
    ("GET", "/behandeling/initiatieven/blokkeren/{author}", "act"),
    ("POST", "/behandeling/initiatieven/blokkeren/{author}", "act"),
    ("POST", "/behandeling/initiatieven/deblokkeren/{author}", "act"),
]


def test_other_people_get_403_or_404_on_every_staff_route(
    app, client, factory, personas, discussion
) -> None:
    from tests.conftest import login

    west = factory.user(roles=("case_officer",), boroughs=("West",))
    db.session.commit()
    values = {
        "initiative": discussion["initiative"].id,
        "comment": discussion["rude"].id,
        "author": discussion["author"].id,
    }
    people = {
        **{
            name: personas[name]
            for name in ("resident", "other_resident", "council_member", "finance")
        },
        "admin": personas["admin"],
        "other_borough": west,
    }
    for method, pattern, kind in STAFF_ROUTES:
        path = pattern.format(**values)
        client.post("/uitloggen")
        anonymous = client.open(path, method=method)
        assert anonymous.status_code in (302, 303) and "/inloggen" in anonymous.headers["Location"]
        for name, person in people.items():
            client.post("/uitloggen")
            login(client, person.email)
            status = client.open(path, method=method).status_code
            if name == "admin" and (kind != "act" and method == "GET"):
                assert status == 200, (name, method, path)
            elif name == "other_borough":
                if kind == "list":
                    assert status == 200, (name, path)
                elif "blokkeren" in path:
                    # Blocking is city-wide: the page, the form again without a reason, or
                    # "not blocked" for unblocking.
                    assert status in (200, 303, 422), (name, method, path)
                else:
                    assert status == 404, (name, method, path)
            else:
                assert status == 403, (name, method, path)
    # Nothing changed on the way.
    db.session.expire_all()
    assert db.session.get(Initiative, values["initiative"]).state == "published"


def test_an_unpublished_initiative_is_404_for_staff_who_do_not_handle_it(
    client, factory, login_as, initiator
) -> None:
    initiative = make(initiator, "Nog niet online")
    draft = make(initiator, "Concept", state="draft")
    db.session.commit()
    login_as(factory.user(roles=("case_officer",), boroughs=("West",)))
    assert client.get(f"/behandeling/initiatieven/{initiative.id}").status_code == 404
    client.post("/uitloggen")
    login_as(factory.user(roles=("case_officer",), boroughs=("Oost",)))
    assert client.get(f"/behandeling/initiatieven/{draft.id}").status_code == 404
    assert client.get(f"/behandeling/initiatieven/{initiative.id}").status_code == 200


# --- hostile text -------------------------------------------------------------------------------


def test_hostile_text_is_shown_as_text_everywhere_on_the_staff_side(
    client, factory, login_as, officer, everywhere
) -> None:
    villain = factory.user(postcode="7533AB", name=HOSTILE[:100])
    initiative = make(
        villain,
        HOSTILE[:120],
        pitch=HOSTILE[:200],
        description=HOSTILE * 20,
        contact_note=HOSTILE,
    )
    db.session.commit()
    login_as(officer)
    for page in (
        client.get("/behandeling/initiatieven").get_data(as_text=True),
        client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page
        assert "&lt;script&gt;" in page
    review_page = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "\u202eevil" in review_page  # kept as a character, inside an isolated element
    assert "<bdi>" in review_page

    # A 10,000-character message is refused with a clear message; a hostile one is stored as
    # typed and shown escaped.
    url = f"/behandeling/initiatieven/{initiative.id}/aanpassing-vragen"
    huge = client.post(url, data={"message": "a" * 10_000})
    assert huge.status_code == 422 and "Gebruik hoogstens 5000 tekens." in huge.get_data(
        as_text=True
    )
    assert client.post(url, data={"message": HOSTILE}).status_code == 303
    page = client.get(f"/behandeling/initiatieven/{initiative.id}").get_data(as_text=True)
    assert "<script>alert" not in page and page.count("&lt;script&gt;") >= 3
    told = notifications(villain, "initiative_changes_requested")[0]
    assert "<script>" not in told.body_html and "&lt;script&gt;" in told.body_html
    assert 'href="javascript:' not in told.body_html

    # A hostile note on the timeline and hostile moderation reasons.
    published = make(villain, "Online", state="published", by=everywhere)
    comment = Comment(initiative_id=published.id, author_id=villain.id, body=HOSTILE)
    db.session.add(comment)
    db.session.flush()
    db.session.add(CommentReport(comment_id=comment.id, user_id=officer.id, reason=HOSTILE))
    db.session.commit()
    status = client.post(
        f"/initiatieven/{published.id}/status", data={"action": "start_running", "note": HOSTILE}
    )
    assert status.status_code == 303
    listing = client.get("/behandeling/initiatieven/reacties").get_data(as_text=True)
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    hide = f"/behandeling/initiatieven/reacties/{comment.id}/verbergen"
    assert client.post(hide, data={"reason": HOSTILE}).status_code == 303
    block = f"/behandeling/initiatieven/blokkeren/{villain.id}"
    assert client.post(block, data={"reason": HOSTILE}).status_code == 303
    for page in (
        client.get(f"/behandeling/initiatieven/{published.id}").get_data(as_text=True),
        client.get("/behandeling/initiatieven/reacties?lijst=verborgen").get_data(as_text=True),
        client.get("/behandeling/initiatieven/reacties?lijst=geblokkeerd").get_data(as_text=True),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page and "&lt;script&gt;" in page
