"""From submitted to decided, in browsers of their own for each role.

1. A resident submits; the case officer asks for information; the resident answers; the case
   officer accepts and asks the council for advice; the chair advises positively with a condition;
   the case officer grants (above the four-eyes limit); a second case officer approves; the
   resident finds the decision letter, whose PDF holds the amount, the condition and the
   objection clause.
2. Refusal intent, the resident's view, refusal, an objection in time, well-founded, and a new
   decision.

Every page every role sees passes axe-core (each ``role`` page enforces it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser import conftest as harness
from tests.browser.test_application_flow import APPLICANT_PASSWORD, make_applicant

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "wijkkracht-demo"
OFFICER = "behandelaar@demo.wijkkracht.nl"
SECOND_OFFICER = "behandelaar2@demo.wijkkracht.nl"
CHAIR = "wijkraad@demo.wijkkracht.nl"


def prepared_draft(live_server: Any, email: str, cents: int, title: str) -> int:
    """A complete draft (five demo neighbours endorse it) ready to submit; its id."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.applications import services
    from portal.extensions import db
    from tests.test_applications import make_complete_draft

    with live_server.app.app_context():
        applicant = db.session.scalar(select(User).where(User.email == email))
        neighbours = [
            db.session.scalar(select(User).where(User.email == f"buur{n}@demo.wijkkracht.nl"))
            for n in range(1, 6)
        ]
        draft = make_complete_draft(applicant, neighbours, title=title)
        services.set_lines(
            draft,
            [
                {
                    "description": "Podium en geluid",
                    "category": "huur_spullen",
                    "quantity": 1,
                    "unit_price_cents": cents,
                }
            ],
        )
        db.session.commit()
        draft_id = draft.id
        db.session.remove()
    return draft_id


@pytest.fixture
def role(
    browser: Any, live_server: Any, axe: Any, shot: Any, request: pytest.FixtureRequest
) -> Callable[..., AbstractContextManager[Any]]:
    """``with role(email, password) as page:`` a browser of its own, logged in. Every page it
    shows must pass axe; ``page.check(step)`` takes a screenshot and runs axe."""

    @contextmanager
    def open_page(email: str, password: str = DEMO_PASSWORD) -> Iterator[Any]:
        context, page = harness._new_page(browser, live_server, javascript=True)
        state = harness._state(page)

        def check(step: str) -> None:
            page.wait_for_load_state("load")
            shot(page, f"{email.split('@')[0]}-{step}")
            axe(page)

        page.check = check  # type: ignore[attr-defined]
        try:
            page.goto("/inloggen")
            check("inloggen")
            page.get_by_label("E-mailadres").fill(email)
            page.get_by_label("Wachtwoord", exact=True).fill(password)
            page.locator("main").get_by_role("button", name="Inloggen").click()
            check("start")
            yield page
        except BaseException:
            shot(page, f"{email.split('@')[0]}-failed")
            raise
        finally:
            unchecked = [u for u in state.unchecked() if u != "about:blank"]
            context.close()
            harness._STATES.pop(id(page), None)
        assert not unchecked, f"{email}: pages shown without an axe check: {unchecked}"

    return open_page


def submit(page: Any, draft_id: int) -> str:
    page.goto(f"/aanvragen/{draft_id}/bewerken/indienen")
    page.check("indienen")
    page.get_by_role("button", name="Aanvraag indienen").click()
    page.check("ingediend")
    reference = re.search(r"WB-\d{4}-\d{4}", page.locator("main").inner_text())
    assert reference, page.locator("main").inner_text()
    return reference.group(0)


def open_case(page: Any, reference: str) -> None:
    """Find the application in the work queue by its reference (a bookmarkable filter URL)."""
    page.goto(f"/werkvoorraad?zoek={reference}")
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    page.check("werkvoorraad")
    page.get_by_role("link", name=reference).click()
    page.check("behandeling")


def flash_text(page: Any) -> str:
    return page.locator(".flash").all_inner_texts().__str__()


def test_info_advice_four_eyes_and_the_letter(role: Any, live_server: Any) -> None:
    applicant = make_applicant(live_server, "Ria Rijnders")
    draft_id = prepared_draft(live_server, applicant, 300_000, "Zomerfeest op het Kerkplein")

    with role(applicant, APPLICANT_PASSWORD) as resident:
        reference = submit(resident, draft_id)

        with role(OFFICER) as officer:
            open_case(officer, reference)
            officer.get_by_label("Wat heeft u nog nodig van de aanvrager?").fill(
                "Wilt u de offerte van het podium meesturen?"
            )
            officer.get_by_role("button", name="Vraag om aanvulling versturen").click()
            officer.check("aanvulling-gevraagd")
            assert "De beslistermijn staat stil" in flash_text(officer)

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("aanvulling-gevraagd")
            resident.get_by_role("link", name="Aanvulling sturen").click()
            resident.check("aanvulling")
            resident.get_by_label("Uw antwoord").fill("De offerte komt van Podiumverhuur Twente.")
            resident.get_by_role("button", name="Aanvulling versturen").click()
            resident.check("aanvulling-verstuurd")

            officer.reload()
            officer.check("aanvulling-ontvangen")
            expect(officer.locator("main")).to_contain_text("Podiumverhuur Twente")
            officer.get_by_role("button", name="Compleet: in behandeling nemen").click()
            officer.check("in-behandeling")
            officer.get_by_role("button", name="Adviesvraag versturen").click()
            officer.check("advies-gevraagd")
            assert "Adviesvraag" in flash_text(officer) or "advies" in flash_text(officer)

            with role(CHAIR) as chair:
                chair.goto("/wijkorgaan")
                chair.check("verzoeken")
                chair.get_by_role("link", name=re.compile("Zomerfeest op het Kerkplein")).click()
                chair.check("verzoek")
                body = chair.locator("main").inner_text()
                assert "NL91" not in body and applicant not in body  # no bank or contact
                chair.get_by_label("Positief onder voorwaarden").check()
                chair.get_by_label("Waarom geeft het wijkorgaan dit advies?").fill(
                    "Een mooi feest voor de hele buurt."
                )
                chair.get_by_label(re.compile("Voorwaarden")).fill(
                    "Het plein is om 23.00 uur weer schoon."
                )
                chair.locator("main form").filter(
                    has=chair.get_by_label("Waarom geeft het wijkorgaan dit advies?")
                ).get_by_role("button").click()
                chair.check("advies-gegeven")

            officer.reload()
            officer.check("advies-ontvangen")
            expect(officer.locator("main")).to_contain_text("Positief onder voorwaarden")
            expect(officer.get_by_label(re.compile(r"^Voorwaarden"))).to_have_value(
                "Het plein is om 23.00 uur weer schoon."
            )
            expect(officer.get_by_label("Bedrag dat u toekent")).to_have_value("3000,00")
            officer.get_by_label("Redenen", exact=True).last.fill(
                "Het plan past bij de kaders en heeft steun in de buurt."
            )
            officer.get_by_role("button", name="Besluit vastleggen").click()
            officer.check("voorstel")
            expect(officer.locator("main")).to_contain_text("U kunt uw eigen voorstel niet")

            with role(SECOND_OFFICER) as second:
                open_case(second, reference)
                second.get_by_role("button", name="Goedkeuren en besluit versturen").click()
                second.check("goedgekeurd")

        resident.goto(f"/aanvragen/{draft_id}")
        resident.check("toegekend")
        resident.get_by_role("link", name="Lees het besluit").click()
        resident.check("besluit")
        letter = resident.locator("main").inner_text()
        assert "€ 3.000,00" in letter and "23.00 uur weer schoon" in letter
        with resident.expect_download() as download:
            resident.get_by_role("link", name="Download de brief als PDF").click()
        data = Path(download.value.path()).read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "€ 3.000,00" in text
    assert "Het plein is om 23.00 uur weer schoon." in text
    assert "Bent u het niet eens met dit besluit?" in text and "bezwaar maken" in text


def test_intent_view_refusal_objection_and_a_new_decision(role: Any, live_server: Any) -> None:
    applicant = make_applicant(live_server, "Otto Oosterhof")
    draft_id = prepared_draft(live_server, applicant, 45_000, "Kerstmarkt bij de kerk")

    with role(applicant, APPLICANT_PASSWORD) as resident:
        reference = submit(resident, draft_id)
        with role(OFFICER) as officer:
            open_case(officer, reference)
            officer.get_by_role("button", name="Compleet: in behandeling nemen").click()
            officer.check("in-behandeling")
            officer.get_by_label("Afwijzen", exact=True).first.check()
            officer.get_by_label(re.compile("De activiteit gaat niet")).first.check()
            officer.get_by_label("Redenen", exact=True).first.fill(
                "Op die dag is de kerk niet beschikbaar."
            )
            officer.get_by_role("button", name="Voornemen versturen").click()
            officer.check("voornemen")

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("voornemen")
            resident.get_by_role("link", name="Lees het voornemen en reageer").click()
            resident.check("reactie")
            expect(resident.locator("main")).to_contain_text("Op die dag is de kerk")
            resident.get_by_label("Uw reactie").fill(
                "De koster heeft de kerk voor ons vrijgehouden."
            )
            resident.get_by_role("button", name="Reactie versturen").click()
            resident.check("reactie-verstuurd")

            officer.reload()
            officer.check("reactie-ontvangen")
            expect(officer.locator("main")).to_contain_text("De koster heeft de kerk")
            officer.get_by_label("Afwijzen", exact=True).last.check()
            officer.locator("#besluit-kop ~ form").get_by_label(
                re.compile("De activiteit gaat niet")
            ).check()
            officer.get_by_label("Redenen", exact=True).last.fill("De kerk is op die dag verhuurd.")
            officer.get_by_label("Uw antwoord op de reactie van de aanvrager").fill(
                "Wij belden de kerk: die is verhuurd aan een koor."
            )
            officer.get_by_role("button", name="Besluit vastleggen").click()
            officer.check("afgewezen")

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("afgewezen")
            resident.get_by_role("link", name=re.compile("Bezwaar maken")).click()
            resident.check("bezwaar")
            resident.get_by_label("Waarom bent u het niet eens met het besluit?").fill(
                "Het koor zingt 's ochtends; de markt is 's middags."
            )
            resident.get_by_role("button", name="Bezwaar versturen").click()
            resident.check("bezwaar-verstuurd")
            expect(resident.locator("main")).to_contain_text("Uw bezwaar van")

            officer.reload()
            officer.check("bezwaar-ontvangen")
            officer.get_by_label("Verslag", exact=True).fill(
                "Mevrouw liet het rooster van de kerk zien."
            )
            officer.get_by_role("button", name="Verslag opslaan").click()
            officer.check("hoorzitting")
            officer.get_by_label("Gegrond", exact=True).check()
            officer.locator("#bezwaar-kop ~ form").get_by_label("Redenen", exact=True).fill(
                "De kerk is 's middags vrij."
            )
            officer.get_by_role("button", name="Besluit op bezwaar vastleggen").click()
            officer.check("bezwaar-gegrond")
            officer.get_by_label("Toekennen", exact=True).last.check()
            officer.get_by_label("Redenen", exact=True).last.fill("Na het bezwaar: toegekend.")
            officer.get_by_role("button", name="Besluit vastleggen").click()
            officer.check("nieuw-besluit")

        resident.goto(f"/aanvragen/{draft_id}")
        resident.check("nieuw-besluit")
        expect(resident.locator("main")).to_contain_text("Toegekend: € 450,00")
        timeline = resident.locator(".timeline").inner_text()
        for step in (
            "Voornemen van de gemeente verstuurd",
            "Uw reactie op het voornemen ontvangen",
            "Besluit: afgewezen",
            "Bezwaar ontvangen",
            "Bezwaar gegrond: de gemeente besluit opnieuw",
            "Besluit: toegekend",
        ):
            assert step in timeline, step
