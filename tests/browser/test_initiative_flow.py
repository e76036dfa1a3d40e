"""Kracht van de stad end to end, in browsers of their own for each person.

A resident starts an initiative from "Mijn initiatieven", fills it in, adds a photo and submits
it; the case officer finds it in the initiatives queue, chooses a guide and publishes it; a
visitor who is not signed in finds it in the showcase through the filters and the search, and
reads the guide's name on its page; a neighbour supports it, offers help and comments; the
initiator answers the offer and posts news, which appears on the public timeline; the initiator
reports the neighbour's comment and the case officer hides it, after which no visitor reads it;
and the initiator starts a wijkbudget application from the initiative, filled in with its name
and its photo.

Every page every person sees passes axe-core: each ``role`` and ``visitor`` page enforces it.
The showcase's filters are htmx (each change loads the results and puts the filters in the
address), so the visitor's page is checked after every change as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser import conftest as harness
from tests.browser.test_application_flow import APPLICANT_PASSWORD, make_applicant
from tests.browser.test_review_flow import (
    OFFICER,
    role,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.browser

GUIDE = "Frank de Boer"  # behandelaar2@demo.wijkkracht.nl
TITLE = "Moestuin aan de Kerkstraat"
SLUG = "moestuin-aan-de-kerkstraat"
SEARCH_WORD = "moestuin"
PITCH = "Samen groente kweken op het lege veldje naast de kerk."
DESCRIPTION = (
    "Op het veldje naast de kerk staat alleen onkruid. Wij maken er bakken neer waarin buren "
    "groente en kruiden kweken. De oogst delen we met de voedselbank."
)
CONTACT = "Kom langs op zaterdagochtend bij het veldje, of stuur mij een bericht."
THEME = "Buren die elkaar kennen en helpen"
HELP = "Vrijwilligers"
PHOTO_NAME = "veldje-bij-de-kerk.png"
PHOTO_ALT = "Het lege veldje naast de kerk, met een oude schuur op de achtergrond."
OFFER_WHAT = "Ik heb een motorfrees en kan de grond omspitten."
OFFER_TIME = "Twee zaterdagen in het voorjaar."
COMMENT = "Daar komen alleen maar ratten op af. Zinloos plan van zeurpieten."
REPORT_REASON = "Deze reactie scheldt mensen uit."
HIDE_REASON = "Uw reactie scheldt andere bewoners uit. Dat past niet bij de spelregels."
REPLY = "Graag! Kom zaterdag om tien uur naar het veldje, dan spitten we samen."
NEWS = "De eerste bakken staan er. Zaterdag planten we de tomaten."


def unchecked_pages(state: Any) -> list[str]:
    """The pages shown without an axe check. Before htmx puts new filters in the address it
    saves the current page in the history under its own address (``replaceState``), so every
    change of the filters adds two entries: an entry that repeats the address before it is that
    same page, covered by that page's check."""
    unchecked = []
    covered = False
    for number, url in enumerate(state.navigations):
        repeat = number > 0 and url == state.navigations[number - 1]
        covered = number in state.checked or (repeat and covered)
        if not covered and url != "about:blank":
            unchecked.append(url)
    return unchecked


@pytest.fixture
def visitor(
    browser: Any, live_server: Any, axe: Any, shot: Any
) -> Callable[[str], AbstractContextManager[Any]]:
    """``with visitor(name) as page:`` a browser of its own, not signed in. Like ``role``,
    every page it shows must pass axe; ``page.check(step)`` takes a screenshot and runs axe."""

    @contextmanager
    def open_page(name: str) -> Iterator[Any]:
        context, page = harness._new_page(browser, live_server, javascript=True)
        state = harness._state(page)

        def check(step: str) -> None:
            page.wait_for_load_state("load")
            shot(page, f"{name}-{step}")
            axe(page)

        page.check = check  # type: ignore[attr-defined]
        try:
            yield page
        except BaseException:
            shot(page, f"{name}-failed")
            raise
        finally:
            unchecked = unchecked_pages(state)
            context.close()
            harness._STATES.pop(id(page), None)
        assert not unchecked, f"{name}: pages shown without an axe check: {unchecked}"

    return open_page


def nav_link(page: Any, name: str) -> Any:
    return page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name=name, exact=True
    )


def flash(page: Any) -> Any:
    return page.locator(".flash")


def filter_showcase(page: Any, step: str, action: Callable[[], None], address: str) -> None:
    """Change one filter: htmx loads the results and puts the filters in the address (a new
    entry in the history, so the page is checked again)."""
    action()
    expect(page).to_have_url(re.compile(address))
    page.check(f"etalage-{step}")


def stored_facts(live_server: Any, initiative_id: int) -> dict[str, Any]:
    """What the database holds for the initiative at the end of the flow."""
    from sqlalchemy import func, select

    from portal.applications.models import Application
    from portal.extensions import db
    from portal.initiatives.models import (
        Comment,
        HelpOffer,
        Initiative,
        InitiativeMessage,
        InitiativeUpdate,
        Support,
    )

    def count(model: Any) -> int:
        return int(
            db.session.scalar(
                select(func.count()).select_from(model).where(model.initiative_id == initiative_id)
            )
            or 0
        )

    with live_server.app.app_context():
        initiative = db.session.get(Initiative, initiative_id)
        assert initiative is not None
        comments = db.session.scalars(
            select(Comment).where(Comment.initiative_id == initiative_id)
        ).all()
        messages = db.session.scalars(
            select(InitiativeMessage).where(InitiativeMessage.initiative_id == initiative_id)
        ).all()
        offers = db.session.scalars(
            select(HelpOffer).where(HelpOffer.initiative_id == initiative_id)
        ).all()
        facts = {
            "state": str(initiative.state),
            "published": initiative.published_at is not None,
            "guide": initiative.guide.name if initiative.guide else None,
            "initiator": initiative.initiator.email,
            "slug": initiative.slug,
            "support_count": initiative.support_count,
            "supports": count(Support),
            "offers": [(o.user.email, o.kind, o.what, o.time_available) for o in offers],
            "comments": [(c.author.email, c.body, c.hidden_at is not None) for c in comments],
            "hidden_reasons": [c.hidden_reason for c in comments],
            "messages": [
                (m.sender.email, m.recipient.email, m.body, m.help_offer_id is not None)
                for m in messages
            ],
            "updates": [
                (u.body, u.author.email if u.author else None)
                for u in db.session.scalars(
                    select(InitiativeUpdate).where(
                        InitiativeUpdate.initiative_id == initiative_id,
                        InitiativeUpdate.kind == "update",
                    )
                )
            ],
            "applications": [
                (a.applicant.email, a.title, str(a.state), [x.display_name for x in a.attachments])
                for a in db.session.scalars(
                    select(Application).where(Application.initiative_id == initiative_id)
                )
            ],
        }
        db.session.remove()
    return facts


def test_initiative_from_draft_to_showcase_help_moderation_and_wijkbudget(
    role: Any,  # noqa: F811
    visitor: Any,
    live_server: Any,
    tmp_path: Any,
) -> None:
    initiator = make_applicant(live_server, "Ilse Initiatief")
    neighbour = make_applicant(live_server, "Bart Buurman")
    photo = tmp_path / PHOTO_NAME
    Image.new("RGB", (320, 200), (70, 140, 60)).save(photo, format="PNG")

    with role(initiator, APPLICANT_PASSWORD) as resident:
        # 1. A draft from "Mijn initiatieven": the form, a photo, and submitting it.
        nav_link(resident, "Mijn initiatieven").click()
        resident.check("mijn-initiatieven-leeg")
        expect(resident.locator("main")).to_contain_text("U heeft nog geen initiatieven")
        resident.get_by_role("button", name="Nieuw initiatief").click()
        resident.check("nieuw")
        expect(resident.get_by_role("heading", level=1)).to_have_text("Nieuw initiatief")
        resident.get_by_label("Naam van uw initiatief").fill(TITLE)
        resident.get_by_label("Uw initiatief in één zin").fill(PITCH)
        resident.get_by_label("Vertel meer over uw initiatief").fill(DESCRIPTION)
        # The initiator's own district is chosen to start with.
        expect(resident.get_by_label("Glanerbrug", exact=True)).to_be_checked()
        resident.get_by_label(THEME, exact=True).check()
        resident.get_by_label(HELP, exact=True).check()
        resident.get_by_label(re.compile("^Hoe kunnen mensen met u in contact komen")).fill(CONTACT)
        resident.get_by_role("button", name="Opslaan", exact=True).click()
        resident.check("opgeslagen")
        expect(flash(resident)).to_contain_text("Opgeslagen.")
        expect(resident.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(resident.get_by_label("Naam van uw initiatief")).to_have_value(TITLE)

        resident.get_by_label("Foto", exact=True).set_input_files(str(photo))
        resident.get_by_label("Wat staat er op de foto?").fill(PHOTO_ALT)
        resident.get_by_role("button", name="Foto toevoegen").click()
        resident.check("foto-toegevoegd")
        expect(flash(resident)).to_contain_text("De foto is toegevoegd")
        # Without Redis the photo is cleaned in-process: it is shown with its description.
        expect(resident.get_by_role("img", name=PHOTO_ALT)).to_be_visible()

        resident.get_by_role("button", name="Opslaan en indienen").click()
        resident.check("indienen")
        expect(resident.get_by_role("heading", level=1)).to_have_text("Initiatief indienen")
        summary = resident.locator("main .details-list")
        for fact in (TITLE, PITCH, "Glanerbrug", THEME, HELP, CONTACT):
            expect(summary).to_contain_text(fact)
        resident.get_by_role("button", name="Indienen", exact=True).click()
        resident.check("ingediend")
        expect(flash(resident)).to_contain_text("Uw initiatief is ingediend.")
        expect(resident.locator("main .details-list").first).to_contain_text(
            "Ingediend, wordt bekeken"
        )
        expect(resident.locator("main")).to_contain_text("De gemeente bekijkt uw initiatief.")
        found = re.search(r"/mijn-initiatieven/(\d+)$", resident.url)
        assert found, resident.url
        initiative_id = int(found.group(1))

        # 2. The case officer checks it, chooses a guide and publishes it.
        with role(OFFICER) as officer:
            nav_link(officer, "Initiatieven beoordelen").click()
            officer.check("initiatieven")
            expect(officer.locator("#initiatieven-resultaten")).to_contain_text("Ilse Initiatief")
            officer.get_by_role("link", name=TITLE).click()
            officer.check("beoordelen")
            expect(officer).to_have_url(re.compile(rf"/behandeling/initiatieven/{initiative_id}$"))
            expect(officer.locator("main")).to_contain_text(DESCRIPTION)
            expect(officer.get_by_role("img", name=PHOTO_ALT)).to_be_visible()
            officer.get_by_label("Begeleider", exact=True).select_option(label=GUIDE)
            officer.get_by_role("button", name="Begeleider opslaan").click()
            officer.check("begeleider")
            expect(flash(officer)).to_contain_text(f"{GUIDE} is nu de begeleider")
            officer.get_by_role("button", name="Publiceren: online zetten").click()
            officer.check("gepubliceerd")
            expect(flash(officer)).to_contain_text("Het initiatief staat nu online.")
            expect(officer.locator("main .details-list").first).to_contain_text("Gepubliceerd")

            # 3. Anyone finds it in the showcase through the filters and the search.
            with visitor("bezoeker") as anyone:
                anyone.goto("/")
                anyone.check("home")
                nav_link(anyone, "Initiatieven").click()
                anyone.check("etalage")
                expect(anyone.get_by_role("heading", level=1)).to_have_text(
                    "Initiatieven van bewoners"
                )
                filter_showcase(
                    anyone,
                    "wijk",
                    lambda: anyone.get_by_label("Wijk", exact=True).select_option(
                        label="Glanerbrug"
                    ),
                    "wijk=glanerbrug",
                )
                filter_showcase(
                    anyone,
                    "thema",
                    lambda: anyone.get_by_label("Thema", exact=True).select_option(label=THEME),
                    "thema=sociale_samenhang",
                )
                results = anyone.locator("#initiatieven-resultaten")
                # Help it does not ask for: nothing found, with a way back.
                filter_showcase(
                    anyone,
                    "hulp-ruimte",
                    lambda: anyone.get_by_label("Zoekt hulp", exact=True).select_option(
                        label="Een ruimte"
                    ),
                    "hulp=space",
                )
                expect(results).to_contain_text("Geen initiatief past bij uw keuze")
                expect(results.get_by_role("link", name=TITLE)).to_have_count(0)
                filter_showcase(
                    anyone,
                    "hulp",
                    lambda: anyone.get_by_label("Zoekt hulp", exact=True).select_option(label=HELP),
                    "hulp=volunteers",
                )
                filter_showcase(
                    anyone,
                    "zoek",
                    lambda: anyone.get_by_label("Zoek in naam en korte omschrijving").fill(
                        SEARCH_WORD
                    ),
                    f"zoek={SEARCH_WORD}",
                )
                # The button sends the same filters once more (leaving the search box sends
                # them too); wait until htmx has no request left before looking.
                anyone.get_by_role("button", name="Zoeken", exact=True).click()
                expect(anyone.get_by_role("search")).not_to_have_class(re.compile("htmx-request"))
                anyone.check("etalage-gefilterd")
                expect(results).to_contain_text("1 initiatief gevonden")
                card = results.locator(".initiative-card")
                expect(card).to_have_count(1)
                expect(card).to_contain_text(PITCH)
                expect(card).to_contain_text("0 mensen steunen dit")
                expect(card.get_by_role("img", name=PHOTO_ALT)).to_be_visible()
                card.get_by_role("link", name=TITLE).click()
                anyone.check("initiatief")
                expect(anyone).to_have_url(live_server(f"/initiatieven/{initiative_id}-{SLUG}"))
                details = anyone.locator("main .initiative-details")
                expect(details).to_contain_text("Begeleider van de gemeente")
                expect(details).to_contain_text(GUIDE)
                expect(details).to_contain_text("Ilse Initiatief")
                expect(
                    anyone.get_by_role("link", name="Log in om dit initiatief te steunen")
                ).to_be_visible()

            # 4. A neighbour supports it, offers help and comments.
            with role(neighbour, APPLICANT_PASSWORD) as buur:
                nav_link(buur, "Initiatieven").click()
                buur.check("etalage")
                buur.get_by_role("link", name=TITLE).click()
                buur.check("initiatief")
                support = buur.locator("#steun")
                expect(support).to_contain_text("0 mensen steunen dit initiatief")
                buur.get_by_role("button", name="Ik steun dit initiatief").click()
                expect(support).to_contain_text("1 persoon steunt dit initiatief")
                expect(support).to_contain_text("U steunt dit initiatief.")
                expect(buur.get_by_role("button", name="Steun intrekken")).to_be_visible()
                buur.check("gesteund")

                buur.get_by_text("Hulp aanbieden", exact=True).click()
                offer = buur.locator("#hulp-aanbieden")
                offer.get_by_label(HELP, exact=True).check()
                offer.get_by_label("Wat kunt u doen of geven?").fill(OFFER_WHAT)
                offer.get_by_label(re.compile("^Hoeveel tijd heeft u")).fill(OFFER_TIME)
                offer.get_by_role("button", name="Aanbod versturen").click()
                buur.check("hulp-aangeboden")
                expect(flash(buur)).to_contain_text("Bedankt voor uw aanbod!")
                expect(buur.locator("#steun")).to_contain_text("1 persoon steunt dit initiatief")

                buur.get_by_label("Uw reactie").fill(COMMENT)
                buur.get_by_role("button", name="Reactie plaatsen").click()
                buur.check("gereageerd")
                expect(flash(buur)).to_contain_text("Uw reactie staat op de pagina.")
                expect(buur.locator("ol.comments")).to_contain_text(COMMENT)

            # 5. The initiator reads the offer, answers it and posts news.
            nav_link(resident, "Mijn initiatieven").click()
            resident.check("mijn-initiatieven")
            row = resident.get_by_role("row").filter(has_text=TITLE)
            expect(row).to_contain_text("Gepubliceerd")
            expect(row).to_contain_text("1 persoon")
            resident.get_by_role("link", name=TITLE).click()
            resident.check("eigen-pagina")
            expect(resident).to_have_url(live_server(f"/mijn-initiatieven/{initiative_id}"))
            expect(resident.locator("main .details-list").first).to_contain_text(
                "1 persoon steunt uw initiatief"
            )
            offered = resident.get_by_role("region", name="Bart Buurman biedt aan: Vrijwilligers")
            expect(offered).to_contain_text(OFFER_WHAT)
            expect(offered).to_contain_text(OFFER_TIME)
            offered.get_by_label("Uw antwoord aan Bart Buurman").fill(REPLY)
            offered.get_by_role("button", name="Antwoord versturen").click()
            resident.check("geantwoord")
            expect(flash(resident)).to_contain_text(
                "Uw antwoord is doorgestuurd naar Bart Buurman."
            )
            expect(
                resident.get_by_role("region", name="Bart Buurman biedt aan: Vrijwilligers")
            ).to_contain_text(REPLY)

            resident.get_by_label("Uw nieuws").fill(NEWS)
            resident.get_by_role("button", name="Nieuws plaatsen").click()
            resident.check("nieuws")
            expect(flash(resident)).to_contain_text("Uw nieuws staat op de tijdlijn")
            resident.get_by_role("link", name="Bekijk de openbare pagina van uw initiatief").click()
            resident.check("openbaar")
            timeline = resident.locator("ol.initiative-timeline")
            expect(timeline).to_contain_text("Nieuws van de initiatiefnemer")
            expect(timeline).to_contain_text(NEWS)
            expect(timeline).to_contain_text("Status: Gepubliceerd")

            # 6. The initiator reports the comment; the case officer hides it.
            comment = resident.locator("ol.comments li.comment").filter(has_text=COMMENT)
            comment.get_by_role("link", name=re.compile("^Melden")).click()
            resident.check("melden")
            expect(resident.locator("main blockquote")).to_have_text(COMMENT)
            resident.get_by_label(re.compile("^Waarom meldt u deze reactie")).fill(REPORT_REASON)
            resident.get_by_role("button", name="Reactie melden").click()
            resident.check("gemeld")
            expect(flash(resident)).to_contain_text("Bedankt voor uw melding.")
            expect(
                resident.locator("ol.comments li.comment").filter(has_text=COMMENT)
            ).to_contain_text("U heeft deze reactie gemeld.")

            nav_link(officer, "Initiatieven beoordelen").click()
            officer.check("initiatieven-na-publicatie")
            officer.get_by_role("link", name="Gemelde en verborgen reacties").click()
            officer.check("reacties")
            reported = officer.get_by_role("region", name="Reactie van Bart Buurman")
            expect(reported).to_contain_text(COMMENT)
            expect(reported).to_contain_text("1 open melding")
            expect(reported).to_contain_text(REPORT_REASON)
            reported.get_by_role("link", name="Verbergen…").click()
            officer.check("verbergen")
            expect(officer.locator("main blockquote")).to_have_text(COMMENT)
            officer.get_by_label("Waarom verbergt u deze reactie?").fill(HIDE_REASON)
            officer.get_by_role("button", name="Ja, verbergen").click()
            officer.check("verborgen")
            expect(flash(officer)).to_contain_text("De reactie is verborgen.")
            expect(officer.locator("main")).to_contain_text("Er zijn geen open meldingen.")

        with visitor("bezoeker-na-moderatie") as anyone:
            anyone.goto(f"/initiatieven/{initiative_id}-{SLUG}")
            anyone.check("initiatief")
            expect(anyone.get_by_role("heading", level=1)).to_have_text(TITLE)
            expect(anyone.locator("ol.initiative-timeline")).to_contain_text(NEWS)
            expect(anyone.locator("#steun")).to_contain_text("1 persoon steunt dit initiatief")
            expect(anyone.locator("main")).to_contain_text("Nog geen reacties.")
            expect(anyone.locator("main")).not_to_contain_text(COMMENT)

        # 7. A wijkbudget application, filled in from the initiative.
        nav_link(resident, "Mijn initiatieven").click()
        resident.check("mijn-initiatieven-wijkbudget")
        resident.get_by_role("link", name=TITLE).click()
        resident.check("eigen-pagina-wijkbudget")
        resident.get_by_role("button", name="Wijkbudget aanvragen voor dit initiatief").click()
        resident.check("aanvraag")
        expect(resident).to_have_url(re.compile(r"/aanvragen/\d+/bewerken/activiteit$"))
        expect(resident.get_by_label("Naam van uw plan")).to_have_value(TITLE)
        expect(resident.get_by_label("Wat wilt u doen?")).to_have_value(f"{PITCH}\n\n{DESCRIPTION}")
        expect(resident.get_by_label(THEME, exact=True)).to_be_checked()
        resident.get_by_role("navigation", name="Onderdelen van de aanvraag").get_by_role(
            "link", name=re.compile("Bijlagen")
        ).click()
        resident.check("aanvraag-bijlagen")
        expect(resident.get_by_role("table", name="Toegevoegde bestanden")).to_contain_text(
            PHOTO_NAME
        )

    facts = stored_facts(live_server, initiative_id)
    assert facts["state"] == "published" and facts["published"], facts
    assert facts["guide"] == GUIDE and facts["slug"] == SLUG, facts
    assert facts["supports"] == 1 and facts["support_count"] == 1, facts
    assert facts["offers"] == [(neighbour, "volunteers", OFFER_WHAT, OFFER_TIME)], facts
    assert facts["comments"] == [(neighbour, COMMENT, True)], facts
    assert facts["hidden_reasons"] == [HIDE_REASON], facts
    assert facts["messages"] == [(initiator, neighbour, REPLY, True)], facts
    assert facts["updates"] == [(NEWS, initiator)], facts
    assert facts["applications"] == [(initiator, TITLE, "draft", [PHOTO_NAME])], facts
