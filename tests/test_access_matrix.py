"""Every route of the app, with who may use it, tried as every kind of user.

A route that is not listed here makes ``test_every_route_is_in_the_matrix`` fail: add it with
the roles that may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from portal.extensions import db
from portal.notifications.services import notify
from tests.conftest import assert_security_headers

PERSONAS = [
    "anonymous",
    "resident",
    "other_resident",
    "council_member",
    "other_council_member",
    # A member of the council asked for advice who declared a conflict of interest on it.
    "conflicted_member",
    "case_officer",
    "finance",
    "admin",
]
EVERYONE = frozenset(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
RESIDENTS = frozenset(
    {"resident", "other_resident", "council_member", "other_council_member", "conflicted_member"}
)
OWNER = frozenset({"resident"})
# Case officer of the borough (Oost handles Glanerbrug) and admin may see a submitted application.
VIEWERS = frozenset({"resident", "case_officer", "admin"})
OFFICER = frozenset({"case_officer"})


@dataclass(frozen=True)
class Route:
    path: str | Callable[[dict[str, Any]], str]
    allowed: frozenset[str]
    method: str = "GET"
    data: dict[str, str] = field(default_factory=dict)
    # Status codes that count as "used it" for an allowed persona.
    ok: tuple[int, ...] = (200, 302, 303)
    # What an anonymous visitor gets when not allowed (None: sent to the login page).
    anonymous: tuple[int, ...] | None = None


MATRIX: dict[str, Route] = {
    "public.home": Route("/", EVERYONE),
    "public.privacy": Route("/privacy", EVERYONE),
    "public.accessibility": Route("/toegankelijkheid", EVERYONE),
    "public.healthz": Route("/healthz", EVERYONE),
    "public.start": Route("/start", EVERYONE),
    "public.set_language": Route("/taal", EVERYONE, "POST", {"locale": "en", "next": "/"}),
    "accounts.register": Route("/account-maken", EVERYONE),
    "accounts.check_your_mail": Route("/account-maken/controleer-uw-mail", EVERYONE),
    "accounts.resend_verification": Route(
        "/account-maken/opnieuw-sturen", EVERYONE, "POST", {"email": "x@example.org"}
    ),
    # Signed links: open to whoever holds the link; a wrong token is a clear 400 for everyone.
    "accounts.verify_email": Route("/e-mail-bevestigen/ongeldig", EVERYONE, ok=(400,)),
    "accounts.reset_password": Route("/wachtwoord-herstellen/ongeldig", EVERYONE, ok=(400,)),
    "accounts.login": Route("/inloggen", EVERYONE),
    "accounts.logout": Route("/uitloggen", EVERYONE, "POST"),
    "accounts.forgot_password": Route("/wachtwoord-vergeten", EVERYONE),
    "accounts.account": Route("/mijn-account", SIGNED_IN),
    "accounts.change_password": Route("/mijn-account/wachtwoord", SIGNED_IN, "POST", ok=(422,)),
    "accounts.change_email": Route("/mijn-account/e-mailadres", SIGNED_IN, "POST", ok=(422,)),
    "applications.mine": Route("/mijn-aanvragen", RESIDENTS),
    "applications.give_view": Route(lambda o: f"/aanvragen/{o['intent']}/reactie", OWNER),
    "applications.decision_letter": Route(lambda o: f"/aanvragen/{o['granted']}/besluit", VIEWERS),
    # The letter PDF made by the worker: only for who may see the application.
    "applications.decision_letter_pdf": Route(
        lambda o: f"/aanvragen/{o['granted']}/besluit/{o['decision']}/pdf",
        VIEWERS,
        anonymous=(404,),
    ),
    "applications.objection": Route(lambda o: f"/aanvragen/{o['granted']}/bezwaar", OWNER),
    "applications.report": Route(lambda o: f"/aanvragen/{o['granted']}/verantwoording", OWNER),
    "applications.settlement_view": Route(
        lambda o: f"/aanvragen/{o['granted']}/vaststelling", OWNER
    ),
    "applications.answer_info": Route(
        lambda o: f"/aanvragen/{o['info_requested']}/aanvulling", OWNER
    ),
    "applications.new": Route("/aanvragen/nieuw", RESIDENTS, "POST", {"creation_key": "matrix"}),
    # The applicant's draft: only its owner; everyone else gets 404.
    "applications.edit": Route(lambda o: f"/aanvragen/{o['draft']}/bewerken/activiteit", OWNER),
    "applications.autosave": Route(
        lambda o: f"/aanvragen/{o['draft']}/bewerken/activiteit/autosave",
        OWNER,
        "POST",
        {"title": "x"},
        # Anonymous (a session that expired) is told to log in again; what was typed is kept.
        anonymous=(200,),
    ),
    "applications.upload": Route(
        lambda o: f"/aanvragen/{o['draft']}/bijlagen", OWNER, "POST", ok=(422,)
    ),
    "applications.delete_attachment": Route(
        lambda o: f"/aanvragen/{o['draft']}/bijlagen/{o['draft_attachment']}/verwijderen", OWNER
    ),
    "applications.submit": Route(
        lambda o: f"/aanvragen/{o['draft']}/indienen", OWNER, "POST", ok=(422,)
    ),
    "applications.discard": Route(lambda o: f"/aanvragen/{o['draft']}/verwijderen", OWNER),
    "applications.invite": Route(
        lambda o: f"/aanvragen/{o['draft']}/draagvlak/uitnodigen",
        OWNER,
        "POST",
        {"emails": "buur@example.org"},
    ),
    "applications.endorsement_count": Route(
        lambda o: f"/aanvragen/{o['draft']}/draagvlak/teller", OWNER
    ),
    "applications.remove_endorsement": Route(
        lambda o: f"/aanvragen/{o['draft']}/draagvlak/{o['endorsement']}/verwijderen", OWNER
    ),
    # A submitted application: its applicant, the case officers of its borough and admins.
    "applications.detail": Route(lambda o: f"/aanvragen/{o['submitted']}", VIEWERS),
    "applications.attachment": Route(
        lambda o: f"/aanvragen/{o['submitted']}/bijlagen/{o['submitted_attachment']}",
        VIEWERS,
        anonymous=(404,),
    ),
    "applications.pdf": Route(lambda o: f"/aanvragen/{o['submitted']}/pdf", VIEWERS),
    "applications.pdf_download": Route(
        lambda o: f"/aanvragen/{o['submitted']}/pdf/download", VIEWERS, anonymous=(404,)
    ),
    "applications.withdraw": Route(lambda o: f"/aanvragen/{o['submitted']}/intrekken", OWNER),
    # The shared link and the confirmation link work for whoever holds them.
    "applications.endorse": Route(lambda o: f"/steun/{o['endorsement_token']}", EVERYONE),
    "applications.confirm_endorsement": Route(
        lambda o: f"/steun/bevestigen/{o['endorsement_confirm_token']}", EVERYONE
    ),
    "reviews.queue": Route("/werkvoorraad", frozenset({"case_officer"})),
    # The case page: case officers of the borough; admins may read it.
    "reviews.case": Route(lambda o: f"/behandeling/{o['submitted']}", OFFICER | {"admin"}),
    "reviews.accept": Route(lambda o: f"/behandeling/{o['submitted']}/compleet", OFFICER, "POST"),
    "reviews.request_info": Route(
        lambda o: f"/behandeling/{o['submitted']}/aanvulling",
        OFFICER,
        "POST",
        {"questions": "Stuur de offerte mee.", "due_date": "2099-01-01"},
    ),
    "reviews.put_aside": Route(
        lambda o: f"/behandeling/{o['info_requested']}/buiten-behandeling", OFFICER
    ),
    "reviews.request_advice": Route(
        lambda o: f"/behandeling/{o['submitted']}/advies-vragen",
        OFFICER,
        "POST",
        {"advies-council": "1", "advies-due_date": "2099-01-01"},
        ok=(303, 422),
    ),
    "reviews.send_intent": Route(
        lambda o: f"/behandeling/{o['advising']}/voornemen",
        OFFICER,
        "POST",
        {"voornemen-kind": "refuse", "voornemen-grounds": "rules", "voornemen-reasons": "Nee"},
        ok=(303, 422),
    ),
    "reviews.decide": Route(
        lambda o: f"/behandeling/{o['advising']}/besluit",
        OFFICER,
        "POST",
        {"outcome": "grant", "amount": "100", "reasons": "Goed plan."},
        ok=(303, 422),
    ),
    "reviews.approve": Route(
        lambda o: f"/behandeling/{o['advising']}/goedkeuren", OFFICER, "POST", ok=(303, 422)
    ),
    "reviews.return_grant": Route(
        lambda o: f"/behandeling/{o['advising']}/terugsturen",
        OFFICER,
        "POST",
        {"terug-reason": "Nee"},
        ok=(303, 422),
    ),
    "reviews.record_hearing": Route(
        lambda o: f"/behandeling/{o['granted']}/hoorzitting",
        OFFICER,
        "POST",
        {"held_on": "2026-01-01", "notes": "Gehoord"},
        ok=(303, 422),
    ),
    "reviews.decide_objection": Route(
        lambda o: f"/behandeling/{o['granted']}/bezwaar-besluit",
        OFFICER,
        "POST",
        {"bezwaar-outcome": "unfounded", "bezwaar-reasons": "Geen grond"},
        ok=(303, 422),
    ),
    "reviews.settle": Route(
        lambda o: f"/behandeling/{o['granted']}/vaststellen",
        OFFICER,
        "POST",
        {"vaststellen-amount": "1500"},
        ok=(303, 422),
    ),
    "reviews.extend": Route(
        lambda o: f"/behandeling/{o['submitted']}/verlengen",
        OFFICER,
        "POST",
        {"weeks": "2", "reason": "Drukte"},
        ok=(303, 422),
    ),
    "reviews.council_requests": Route(
        "/wijkorgaan", frozenset({"council_member", "other_council_member", "conflicted_member"})
    ),
    # One request for advice: only members of the council asked (404 for everyone else, the
    # members of another council included); advice only from its chair or secretary.
    "reviews.advice_request": Route(
        lambda o: f"/wijkorgaan/verzoeken/{o['advice_request']}", frozenset({"council_member"})
    ),
    "reviews.council_comment": Route(
        lambda o: f"/wijkorgaan/verzoeken/{o['advice_request']}/reacties",
        frozenset({"council_member"}),
        "POST",
        {"body": "Mooi plan."},
    ),
    "reviews.council_conflict": Route(
        lambda o: f"/wijkorgaan/verzoeken/{o['advice_request']}/belang",
        frozenset({"council_member"}),
        "POST",
        {"reason": "Familie"},
    ),
    "reviews.council_advice": Route(
        lambda o: f"/wijkorgaan/verzoeken/{o['advice_request']}/advies",
        frozenset({"council_member"}),
        "POST",
        {"outcome": "positive", "reasons": "Goed voor de buurt."},
    ),
    "money.payments": Route("/betalingen", frozenset({"finance", "case_officer"})),
    # District budgets: admin and finance, case officers read along; only admins change them.
    "money.budgets": Route("/budgetten", frozenset({"admin", "finance", "case_officer"})),
    # Any district's budget (the demo data has one for every district with a figure).
    "money.budget_detail": Route(
        lambda o: (
            "/budgetten/"
            + str(
                db.session.scalar(
                    db.select(db.func.min(db.column("id"))).select_from(
                        db.table("district_budgets")
                    )
                )
            )
        ),
        frozenset({"admin", "finance", "case_officer"}),
    ),
    "money.set_allocation": Route("/budgetten/vaststellen", frozenset({"admin"})),
    "money.import_allocations": Route("/budgetten/inlezen", frozenset({"admin"})),
    "money.import_done": Route("/budgetten/inlezen/klaar?van=1&tot=1", frozenset({"admin"})),
    "money.year_report": Route("/budgetten/jaarverslag", frozenset({"admin", "finance"})),
    "money.year_report_csv": Route("/budgetten/jaarverslag.csv", frozenset({"admin", "finance"})),
    "money.year_report_xlsx": Route("/budgetten/jaarverslag.xlsx", frozenset({"admin", "finance"})),
    "money.create_batch": Route(
        "/betalingen/batches", OFFICER, "POST", {"payment": "0"}, ok=(303,)
    ),
    "money.batch": Route(
        lambda o: f"/betalingen/batches/{o['batch']}", frozenset({"finance", "case_officer"})
    ),
    "money.approve_batch": Route(
        lambda o: f"/betalingen/batches/{o['batch']}/goedkeuren", frozenset({"finance"}), "POST"
    ),
    "money.mark_paid": Route(
        lambda o: f"/betalingen/batches/{o['batch']}/betaald", frozenset({"finance"})
    ),
    "money.remove_payment": Route(
        lambda o: f"/betalingen/batches/{o['batch']}/verwijderen/{o['payment']}", OFFICER, "POST"
    ),
    "money.recovery_received": Route(
        lambda o: f"/betalingen/terugvorderingen/{o['granted']}/ontvangen",
        frozenset({"finance", "case_officer"}),
        "POST",
        ok=(303,),
    ),
    "money.sepa_file": Route(
        lambda o: f"/betalingen/batches/{o['batch']}/pain001.xml", frozenset({"finance"})
    ),
    "admin.index": Route("/beheer/", frozenset({"admin"})),
    "notifications.inbox": Route("/berichten/", SIGNED_IN),
    "notifications.mark_all_read": Route("/berichten/alles-gelezen", SIGNED_IN, "POST"),
    "notifications.preferences": Route("/berichten/instellingen", SIGNED_IN),
    # The delivery log: admins only.
    "mail_log.index": Route("/beheer/berichten/?status=failed", frozenset({"admin"})),
    "mail_log.detail": Route(
        lambda objects: f"/beheer/berichten/{objects['resident_notification']}",
        frozenset({"admin"}),
    ),
    "mail_log.resend": Route(
        lambda objects: f"/beheer/berichten/{objects['resident_notification']}/opnieuw",
        frozenset({"admin"}),
        "POST",
        ok=(303,),
    ),
    # Only the resident's own notification: everyone else gets 404.
    "notifications.detail": Route(
        lambda objects: f"/berichten/{objects['resident_notification']}", frozenset({"resident"})
    ),
    # Initiatives (Kracht van de stad). "resident" is the initiator; Oost's case officer checks.
    "initiatives.showcase": Route("/initiatieven?thema=sociale_samenhang&zoek=buurt", EVERYONE),
    "initiatives.feed": Route("/initiatieven/feed.atom", EVERYONE),
    "initiatives.district_feed": Route("/initiatieven/wijk/glanerbrug.atom", EVERYONE),
    # Not published yet: the initiator and the staff who check it; everyone else gets 404.
    "initiatives.detail": Route(
        lambda o: f"/initiatieven/{o['initiative_submitted_key']}",
        frozenset({"resident", "case_officer", "admin"}),
        anonymous=(404,),
    ),
    "initiatives.photo": Route(
        lambda o: f"/initiatieven/{o['initiative_submitted']}/fotos/{o['submitted_photo']}/groot",
        frozenset({"resident", "case_officer", "admin"}),
        anonymous=(404,),
    ),
    "initiatives.mine": Route("/mijn-initiatieven", SIGNED_IN),
    "initiatives.new": Route("/initiatieven/nieuw", RESIDENTS, "POST", ok=(303,)),
    "initiatives.edit": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_draft']}/bewerken", OWNER
    ),
    "initiatives.add_photo": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_draft']}/fotos",
        OWNER,
        "POST",
        ok=(303, 422),
    ),
    "initiatives.delete_photo": Route(
        lambda o: (
            f"/mijn-initiatieven/{o['initiative_draft']}/fotos/{o['draft_photo']}/verwijderen"
        ),
        OWNER,
    ),
    "initiatives.submit": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_draft']}/indienen", OWNER
    ),
    "initiatives.discard": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_draft']}/verwijderen", OWNER
    ),
    "initiatives.manage": Route(lambda o: f"/mijn-initiatieven/{o['initiative_published']}", OWNER),
    "initiatives.post_update": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_published']}/nieuws",
        OWNER,
        "POST",
        {"body": "We zijn begonnen."},
        ok=(303,),
    ),
    "initiatives.reply": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_published']}/antwoord",
        OWNER,
        "POST",
        {"answers": "OFFER", "body": "Dank je wel!"},
        ok=(303,),
    ),
    "initiatives.start_application": Route(
        lambda o: f"/mijn-initiatieven/{o['initiative_published']}/wijkbudget",
        OWNER,
        "POST",
        ok=(303,),
    ),
    # Taking part: anyone signed in, except the initiator for what is meant for others.
    "initiatives.support": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/steun",
        SIGNED_IN - {"resident"},
        "POST",
        ok=(303,),
    ),
    "initiatives.unsupport": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/steun-intrekken",
        SIGNED_IN,
        "POST",
        ok=(303,),
    ),
    "initiatives.offer_help": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/hulp-aanbieden",
        SIGNED_IN - {"resident"},
    ),
    "initiatives.comment": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/reacties",
        SIGNED_IN,
        "POST",
        {"body": "Mooi plan!"},
        ok=(303,),
    ),
    "initiatives.report_comment": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/reacties/{o['comment']}/melden",
        SIGNED_IN - {"other_resident"},
    ),
    "initiatives.contact": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/bericht",
        SIGNED_IN - {"resident"},
    ),
    "initiatives.change_status": Route(
        lambda o: f"/initiatieven/{o['initiative_published']}/status",
        frozenset({"resident", "case_officer"}),
        "POST",
        {"action": "start_conversation"},
        ok=(303,),
    ),
    # The staff's check and moderation.
    "initiatives.queue": Route("/behandeling/initiatieven", frozenset({"case_officer", "admin"})),
    "initiatives.review": Route(
        lambda o: f"/behandeling/initiatieven/{o['initiative_submitted']}",
        frozenset({"case_officer", "admin"}),
    ),
    "initiatives.publish": Route(
        lambda o: f"/behandeling/initiatieven/{o['initiative_submitted']}/publiceren",
        OFFICER,
        "POST",
        ok=(303,),
    ),
    "initiatives.request_changes": Route(
        lambda o: f"/behandeling/initiatieven/{o['initiative_submitted']}/aanpassing-vragen",
        OFFICER,
        "POST",
        {"message": "Wilt u de wijk erbij zetten?"},
        ok=(303,),
    ),
    "initiatives.assign_guide": Route(
        lambda o: f"/behandeling/initiatieven/{o['initiative_submitted']}/begeleider",
        OFFICER,
        "POST",
        {"guide": "GUIDE"},
        ok=(303,),
    ),
    "initiatives.moderation": Route(
        "/behandeling/initiatieven/reacties", frozenset({"case_officer", "admin"})
    ),
    "initiatives.hide_comment": Route(
        lambda o: f"/behandeling/initiatieven/reacties/{o['comment']}/verbergen", OFFICER
    ),
    "initiatives.restore_comment": Route(
        lambda o: f"/behandeling/initiatieven/reacties/{o['hidden_comment']}/terugzetten", OFFICER
    ),
    "initiatives.dismiss_reports": Route(
        lambda o: f"/behandeling/initiatieven/reacties/{o['comment']}/afhandelen",
        OFFICER,
        "POST",
        ok=(303,),
    ),
    "initiatives.block_user": Route(
        lambda o: f"/behandeling/initiatieven/blokkeren/{o['other_resident']}", OFFICER
    ),
    "initiatives.unblock_user": Route(
        lambda o: f"/behandeling/initiatieven/deblokkeren/{o['other_resident']}",
        OFFICER,
        "POST",
        ok=(303,),
    ),
    # Development only (never registered in production, see test_production_has_no_dev_pages).
    "dev.mail_list": Route("/dev/mail", EVERYONE),
    "dev.mail_detail": Route("/dev/mail/00000001.eml", EVERYONE, ok=(200, 404)),
}


def test_every_route_is_in_the_matrix(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - set(MATRIX) == set(), "routes missing from the access matrix"
    assert set(MATRIX) - endpoints == set(), "matrix lists routes that do not exist"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_access_for_every_persona(
    app, client, personas, application_objects, endpoint
) -> None:
    route = MATRIX[endpoint]
    objects = {
        **application_objects,
        **initiative_objects(app, personas),
        "resident_notification": notify(
            personas["resident"], "account_password_changed", link="http://localhost/x", email=False
        ).id,
    }
    db.session.commit()
    path = route.path(objects) if callable(route.path) else route.path
    data = {
        key: value.replace("OFFER", f"offer-{objects['offer']}").replace(
            "GUIDE", str(personas["case_officer"].id)
        )
        for key, value in route.data.items()
    }
    failures = []
    for persona in PERSONAS:
        session_client = app.test_client()
        user = personas[persona]
        if user is not None:
            login = session_client.post(
                "/inloggen", data={"email": user.email, "password": "wijkkracht-demo"}
            )
            assert login.status_code == 303, persona
        response = session_client.open(path, method=route.method, data=data)
        status = response.status_code
        if response.mimetype == "text/html" or status >= 400:
            assert_security_headers(response, f"{persona} {route.method} {path}")
        to_login = status == 302 and "/inloggen" in (response.location or "")
        if persona in route.allowed:
            if status not in route.ok or to_login:
                failures.append(f"{persona} should be able to use it: got {status}")
        elif persona == "anonymous" and route.anonymous is not None:
            if status not in route.anonymous:
                failures.append(f"anonymous should get {route.anonymous}: got {status}")
        elif persona == "anonymous":
            if not to_login:
                failures.append(f"anonymous should be sent to the login page: got {status}")
        elif status not in (403, 404):
            failures.append(f"{persona} should get 403 or 404: got {status}")
    assert not failures, f"{route.method} {path}: " + "; ".join(failures)


def initiative_objects(app: Any, personas: dict[str, Any]) -> dict[str, Any]:
    """Three initiatives of the resident in Glanerbrug (borough Oost): a draft with a photo, one
    waiting for the check with a photo, and a published one with an offer of help, a visible
    comment and a hidden one (both by the other resident)."""
    import io
    from pathlib import Path

    from PIL import Image
    from sqlalchemy import select

    from portal import uploads
    from portal.applications import workflow
    from portal.districts.models import District
    from portal.initiatives import services
    from portal.initiatives.models import (
        Comment,
        HelpOffer,
        InitiativeDistrict,
        InitiativePhoto,
        InitiativeTheme,
    )
    from portal.timeutil import local_today, utcnow

    resident, officer = personas["resident"], personas["case_officer"]
    glanerbrug = db.session.scalar(select(District).where(District.name == "Glanerbrug"))
    root = Path(app.config["PORTAL_UPLOAD_DIR"])

    def photo(initiative: Any) -> int:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
        buffer.seek(0)
        stored = uploads.store(buffer, "foto.png", root=root)
        row = InitiativePhoto(
            initiative_id=initiative.id,
            storage_key=stored.storage_key,
            thumbnail_key=None,
            content_type=stored.content_type,
            display_name=stored.display_name,
            size=stored.size,
            description="Een groen vlak",
            ready=True,
            uploaded_by_id=resident.id,
        )
        db.session.add(row)
        db.session.flush()
        return row.id

    made = {}
    for name in ("draft", "submitted", "published"):
        initiative = services.create_draft(resident, f"matrix-{name}")
        initiative.title = f"Buurtmoestuin {name}"
        initiative.slug = services.slugify(initiative.title)
        initiative.pitch = "Samen groente kweken in de buurt."
        initiative.description = "Bakken, zaden en een buurtfeest."
        initiative.district_links.clear()
        db.session.flush()
        initiative.district_links.append(
            InitiativeDistrict(initiative_id=initiative.id, district_id=glanerbrug.id)
        )
        initiative.theme_links.append(
            InitiativeTheme(initiative_id=initiative.id, theme="sociale_samenhang")
        )
        db.session.flush()
        if name != "draft":
            workflow.transition_initiative(
                initiative, "submit", resident, submitted_at=utcnow(), review_due=local_today()
            )
        if name == "published":
            services.change_status(initiative, "publish", officer, published_at=utcnow())
        made[name] = initiative
    published = made["published"]
    offer = HelpOffer(
        initiative_id=published.id,
        user_id=personas["other_resident"].id,
        kind="volunteers",
        what="Ik kan zaterdag helpen.",
    )
    comment = Comment(
        initiative_id=published.id, author_id=personas["other_resident"].id, body="Leuk!"
    )
    hidden = Comment(
        initiative_id=published.id,
        author_id=personas["other_resident"].id,
        body="Weg ermee.",
        hidden_at=utcnow(),
        hidden_by_id=officer.id,
        hidden_reason="Niet vriendelijk.",
    )
    db.session.add_all([offer, comment, hidden])
    db.session.flush()
    return {
        "initiative_draft": made["draft"].id,
        "draft_photo": photo(made["draft"]),
        "initiative_submitted": made["submitted"].id,
        "initiative_submitted_key": made["submitted"].path_key,
        "submitted_photo": photo(made["submitted"]),
        "initiative_published": published.id,
        "offer": offer.id,
        "comment": comment.id,
        "hidden_comment": hidden.id,
        "other_resident": personas["other_resident"].id,
    }


def test_a_hidden_comment_is_seen_only_by_staff_and_its_author(
    app, client, personas, application_objects
) -> None:
    """The published initiative's page, as every persona: the hidden comment's text is shown to
    the case officer of the borough, the admin and its author, and to nobody else."""
    objects = initiative_objects(app, personas)
    db.session.commit()
    path = f"/initiatieven/{objects['initiative_published']}"
    may_see = {"case_officer", "admin", "other_resident"}  # other_resident wrote it
    for persona in PERSONAS:
        session_client = app.test_client()
        user = personas[persona]
        if user is not None:
            session_client.post(
                "/inloggen", data={"email": user.email, "password": "wijkkracht-demo"}
            )
        response = session_client.get(path, follow_redirects=True)
        assert response.status_code == 200, persona
        page = response.get_data(as_text=True)
        assert "Leuk!" in page, persona  # the visible comment
        assert ("Weg ermee." in page) == (persona in may_see), persona
