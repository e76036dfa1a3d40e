"""Applying for a wijkbudget end to end in Chromium: a resident fills in every section, five
neighbours endorse the plan from the shared link in their own browsers, the resident submits and
gets a reference, a decision deadline and a receipt; by keyboard only (with axe on every page,
the error state included), without JavaScript, after an expired session, and with autosave.

Keyboard only means Tab, Shift+Tab, typing, Enter, Space and the arrow keys. ``page.goto`` is
used for the starting URL and, once per neighbour, to open the shared link in that neighbour's
own browser. Two things are not keys, and only these:

* picking a file: Space on the focused file input opens the file chooser (that is the keyboard
  part); choosing a file in the operating system's dialog is done with ``FileChooser.set_files``,
  because headless Chromium has no dialog to type in;
* waiting: the count of endorsements grows by the page's own htmx poll, and the budget totals by
  autosave; the test waits for them with ``expect``.

Each test has its own applicant (a resident in Glanerbrug with its own address), so that the
demo neighbours ``buur1`` to ``buur5`` can endorse every application once.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from PIL import Image
from playwright.sync_api import expect

from tests.browser import conftest as harness

pytestmark = pytest.mark.browser

Checkpoint = Callable[[Any, str], None]

APPLICANT_PASSWORD = "lange-zin-voor-de-aanvrager-42"
DEMO_PASSWORD = "wijkkracht-demo"
NEIGHBOURS = [f"buur{n}@demo.wijkkracht.nl" for n in range(1, 6)]
GLANERBRUG = "7533AB"
REFERENCE = re.compile(r"WB-\d{4}-\d{4}")
DUTCH_DATE = (
    r"\d{1,2} (?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
    r"|november|december) \d{4}"
)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

TITLE = "Buurtbarbecue Glanerbrug"
DESCRIPTION = "Een middag samen eten op het pleintje, voor alle buren van jong tot oud."
LOCATION = "Pleintje aan de Kerkstraat"
CONTRIBUTION = "Wij zetten zelf de tafels neer en maken de soep."
IBAN = "NL91 ABNA 0417 1643 00"
HOLDER = "Stichting Buurtbarbecue"
# (description, keys that choose the category, its value, quantity, unit price): 390 euro.
LINES = [
    ("Huur partytent", ["H", "u", "u", "r", "ArrowDown"], "huur_spullen", "1", "250,00"),
    ("Koffie, thee en soep", ["E", "t", "e", "n"], "eten_drinken", "60", "1,50"),
    ("Flyers voor de buurt", ["D", "r", "u"], "drukwerk", "200", "0,25"),
]
TOTAL = "€ 390,00"


# --- applicants ----------------------------------------------------------------------------------

_house_numbers = itertools.count(301)


def make_applicant(live_server: Any, name: str) -> str:
    """A verified resident of Glanerbrug with an address of its own; returns the e-mail.

    Like ``live_resident``, but every applicant gets a different house number: an endorsement
    counts once per household, and no applicant should share one with another."""
    from portal.accounts.models import User, UserRole
    from portal.accounts.passwords import hash_password
    from portal.districts.services import district_for_postcode
    from portal.extensions import db
    from portal.timeutil import utcnow

    email = f"aanvrager-{uuid.uuid4().hex[:10]}@example.org"
    with live_server.app.app_context():
        district = district_for_postcode(GLANERBRUG)
        assert district is not None and district.name == "Glanerbrug"
        user = User(
            name=name,
            email=email,
            password_hash=hash_password(APPLICANT_PASSWORD),
            postcode=GLANERBRUG,
            house_number=str(next(_house_numbers)),
            district=district,
            adult_confirmed_at=utcnow(),
            email_verified_at=utcnow(),
        )
        user.role_links.append(UserRole(role="resident"))
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    return email


def stored_application(live_server: Any, application_id: int) -> dict[str, Any]:
    """What the database holds for the application (to compare with what the pages show)."""
    from portal.applications.models import Application
    from portal.extensions import db

    with live_server.app.app_context():
        application = db.session.get(Application, application_id)
        assert application is not None
        found = {
            "state": str(application.state),
            "reference": application.reference,
            "decision_deadline": application.decision_deadline,
            "title": application.title,
            "total_cents": application.total_cents,
            "lines": len(application.lines),
            "attachments": len(application.attachments),
        }
        db.session.remove()
    return found


def activity_dates() -> tuple[date, date]:
    """A start and end date well past the six weeks' lead time, each with day == month, so that
    typing ``ddmmyyyy`` gives the same date whatever order the date input's fields are in."""
    year = date.today().year + 1
    return date(year, 6, 6), date(year, 7, 7)


def typed_date(day: date) -> str:
    return f"{day.day:02d}{day.month:02d}{day.year}"


def png_file() -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
    return {
        "name": "schets-van-het-plein.png",
        "mimeType": "image/png",
        "buffer": buffer.getvalue(),
    }


def dutch_date(day: date) -> str:
    return format_date(day, "d MMMM y", locale="nl")


# --- keyboard helpers ----------------------------------------------------------------------------

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const row = el.closest('tr');
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id || '',
        type: el.getAttribute('type') || '',
        name: el.getAttribute('name') || '',
        value: el.value === undefined ? '' : String(el.value),
        href: el.getAttribute('href') || '',
        text: (el.innerText || el.textContent || '').trim(),
        row: row ? row.innerText : '',
        checked: el.checked === true,
        readonly: el.readOnly === true,
    };
}"""


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(FOCUSED) or {}


def tab_to(
    page: Any, wanted: Callable[[dict[str, Any]], bool], what: str, limit: int = 120
) -> dict[str, Any]:
    """Press Tab until the focused element is ``wanted``; fail after ``limit`` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element and wanted(element):
            return element
        seen.append(element and (element["tag"], element["id"] or element["text"][:30]))
    raise AssertionError(f"Tab never reached {what}; focus went through {seen}")


def link(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["tag"] == "a" and el["text"] == text


def button(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["tag"] == "button" and el["text"] == text


def field_id(ident: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["id"] == ident


def shift_tab_to(
    page: Any, wanted: Callable[[dict[str, Any]], bool], what: str, limit: int = 120
) -> dict[str, Any]:
    """Press Shift+Tab until the focused element is ``wanted``."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab")
        element = focused(page)
        if element and wanted(element):
            return element
        seen.append(element and (element["tag"], element["id"] or element["text"][:30]))
    raise AssertionError(f"Shift+Tab never reached {what}; focus went through {seen}")


def let_autosave_finish(page: Any) -> None:
    """Autosave posts 1.5 s after the last keystroke, and at once on a change. Wait until no such
    post is pending or running before a button posts the same form: two saves of the budget at
    the same time can leave duplicate lines (a server bug: services.set_lines() deletes and
    re-inserts the lines with nothing that serialises two saves of one application)."""
    page.wait_for_timeout(1_700)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def press_and_wait(page: Any, key: str) -> Any:
    """Press a key that leads to a new page; return the response of that navigation."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    page.wait_for_load_state("load")
    return navigation.value


def next_field(page: Any, ident: str) -> None:
    """One Tab must bring the focus to ``ident`` (the fields come in reading order)."""
    page.keyboard.press("Tab")
    assert focused(page).get("id") == ident, focused(page)


def type_into(page: Any, ident: str, text: str) -> None:
    """Tab to the field ``ident`` and type ``text``."""
    tab_to(page, field_id(ident), f"the field #{ident}")
    page.keyboard.type(text)


def type_date(page: Any, ident: str, day: date) -> None:
    tab_to(page, field_id(ident), f"the date field #{ident}")
    page.keyboard.type(typed_date(day))
    assert page.locator(f"#{ident}").input_value() == day.isoformat()


def log_in_by_keyboard(page: Any, email: str, password: str) -> Any:
    """On the login page: Tab to the e-mail field, type both, press Enter."""
    type_into(page, "email", email)
    next_field(page, "password")
    page.keyboard.type(password)
    return press_and_wait(page, "Enter")


def h1(page: Any) -> str:
    return page.locator("h1").inner_text().strip()


def flashes(page: Any) -> str:
    return page.locator("#meldingen").inner_text()


def current_step(page: Any) -> str:
    return page.locator(".steps-nav [aria-current='step']").inner_text().strip()


def application_id_from(url: str) -> int:
    found = re.search(r"/aanvragen/(\d+)/", url)
    assert found, url
    return int(found.group(1))


class Steps:
    """Numbered checkpoints: screenshot (and axe with JavaScript on) at every step."""

    def __init__(self, checkpoint: Checkpoint, page: Any, prefix: str = "") -> None:
        self.checkpoint = checkpoint
        self.page = page
        self.prefix = prefix
        self.count = 0

    def __call__(self, name: str) -> None:
        self.count += 1
        self.checkpoint(self.page, f"{self.prefix}{self.count:02d}-{name}")


# --- neighbours in browsers of their own ---------------------------------------------------------


@pytest.fixture
def neighbour_browser(
    browser: Any, live_server: Any, request: pytest.FixtureRequest
) -> Callable[..., AbstractContextManager[Any]]:
    """``with neighbour_browser(javascript=True) as page:`` a new browser context (its own
    cookies, not the applicant's). With JavaScript on, every page it shows must pass axe."""

    @contextmanager
    def open_page(javascript: bool = True) -> Iterator[Any]:
        context, page = harness._new_page(browser, live_server, javascript=javascript)
        state = harness._state(page)
        try:
            yield page
        finally:
            context.close()
            harness._STATES.pop(id(page), None)
        if javascript:
            unchecked = [u for u in state.unchecked() if u != "about:blank"]
            assert not unchecked, f"neighbour pages shown without an axe check: {unchecked}"

    return open_page


def endorse_by_keyboard(page: Any, share_link: str, email: str, steps: Steps) -> None:
    """A neighbour opens the link, logs in from there, is taken back and supports the plan."""
    page.goto(share_link)
    assert h1(page) == "Steun het plan van uw buren"
    assert TITLE in page.locator("main").inner_text()
    steps("steunpagina")
    tab_to(page, lambda el: el["tag"] == "a" and "Log in" in el["text"], "the link Log in")
    press_and_wait(page, "Enter")
    assert h1(page) == "Inloggen"
    steps("inloggen")
    log_in_by_keyboard(page, email, DEMO_PASSWORD)
    assert page.url == share_link, "after logging in, the neighbour is back on the shared page"
    assert "U steunt dit plan als" in page.locator("main").inner_text()
    steps("ingelogd")
    tab_to(page, button("Ik steun dit plan"), "the button Ik steun dit plan")
    press_and_wait(page, "Enter")
    assert "Dank u wel! Uw steun is geteld." in flashes(page)
    steps("gesteund")


# --- the tests -----------------------------------------------------------------------------------


def test_resident_applies_by_keyboard_only(
    page: Any,
    live_server: Any,
    checkpoint: Checkpoint,
    neighbour_browser: Callable[..., AbstractContextManager[Any]],
) -> None:
    applicant = make_applicant(live_server, "Karin Toetsenbord")
    step = Steps(checkpoint, page)
    start, end = activity_dates()
    # Listening from the start makes Playwright intercept file choosers before one opens; with
    # only expect_file_chooser() around the key press, the interception sometimes came too late
    # and the chooser was never reported (a known Playwright/CDP race).
    choosers: list[Any] = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))

    page.goto("/")
    step("start")
    tab_to(page, link("Inloggen"), "the link Inloggen")
    press_and_wait(page, "Enter")
    assert h1(page) == "Inloggen"
    step("inloggen")
    log_in_by_keyboard(page, applicant, APPLICANT_PASSWORD)
    assert h1(page) == "Mijn aanvragen"
    step("mijn-aanvragen")

    tab_to(page, button("Nieuwe aanvraag voor wijkbudget"), "the button Nieuwe aanvraag")
    press_and_wait(page, "Enter")
    assert page.url.endswith("/bewerken/activiteit"), page.url
    application_id = application_id_from(page.url)
    assert current_step(page) == "1. Activiteit"
    step("activiteit-leeg")

    # 1. Activiteit: the fields in reading order; two goals ticked with Space.
    type_into(page, "title", TITLE)
    next_field(page, "description")
    page.keyboard.type(DESCRIPTION)
    tab_to(page, field_id("kaders-5"), "the goal Prettig wonen in de wijk")
    page.keyboard.press("Space")
    next_field(page, "kaders-6")
    page.keyboard.press("Space")
    assert page.get_by_label("Prettig wonen in de wijk").is_checked()
    assert page.get_by_label("Buren die elkaar kennen en helpen").is_checked()
    type_date(page, "start_date", start)
    type_date(page, "end_date", end)
    type_into(page, "location", LOCATION)
    next_field(page, "expected_participants")
    page.keyboard.type("80")
    next_field(page, "volunteers")
    page.keyboard.type("6")
    next_field(page, "own_contribution")
    page.keyboard.type(CONTRIBUTION)
    step("activiteit-ingevuld")
    tab_to(page, button("Opslaan en verder"), "the button Opslaan en verder")
    press_and_wait(page, "Enter")
    assert current_step(page) == "2. Begroting"
    assert h1(page).startswith(TITLE)
    step("begroting-leeg")

    # 2. Begroting: three lines; the second and third added with "Kostenpost toevoegen" (htmx
    # swaps the budget in place and keeps the focus on that button; Shift+Tab leads back to the
    # new line). Categories are chosen by typing letters and the arrow keys.
    for index, (text, keys, category, quantity, price) in enumerate(LINES):
        if index > 0:
            tab_to(page, button("Kostenpost toevoegen"), "the button Kostenpost toevoegen")
            let_autosave_finish(page)
            page.keyboard.press("Enter")
            expect(page.locator(f"#lines-{index}-description")).to_be_attached()
            assert page.locator(".budget-line").count() == index + 1
            # The lines typed so far came back from the server unchanged.
            for earlier in range(index):
                assert (
                    page.locator(f"#lines-{earlier}-description").input_value() == LINES[earlier][0]
                )
            assert focused(page).get("id") == "add-line", "the focus stays on the button"
            shift_tab_to(page, field_id(f"lines-{index}-description"), "the new line", limit=6)
        else:
            tab_to(page, field_id("lines-0-description"), "the first line")
        page.keyboard.type(text)
        next_field(page, f"lines-{index}-category")
        for key in keys:
            page.keyboard.press(key)
        assert focused(page)["value"] == category, (text, focused(page))
        next_field(page, f"lines-{index}-quantity")
        page.keyboard.type(quantity)
        next_field(page, f"lines-{index}-unit_price")
        page.keyboard.type(price)
    # Autosave recomputes the totals on the server and swaps them in.
    expect(page.locator("#budget-totals")).to_contain_text(TOTAL, timeout=10_000)
    expect(page.locator("#autosave-status")).to_contain_text(re.compile(r"Opgeslagen om"))
    step("begroting-drie-regels")
    # The button, not Enter in the field: Enter also fires "change", whose autosave then races
    # the form's own post (see let_autosave_finish). Without JavaScript, Enter is checked below.
    tab_to(page, button("Opslaan en verder"), "the button Opslaan en verder")
    let_autosave_finish(page)
    press_and_wait(page, "Enter")
    assert current_step(page) == "3. Betaling"
    assert stored_application(live_server, application_id)["lines"] == 3
    step("betaling")

    # 3. Betaling: the account holder is filled in with the applicant's name; replace it.
    type_into(page, "iban", IBAN)
    next_field(page, "account_holder")
    assert focused(page)["value"] == "Karin Toetsenbord"
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(HOLDER)
    step("betaling-ingevuld")
    press_and_wait(page, "Enter")  # in the field: "Opslaan en verder", not "Vorige stap"
    assert current_step(page) == "4. Bijlagen"
    assert "U heeft nog geen bestanden toegevoegd." in page.locator("main").inner_text()
    step("bijlagen-leeg")

    # 4. Bijlagen: Space on the file input opens the chooser; the file is "picked" in it.
    tab_to(page, field_id("file"), "the file input")
    page.keyboard.press("Space")
    for _ in range(50):
        if choosers:
            break
        page.wait_for_timeout(100)
    assert len(choosers) == 1, "Space on the file input opens the file chooser"
    choosers[0].set_files(png_file())
    assert page.locator("#file").evaluate("input => input.files.length") == 1
    next_field(page, "kind")
    page.keyboard.type("Fo")
    assert focused(page)["value"] == "photo"
    tab_to(page, button("Bestand toevoegen"), "the button Bestand toevoegen")
    press_and_wait(page, "Enter")
    assert "Het bestand schets-van-het-plein.png is toegevoegd." in flashes(page)
    assert page.locator("table").filter(has_text="schets-van-het-plein.png").count() == 1
    assert "Foto" in page.locator("table").inner_text()
    step("bijlagen-toegevoegd")
    tab_to(page, button("Verder"), "the button Verder")
    press_and_wait(page, "Enter")
    assert current_step(page) == "5. Steun van buren"
    assert "0 van de 5 steunbetuigingen" in page.locator(".endorsement-count").inner_text()
    step("steun-leeg")

    # The share link: a read-only field the keyboard can reach (to select and copy it).
    share = tab_to(page, field_id("share-link"), "the share link")
    assert share["readonly"]
    share_link = share["value"]
    assert re.fullmatch(re.escape(live_server.url) + r"/steun/[\w-]+", share_link), share_link

    # 6. Submitting too early: the problems are listed, each a link to where to fix it.
    tab_to(page, button("Verder"), "the button Verder")
    press_and_wait(page, "Enter")
    assert current_step(page) == "6. Controleren en indienen"
    step("indienen-nog-niet-klaar")
    tab_to(page, button("Aanvraag indienen"), "the button Aanvraag indienen")
    response = press_and_wait(page, "Enter")
    assert response.status == 422
    assert page.title().startswith("Fout:")
    summary = page.locator("#foutenoverzicht")
    assert summary.is_visible()
    assert "U heeft 0 van de 5 steunbetuigingen uit uw wijk." in summary.inner_text()
    assert "Verklaar dat u alles naar waarheid heeft ingevuld." in summary.inner_text()
    hrefs = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    base = f"/aanvragen/{application_id}/bewerken"
    assert sorted(hrefs) == sorted([f"{base}/draagvlak#draagvlak", f"{base}/indienen#declaration"])
    assert summary.locator("li").count() == 2, "only the unmet rules are listed"
    step("indienen-fout")
    tab_to(
        page,
        lambda el: el["tag"] == "a" and "steunbetuigingen" in el["text"],
        "the problem link to Steun van buren",
    )
    press_and_wait(page, "Enter")
    assert current_step(page) == "5. Steun van buren"
    step("steun-via-foutlink")

    # Five neighbours, each in a browser of their own.
    for number, email in enumerate(NEIGHBOURS, start=1):
        with neighbour_browser(javascript=True) as other:
            endorse_by_keyboard(
                other, share_link, email, Steps(checkpoint, other, f"buur{number}-")
            )

    # The applicant's page polls the count (every 10 seconds).
    expect(page.locator(".endorsement-count")).to_contain_text(
        "5 van de 5 steunbetuigingen", timeout=15_000
    )
    assert "genoeg!" in page.locator(".endorsement-count").inner_text()
    step("steun-vijf-van-vijf")

    tab_to(page, button("Verder"), "the button Verder")
    press_and_wait(page, "Enter")
    assert current_step(page) == "6. Controleren en indienen"
    main = page.locator("main").inner_text()
    assert "steunbetuigingen" not in page.locator("#foutenoverzicht").inner_text()
    assert TOTAL in main
    step("indienen-klaar")
    declaration = tab_to(page, field_id("declaration"), "the declaration checkbox")
    assert not declaration["checked"]
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    tab_to(page, button("Aanvraag indienen"), "the button Aanvraag indienen")
    response = press_and_wait(page, "Enter")
    assert response.ok

    # The application page: reference, status, the decision deadline in the timeline.
    assert page.url.endswith(f"/aanvragen/{application_id}"), page.url
    stored = stored_application(live_server, application_id)
    reference = stored["reference"]
    assert reference and REFERENCE.fullmatch(reference), reference
    assert f"Uw aanvraag is ingediend. Het kenmerk is {reference}." in flashes(page)
    details = page.locator("dl.details-list").first
    assert reference in details.inner_text()
    assert "Ingediend" in details.locator("strong").inner_text()
    open_step = page.locator(".timeline__step--open")
    assert "Besluit van de gemeente" in open_step.inner_text()
    deadline = dutch_date(stored["decision_deadline"])
    assert re.search(rf"Uiterlijk {DUTCH_DATE}", open_step.inner_text())
    assert f"Uiterlijk {deadline}" in open_step.inner_text()
    assert stored["lines"] == 3 and stored["attachments"] == 1
    assert stored["total_cents"] == 39_000
    step("ingediend")

    # The receipt, on the development mail page.
    tab_to(page, link("Ontwikkelmail"), "the footer link Ontwikkelmail", limit=200)
    press_and_wait(page, "Enter")
    assert h1(page) == "Ontwikkelmail"
    step("mail-lijst")
    subject = f"Ontvangen: uw aanvraag {reference}"
    mail = tab_to(page, link(subject), f"the mail {subject}", limit=200)
    assert applicant in mail["row"]
    press_and_wait(page, "Enter")
    assert h1(page) == subject
    body = page.locator(".mail-body").inner_text()
    assert reference in body
    assert f"uiterlijk {deadline}" in body
    step("mail-ontvangen")


def test_resident_applies_without_javascript(
    page_nojs: Any,
    live_server: Any,
    shot: Callable[[Any, str], Any],
    checkpoint: Checkpoint,
    neighbour_browser: Callable[..., AbstractContextManager[Any]],
) -> None:
    page = page_nojs
    applicant = make_applicant(live_server, "Zeno Zonderscript")
    start, end = activity_dates()
    count = itertools.count(1)

    def snap(name: str, on: Any = page) -> None:
        shot(on, f"{next(count):02d}-{name}")

    page.goto("/inloggen")
    assert page.evaluate("typeof window.htmx") == "undefined"  # the page's scripts did not run
    page.get_by_label("E-mailadres").fill(applicant)
    page.get_by_label("Wachtwoord").fill(APPLICANT_PASSWORD)
    page.locator("main").get_by_role("button", name="Inloggen").click()
    assert h1(page) == "Mijn aanvragen"
    page.get_by_role("button", name="Nieuwe aanvraag voor wijkbudget").click()
    assert current_step(page) == "1. Activiteit"
    application_id = application_id_from(page.url)
    snap("activiteit-leeg")

    page.get_by_label("Naam van uw plan").fill(TITLE)
    page.get_by_label("Wat wilt u doen?").fill(DESCRIPTION)
    page.get_by_label("Buren die elkaar kennen en helpen").check()
    page.get_by_label("Begindatum").fill(start.isoformat())
    page.get_by_label("Einddatum").fill(end.isoformat())
    page.get_by_label("Waar is het?").fill(LOCATION)
    snap("activiteit-ingevuld")
    page.get_by_role("button", name="Opslaan en verder").click()
    assert current_step(page) == "2. Begroting"

    # Budget lines: "Kostenpost toevoegen" posts the form and the page comes back with one more.
    for index, (text, _keys, category, quantity, price) in enumerate(LINES):
        if index > 0:
            with page.expect_navigation():
                page.get_by_role("button", name="Kostenpost toevoegen").click()
            assert page.locator(".budget-line").count() == index + 1
            assert (
                page.locator(f"#lines-{index - 1}-description").input_value() == LINES[index - 1][0]
            )
        page.locator(f"#lines-{index}-description").fill(text)
        page.locator(f"#lines-{index}-category").select_option(category)
        page.locator(f"#lines-{index}-quantity").fill(quantity)
        page.locator(f"#lines-{index}-unit_price").fill(price)
    snap("begroting-drie-regels")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    assert "Opgeslagen." in flashes(page)
    assert TOTAL in page.locator("#budget-totals").inner_text()
    assert page.locator(".budget-line").count() == 3
    snap("begroting-opgeslagen")
    # Enter in a field means "Opslaan en verder", not the form's first button (which used to be
    # "Kostenpost 1 weghalen").
    page.locator("#lines-2-unit_price").press("Enter")
    assert current_step(page) == "3. Betaling"
    assert stored_application(live_server, application_id)["lines"] == 3

    page.get_by_label("Rekeningnummer (IBAN)").fill(IBAN)
    page.get_by_label("Op naam van").fill(HOLDER)
    page.get_by_label("Op naam van").press("Enter")  # Enter: "Opslaan en verder"
    assert current_step(page) == "4. Bijlagen"

    page.get_by_label("Bestand", exact=True).set_input_files(png_file())
    page.get_by_label("Wat voor bestand is het?").select_option("plan")
    page.get_by_role("button", name="Bestand toevoegen").click()
    assert "Het bestand schets-van-het-plein.png is toegevoegd." in flashes(page)
    assert "Plan of tekening" in page.locator("table").inner_text()
    snap("bijlagen")
    page.get_by_role("button", name="Verder").click()
    assert current_step(page) == "5. Steun van buren"
    share_link = page.locator("#share-link").input_value()

    # Submitting before the neighbours endorsed: 422 and the problem list.
    page.locator("main").get_by_role("link", name="6. Controleren en indienen").click()
    page.get_by_label("Ik verklaar dat ik alles naar waarheid heb ingevuld").check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Aanvraag indienen").click()
    assert navigation.value.status == 422
    summary = page.locator("#foutenoverzicht").inner_text()
    assert "U heeft 0 van de 5 steunbetuigingen" in summary
    assert "Verklaar" not in summary  # the tick was kept
    assert page.get_by_label("Ik verklaar dat ik alles naar waarheid heb ingevuld").is_checked()
    snap("indienen-fout")

    # Neighbours: buur1 without JavaScript through the link on the shared page, buur2 without
    # JavaScript logging in first, the others with JavaScript (and axe).
    for number, email in enumerate(NEIGHBOURS, start=1):
        javascript = number > 2
        with neighbour_browser(javascript=javascript) as other:
            if number == 1:
                other.goto(share_link)
                other.get_by_role("link", name=re.compile("Log in")).click()
                other.get_by_label("E-mailadres").fill(email)
                other.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
                other.locator("main").get_by_role("button", name="Inloggen").click()
                assert other.url == share_link
            elif number == 2:
                other.goto("/inloggen")
                other.get_by_label("E-mailadres").fill(email)
                other.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
                other.locator("main").get_by_role("button", name="Inloggen").click()
                assert h1(other) == "Mijn aanvragen"
                other.goto(share_link)
            else:
                endorse_by_keyboard(
                    other, share_link, email, Steps(checkpoint, other, f"buur{number}-")
                )
                continue
            other.get_by_role("button", name="Ik steun dit plan").click()
            assert "Dank u wel! Uw steun is geteld." in flashes(other)
            snap(f"buur{number}-gesteund", other)

    # Without JavaScript nothing polls: the page shows the count when it is loaded again.
    page.locator("main").get_by_role("link", name="5. Steun van buren").click()
    assert "5 van de 5 steunbetuigingen" in page.locator(".endorsement-count").inner_text()
    assert page.locator("table").get_by_text("Telt mee").count() == 5
    snap("steun-vijf-van-vijf")
    page.get_by_role("button", name="Verder").click()
    assert current_step(page) == "6. Controleren en indienen"
    assert page.locator("#foutenoverzicht").count() == 0
    assert page.get_by_label("Ik verklaar dat ik alles naar waarheid heb ingevuld").is_checked()
    snap("indienen-klaar")
    page.get_by_role("button", name="Aanvraag indienen").click()

    assert page.url.endswith(f"/aanvragen/{application_id}"), page.url
    stored = stored_application(live_server, application_id)
    reference = stored["reference"]
    assert reference and REFERENCE.fullmatch(reference), reference
    assert f"Het kenmerk is {reference}" in flashes(page)
    assert "Ingediend" in page.locator("dl.details-list").first.inner_text()
    deadline = dutch_date(stored["decision_deadline"])
    assert f"Uiterlijk {deadline}" in page.locator(".timeline__step--open").inner_text()
    snap("ingediend")

    page.get_by_role("link", name="Ontwikkelmail").click()
    page.get_by_role("link", name=f"Ontvangen: uw aanvraag {reference}").click()
    body = page.locator(".mail-body").inner_text()
    assert reference in body and f"uiterlijk {deadline}" in body
    assert applicant in page.locator("main").inner_text()
    snap("mail-ontvangen")


def test_draft_survives_an_expired_session(page_nojs: Any, live_server: Any, shot: Any) -> None:
    page = page_nojs
    applicant = make_applicant(live_server, "Sanne Sessie")
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(applicant)
    page.get_by_label("Wachtwoord").fill(APPLICANT_PASSWORD)
    page.locator("main").get_by_role("button", name="Inloggen").click()
    page.get_by_role("button", name="Nieuwe aanvraag voor wijkbudget").click()
    draft_url = page.url
    assert draft_url.endswith("/bewerken/activiteit")

    page.get_by_label("Naam van uw plan").fill("Moestuin achter de school")
    page.get_by_label("Wat wilt u doen?").fill("Samen groente kweken met de kinderen uit de buurt.")
    shot(page, "01-typed")
    page.context.clear_cookies()  # the session expires while the resident types
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_load_state("load")
    assert h1(page) == "Inloggen", "an expired session leads to the login page"
    shot(page, "02-login")

    page.get_by_label("E-mailadres").fill(applicant)
    page.get_by_label("Wachtwoord").fill(APPLICANT_PASSWORD)
    page.locator("main").get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("load")
    assert page.url == draft_url
    assert "U was uitgelogd. Wat u had getypt, hebben wij bewaard." in flashes(page)
    assert page.get_by_label("Naam van uw plan").input_value() == "Moestuin achter de school"
    assert (
        page.get_by_label("Wat wilt u doen?").input_value()
        == "Samen groente kweken met de kinderen uit de buurt."
    )
    shot(page, "03-back-with-draft")


def test_autosave_shows_the_time(page: Any, live_server: Any, checkpoint: Checkpoint) -> None:
    applicant = make_applicant(live_server, "Otto Opslaan")
    page.goto("/inloggen")
    checkpoint(page, "01-login")
    page.get_by_label("E-mailadres").fill(applicant)
    page.get_by_label("Wachtwoord").fill(APPLICANT_PASSWORD)
    page.locator("main").get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("load")
    checkpoint(page, "02-mijn-aanvragen")
    page.get_by_role("button", name="Nieuwe aanvraag voor wijkbudget").click()
    page.wait_for_load_state("load")
    assert current_step(page) == "1. Activiteit"
    checkpoint(page, "03-activiteit")

    status = page.locator("#autosave-status")
    assert status.inner_text().strip() == ""
    before = datetime.now(AMSTERDAM)
    page.get_by_label("Naam van uw plan").press_sequentially("Zomerfeest Oekraïense buren")
    expect(status).to_have_text(re.compile(r"^Opgeslagen om \d{2}:\d{2}$"), timeout=10_000)
    after = datetime.now(AMSTERDAM)
    shown = status.inner_text().strip().removeprefix("Opgeslagen om ")
    moments = {(before + timedelta(minutes=m)).strftime("%H:%M") for m in range(0, 2)}
    moments.add(after.strftime("%H:%M"))
    assert shown in moments, (shown, moments)
    checkpoint(page, "04-opgeslagen")

    page.reload()
    assert page.get_by_label("Naam van uw plan").input_value() == "Zomerfeest Oekraïense buren"
    assert h1(page).startswith("Zomerfeest Oekraïense buren")
    checkpoint(page, "05-na-herladen")
