"""The money after a grant, in browsers of their own: the advance is batched and paid, the
resident accounts with a receipt, the case officer sets a lower amount after the resident's
view, and finance marks the recovery received. Every page passes axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_application_flow import APPLICANT_PASSWORD, make_applicant
from tests.browser.test_review_flow import (
    CHAIR,
    OFFICER,
    open_case,
    prepared_draft,
    role,  # noqa: F401  (the fixture)
    submit,
)
from tests.conftest import TINY_PDF

pytestmark = pytest.mark.browser

FINANCE = "financien@demo.wijkkracht.nl"


def test_advance_accounting_lower_settlement_and_recovery(
    role: Any,  # noqa: F811
    live_server: Any,
    tmp_path: Any,
) -> None:
    applicant = make_applicant(live_server, "Gerda Geldzaken")
    draft_id = prepared_draft(live_server, applicant, 150_000, "Buurtfeest met podium")
    receipt = tmp_path / "bon-podium.pdf"
    receipt.write_bytes(TINY_PDF)

    with role(applicant, APPLICANT_PASSWORD) as resident, role(OFFICER) as officer:
        reference = submit(resident, draft_id)
        open_case(officer, reference)
        officer.get_by_role("button", name="Compleet: in behandeling nemen").click()
        officer.check("in-behandeling")
        officer.get_by_role("button", name="Adviesvraag versturen").click()
        officer.check("advies-gevraagd")
        with role(CHAIR) as chair:
            chair.goto("/wijkorgaan")
            chair.check("verzoeken")
            chair.get_by_role("link", name=re.compile("Buurtfeest met podium")).click()
            chair.check("verzoek")
            chair.get_by_label("Positief", exact=True).check()
            chair.get_by_label("Waarom geeft het wijkorgaan dit advies?").fill("Goed plan.")
            chair.locator("main form").filter(
                has=chair.get_by_label("Waarom geeft het wijkorgaan dit advies?")
            ).get_by_role("button").click()
            chair.check("advies-gegeven")
        officer.reload()
        officer.check("advies-ontvangen")
        officer.get_by_label("Redenen", exact=True).last.fill("Past bij de kaders.")
        officer.get_by_role("button", name="Besluit vastleggen").click()
        officer.check("toegekend")

        # The advance (80%) is batched by the case officer, approved and paid by finance.
        officer.get_by_role("link", name="Betalingen").click()
        officer.check("betalingen")
        expect(officer.locator("main")).to_contain_text(f"{reference}-1")
        officer.get_by_role("button", name="Nieuwe batch klaarzetten").click()
        officer.check("batch")
        with role(FINANCE) as finance:
            finance.goto("/betalingen")
            finance.check("betalingen")
            finance.get_by_role("link", name=re.compile(r"Batch \d+")).first.click()
            finance.check("batch")
            finance.get_by_role("button", name="Batch goedkeuren").click()
            finance.check("goedgekeurd")
            with finance.expect_download() as download:
                finance.get_by_role("link", name=re.compile("Betaalbestand downloaden")).click()
            assert "pain.001" in download.value.path().read_text(encoding="utf-8")[:400]
            finance.get_by_role("link", name="Markeren als betaald…").click()
            finance.check("betaald-bevestigen")
            finance.get_by_role("button", name="Ja, de batch is betaald").click()
            finance.check("betaald")

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("voorschot-betaald")
            expect(resident.locator("main")).to_contain_text("€ 1.200,00")
            resident.get_by_role("link", name="Verantwoording sturen").click()
            resident.check("verantwoording")
            resident.get_by_label("Wat is er gebeurd?").fill("Tachtig buren kwamen naar het feest.")
            resident.get_by_label(re.compile("Podium en geluid")).fill("1.000,00")
            resident.get_by_label("Bonnen, facturen en foto's").set_input_files(str(receipt))
            resident.get_by_role("button", name="Verantwoording versturen").click()
            resident.check("verantwoording-verstuurd")

            officer.goto(f"/behandeling/{draft_id}")
            officer.check("verantwoording-ontvangen")
            expect(officer.locator("main")).to_contain_text("Tachtig buren")
            officer.get_by_label("Vast te stellen bedrag").fill("1.000,00")
            officer.get_by_label(re.compile("Redenen \\(nodig")).fill(
                "U gaf 1.000 euro uit, niet 1.500 euro."
            )
            officer.get_by_role("button", name="Bedrag vaststellen").click()
            officer.check("voornemen-lager")

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("voornemen-lager")
            resident.get_by_role("link", name=re.compile("Lees waarom en reageer")).click()
            resident.check("reactie")
            resident.get_by_label("Uw reactie").fill("Dat klopt: de tent was goedkoper.")
            resident.get_by_role("button", name="Reactie versturen").click()
            resident.check("reactie-verstuurd")

            officer.reload()
            officer.check("reactie-ontvangen")
            officer.get_by_role("button", name="Definitief vaststellen").click()
            officer.check("vastgesteld")

            resident.goto(f"/aanvragen/{draft_id}")
            resident.check("terugbetalen")
            expect(resident.locator("main")).to_contain_text("U kreeg € 200,00 te veel")

            finance.goto("/betalingen")
            finance.check("terugvorderingen")
            finance.get_by_role("button", name=f"Ontvangen: {reference}-T").click()
            finance.check("ontvangen")

        resident.goto(f"/aanvragen/{draft_id}")
        resident.check("gesloten")
        expect(resident.locator("main")).to_contain_text(
            "Uw terugbetaling van € 200,00 is ontvangen"
        )
        officer.goto(f"/behandeling/{draft_id}")
        officer.check("gesloten")
        expect(officer.locator("main")).to_contain_text("Dossier gesloten")
