"""Every page a role can reach passes axe-core, in Dutch and in English."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import TINY_PDF

PASSWORD = "wijkkracht-demo"


@pytest.fixture(scope="module")
def objects(live_server: Any) -> dict[str, Any]:
    """A draft (with a file and an endorsement) and a submitted application of the demo
    resident, and a notification in their inbox."""
    from pathlib import Path

    from sqlalchemy import select

    from portal import uploads
    from portal.accounts.models import User
    from portal.applications import services
    from portal.applications.models import Attachment, Endorsement
    from portal.districts.models import Council
    from portal.extensions import db
    from portal.money import ledger
    from portal.notifications.services import notify
    from portal.reviews import advice, decisions, objections
    from portal.reviews import services as intake
    from tests.test_applications import make_complete_draft

    app = live_server.app
    with app.app_context():
        resident = db.session.scalar(select(User).where(User.email == "bewoner@demo.wijkkracht.nl"))
        neighbours = [
            db.session.scalar(select(User).where(User.email == f"buur{n}@demo.wijkkracht.nl"))
            for n in range(1, 6)
        ]
        draft = services.create_draft(resident, "every-page-draft")
        draft.title = "Speeltuin opknappen"
        stored = uploads.store(
            io.BytesIO(TINY_PDF), "offerte.pdf", root=Path(app.config["PORTAL_UPLOAD_DIR"])
        )
        draft.attachments.append(
            Attachment(
                kind="quote",
                storage_key=stored.storage_key,
                display_name=stored.display_name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                uploaded_by_id=resident.id,
            )
        )
        endorsement = services.endorse(draft, user=neighbours[0])
        submitted = make_complete_draft(resident, neighbours)
        db.session.flush()
        services.submit(submitted, resident)
        officer = db.session.scalar(
            select(User).where(User.email == "behandelaar@demo.wijkkracht.nl")
        )
        waiting = make_complete_draft(resident, neighbours)
        db.session.flush()
        services.submit(waiting, resident)
        info = intake.request_info(
            waiting, officer, "Stuur de offerte van de tent mee.", date.today() + timedelta(9)
        )
        info.requested_on, info.due_date = date.today() - timedelta(20), date.today() - timedelta(6)
        # Asked for the advice of Dorpsraad Glanerbrug (chair wijkraad@, member wijkraad-lid@),
        # with a comment of the member in the discussion.
        advising = make_complete_draft(resident, neighbours)
        db.session.flush()
        services.submit(advising, resident)
        intake.accept(advising, officer)
        glanerbrug = db.session.scalar(
            select(Council).where(Council.name == "Dorpsraad Glanerbrug")
        )
        advice_request = advice.request_advice(
            advising, officer, glanerbrug, date.today() + timedelta(21), "Let op de tent."
        )
        member = db.session.scalar(
            select(User).where(User.email == "wijkraad-lid@demo.wijkkracht.nl")
        )
        advice.add_comment(advising, member, "Mooi plan. Wie ruimt er op?")

        def accepted(cents: int = 39_000) -> Any:
            application = make_complete_draft(resident, neighbours)
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
            services.submit(application, resident)
            intake.accept(application, officer)
            return application

        # In review (a small grant: the decision forms show), an intent to refuse, a final
        # grant (letter, objection form), an objection, and a grant waiting for four eyes.
        reviewing = accepted()
        intended = accepted()
        decisions.send_intent(
            intended,
            officer,
            refuse=True,
            proposed_cents=None,
            grounds=["awb_4_35_1a"],
            reasons="De zaal is op die dag verhuurd.",
        )
        granted = accepted()
        decisions.decide(
            granted,
            officer,
            decisions.Proposal(grant=True, amount_cents=39_000, conditions="Foto's", reasons="Ok"),
        )
        objected = accepted()
        decisions.decide(
            objected, officer, decisions.Proposal(grant=True, amount_cents=39_000, reasons="Ok")
        )
        objections.lodge(objected, resident, "Ik wilde meer.", [])
        pending = accepted(300_000)
        advice.request_advice(pending, officer, glanerbrug, date.today() + timedelta(21), None)
        chair = db.session.scalar(select(User).where(User.email == "wijkraad@demo.wijkkracht.nl"))
        advice.give_advice(pending, chair, "positive", "Mooi plan.", None, None)
        decisions.decide(
            pending,
            officer,
            decisions.Proposal(grant=True, amount_cents=300_000, reasons="Past in de regels."),
        )
        notification = notify(
            resident, "account_password_changed", link=live_server("/"), email=False
        )
        # Initiatives of the resident: a draft, and a published one with a comment and news.
        from portal.applications import workflow
        from portal.initiatives import services as initiatives
        from portal.initiatives.models import Comment, InitiativeTheme
        from portal.timeutil import utcnow

        idea_draft = initiatives.create_draft(resident, "every-page-idea")
        idea = initiatives.create_draft(resident, "every-page-idea-published")
        idea.title, idea.slug = "Buurtmoestuin", "buurtmoestuin"
        idea.pitch, idea.description = "Samen groente kweken.", "Bakken en zaden."
        idea.theme_links.append(InitiativeTheme(initiative_id=idea.id, theme="sociale_samenhang"))
        db.session.flush()
        workflow.transition_initiative(idea, "submit", resident, submitted_at=utcnow())
        initiatives.change_status(idea, "publish", officer, published_at=utcnow())
        initiatives.add_timeline(idea, "update", body="De bakken staan er.", author=resident)
        db.session.add(Comment(initiative_id=idea.id, author_id=member.id, body="Mooi!"))
        db.session.commit()
        result = {
            "draft": draft.id,
            "attachment": draft.attachments[0].id,
            "endorsement": endorsement.id,
            "submitted": submitted.id,
            "waiting": waiting.id,
            "token": draft.endorsement_token,
            "notification": notification.id,
            "advice_request": advice_request.id,
            "reviewing": reviewing.id,
            "intended": intended.id,
            "granted": granted.id,
            "decision": granted.decision.id,
            "objected": objected.id,
            "pending": pending.id,
            "budget": ledger.budget(granted.district_id, date.today().year).id,
            "idea_draft": idea_draft.id,
            "idea": idea.id,
            "idea_key": idea.path_key,
        }
        assert isinstance(endorsement, Endorsement)
        db.session.remove()
    return result


def log_in(page: Any, live_server: Any, axe: Any, email: str) -> None:
    page.goto(live_server("/inloggen"))
    axe(page)
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()
    axe(page)


def visit_all(page: Any, live_server: Any, axe: Any, paths: list[str]) -> None:
    for path in paths:
        page.goto(live_server(path))
        axe(page)


def test_public_pages(page: Any, live_server: Any, axe: Any, objects: dict[str, Any]) -> None:
    visit_all(
        page,
        live_server,
        axe,
        [
            "/",
            "/privacy",
            "/toegankelijkheid",
            "/inloggen",
            "/account-maken",
            "/account-maken/controleer-uw-mail",
            "/wachtwoord-vergeten",
            "/e-mail-bevestigen/ongeldig",
            "/wachtwoord-herstellen/ongeldig",
            "/bestaat-niet",
            f"/steun/{objects['token']}",
            "/dev/mail",
            "/initiatieven",
            "/initiatieven?wijk=glanerbrug&thema=sociale_samenhang&status=published&zoek=moestuin",
            "/initiatieven?zoek=niemand-heet-zo",
            f"/initiatieven/{objects['idea_key']}",
        ],
    )


def test_resident_pages(page: Any, live_server: Any, axe: Any, objects: dict[str, Any]) -> None:
    log_in(page, live_server, axe, "bewoner@demo.wijkkracht.nl")
    draft, submitted = objects["draft"], objects["submitted"]
    sections = ["activiteit", "begroting", "betaling", "bijlagen", "draagvlak", "indienen"]
    visit_all(
        page,
        live_server,
        axe,
        [
            "/mijn-aanvragen",
            "/mijn-account",
            "/berichten/",
            f"/berichten/{objects['notification']}",
            "/berichten/instellingen",
            "/mijn-initiatieven",
            f"/mijn-initiatieven/{objects['idea_draft']}/bewerken",
            f"/mijn-initiatieven/{objects['idea_draft']}/indienen",
            f"/mijn-initiatieven/{objects['idea']}",
            f"/initiatieven/{objects['idea_key']}",
            *[f"/aanvragen/{draft}/bewerken/{section}" for section in sections],
            f"/aanvragen/{draft}/verwijderen",
            f"/aanvragen/{draft}/bijlagen/{objects['attachment']}/verwijderen",
            f"/aanvragen/{draft}/draagvlak/{objects['endorsement']}/verwijderen",
            f"/aanvragen/{draft}/draagvlak/teller",
            f"/steun/{objects['token']}",
            f"/aanvragen/{submitted}",
            f"/aanvragen/{submitted}/intrekken",
            f"/aanvragen/{submitted}/pdf",
            f"/aanvragen/{objects['waiting']}",
            f"/aanvragen/{objects['waiting']}/aanvulling",
            f"/aanvragen/{objects['intended']}",
            f"/aanvragen/{objects['intended']}/reactie",
            f"/aanvragen/{objects['granted']}",
            f"/aanvragen/{objects['granted']}/besluit",
            f"/aanvragen/{objects['granted']}/bezwaar",
            f"/aanvragen/{objects['objected']}",
            "/werkvoorraad",  # 403 page
        ],
    )


@pytest.mark.parametrize(
    ("email", "paths"),
    [
        (
            "wijkraad@demo.wijkkracht.nl",
            [
                "/wijkorgaan",
                "/wijkorgaan/verzoeken/ADVICE_ID",
                "/wijkorgaan/verzoeken/ADVICE_ID/belang",
                "/mijn-aanvragen",
            ],
        ),
        (
            "behandelaar@demo.wijkkracht.nl",
            [
                "/werkvoorraad",
                "/werkvoorraad?status=submitted&termijn=7-dagen&zoek=WB",
                "/werkvoorraad?zoek=niemand-heet-zo",
                "SUBMITTED",
                "/behandeling/SUBMITTED_ID",
                "/behandeling/WAITING_ID",
                "/behandeling/WAITING_ID/buiten-behandeling",
                "/behandeling/{reviewing}",
                "/behandeling/{intended}",
                "/behandeling/{granted}",
                "/aanvragen/{granted}/besluit",
                "/behandeling/{objected}",
                "/behandeling/{pending}",
                "/behandeling/initiatieven",
                "/behandeling/initiatieven?status=published",
                "/behandeling/initiatieven/{idea}",
                "/behandeling/initiatieven/reacties",
            ],
        ),
        # The second case officer, who may approve the grant.
        ("behandelaar2@demo.wijkkracht.nl", ["/behandeling/{pending}"]),
        ("financien@demo.wijkkracht.nl", ["/betalingen"]),
        (
            "beheerder@demo.wijkkracht.nl",
            [
                "/beheer/",
                "/beheer/berichten/",
                "/beheer/berichten/?status=sent&soort=application_submitted&ontvanger=demo",
                "/beheer/berichten/?ontvanger=niemand-heet-zo",
                "/beheer/berichten/{notification}",
                "/berichten/instellingen",
            ],
        ),
        # District budgets: the overview, one district's ledger, the year-end report, and for
        # the admin the allocation form and the CSV import; case officers read along.
        (
            "financien@demo.wijkkracht.nl",
            [
                "/budgetten",
                "/budgetten/{budget}",
                "/budgetten/{budget}?soort=commitment",
                "/budgetten/jaarverslag",
                "/budgetten/jaarverslag?jaar=2099",
            ],
        ),
        (
            "beheerder@demo.wijkkracht.nl",
            [
                "/budgetten",
                "/budgetten?jaar=2099",
                "/budgetten/{budget}",
                "/budgetten/vaststellen",
                "/budgetten/inlezen",
                "/budgetten/jaarverslag",
            ],
        ),
        ("behandelaar@demo.wijkkracht.nl", ["/budgetten", "/budgetten/{budget}"]),
    ],
    ids=[
        "council",
        "case-officer",
        "second-officer",
        "finance",
        "admin",
        "finance-budgets",
        "admin-budgets",
        "case-officer-budgets",
    ],
)
def test_staff_and_council_pages(
    page: Any, live_server: Any, axe: Any, objects: dict[str, Any], email: str, paths: list[str]
) -> None:
    log_in(page, live_server, axe, email)
    paths = [f"/aanvragen/{objects['submitted']}" if p == "SUBMITTED" else p for p in paths]
    paths = [
        p.replace("SUBMITTED_ID", str(objects["submitted"]))
        .replace("WAITING_ID", str(objects["waiting"]))
        .replace("ADVICE_ID", str(objects["advice_request"]))
        .format(**objects)
        for p in paths
    ]
    visit_all(page, live_server, axe, paths)


def test_council_advice_form_with_errors(
    page: Any, live_server: Any, axe: Any, objects: dict[str, Any]
) -> None:
    """The chair sends the advice form empty: the errors at their fields pass axe too."""
    log_in(page, live_server, axe, "wijkraad@demo.wijkkracht.nl")
    page.goto(live_server(f"/wijkorgaan/verzoeken/{objects['advice_request']}"))
    axe(page)
    page.get_by_role("button", name="Advies versturen").click()
    page.wait_for_load_state()
    assert page.get_by_text("Kies een advies.").first.is_visible()
    axe(page)


def test_budget_import_and_allocation_errors(
    page: Any, live_server: Any, axe: Any, objects: dict[str, Any]
) -> None:
    """A CSV file with errors in several rows, and an allocation below what is already
    granted: the pages that explain what is wrong pass axe too, and nothing changes."""
    log_in(page, live_server, axe, "beheerder@demo.wijkkracht.nl")
    page.goto(live_server("/budgetten/inlezen"))
    axe(page)
    year = date.today().year
    content = f"wijk;jaar;bedrag\nAtlantis;{year};1000\nGlanerbrug;20x6;veel\nGlanerbrug;{year};1\n"
    page.get_by_label("CSV-bestand").set_input_files(
        files=[{"name": "budgetten.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Bestand inlezen").click()
    page.wait_for_load_state()
    assert page.get_by_text("Er is niets veranderd.").is_visible()
    assert page.get_by_text("De wijk ‘Atlantis’ bestaat niet.", exact=False).is_visible()
    axe(page)
    page.goto(live_server("/budgetten/vaststellen"))
    axe(page)
    page.get_by_label("Wijk").select_option(label="Glanerbrug")
    page.get_by_label("Budget voor het hele jaar (€)").fill("1")
    page.get_by_role("button", name="Budget vaststellen").click()
    page.wait_for_load_state()
    assert page.get_by_text("Het budget kan niet lager zijn", exact=False).first.is_visible()
    axe(page)


def test_pages_in_english(page: Any, live_server: Any, axe: Any, objects: dict[str, Any]) -> None:
    log_in(page, live_server, axe, "bewoner@demo.wijkkracht.nl")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    axe(page)
    assert page.locator("html").get_attribute("lang") == "en"
    visit_all(
        page,
        live_server,
        axe,
        [
            "/",
            "/mijn-aanvragen",
            f"/aanvragen/{objects['draft']}/bewerken/begroting",
            f"/aanvragen/{objects['submitted']}",
            "/privacy",
            "/initiatieven?thema=sociale_samenhang",
            f"/initiatieven/{objects['idea_key']}",
            "/mijn-initiatieven",
            f"/mijn-initiatieven/{objects['idea_draft']}/bewerken",
        ],
    )
    page.get_by_role("button", name="Nederlands").click()
    page.wait_for_load_state()
    axe(page)
