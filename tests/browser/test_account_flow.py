"""Accounts end to end in Chromium: register, confirm the e-mail, log in, switch language, log out;
by keyboard only, without JavaScript, with form errors and with too many wrong passwords."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "lange-zin-voor-de-test-42"
DEMO_RESIDENT = "bewoner@demo.wijkkracht.nl"
Checkpoint = Callable[[Any, str], None]


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


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
    };
}"""


def focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUSED)


def tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], what: str, limit: int = 80) -> dict:
    """Press Tab until the focused element is ``wanted``; fail after ``limit`` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element is not None and wanted(element):
            return element
        seen.append(element and (element["tag"], element["id"] or element["text"][:30]))
    raise AssertionError(f"Tab never reached {what}; focus went through {seen}")


def link(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["tag"] == "a" and el["text"] == text


def button(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["tag"] == "button" and el["text"] == text


def field_id(ident: str) -> Callable[[dict[str, Any]], bool]:
    return lambda el: el["id"] == ident


def press_and_wait(page: Any, key: str) -> Any:
    """Press a key that leads to a new page; return the response of that navigation."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    page.wait_for_load_state("load")
    return navigation.value


def h1(page: Any) -> str:
    return page.locator("h1").inner_text().strip()


def flashes(page: Any) -> str:
    return page.locator("#meldingen").inner_text()


# --- the tests -----------------------------------------------------------------------------------


def test_register_verify_login_by_keyboard_only(
    page: Any, live_server: Any, checkpoint: Checkpoint
) -> None:
    email = unique_email("toetsenbord")
    page.goto("/")
    checkpoint(page, "01-start")

    # The first Tab lands on the skip link, which is visible while focused.
    page.keyboard.press("Tab")
    first = focused(page)
    assert first is not None and first["text"] == "Naar de inhoud", first
    assert first["href"] == "#inhoud"
    assert page.locator(".skip-link").bounding_box()["width"] > 10
    checkpoint(page, "02-skip-link-focused")

    tab_to(page, link("Account maken"), "the link Account maken")
    press_and_wait(page, "Enter")
    assert h1(page) == "Account maken"
    checkpoint(page, "03-register-form")

    # The fields come in reading order, one Tab apart.
    tab_to(page, field_id("name"), "the name field")
    page.keyboard.type("Kees Toetsenbord")
    for ident, text in [
        ("email", email),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("postcode", "7533 AB"),
        ("house_number", "12"),
    ]:
        page.keyboard.press("Tab")
        assert (focused(page) or {}).get("id") == ident
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    assert (focused(page) or {}).get("id") == "adult"
    page.keyboard.press("Space")
    assert (focused(page) or {}).get("checked") is True
    page.keyboard.press("Tab")
    assert button("Account maken")(focused(page) or {"tag": "", "text": ""})
    checkpoint(page, "04-register-filled")
    response = press_and_wait(page, "Enter")
    assert response is not None and response.ok
    assert h1(page) == "Controleer uw e-mail"
    assert email in page.locator("main").inner_text()
    checkpoint(page, "05-check-your-mail")

    # The development mail page, from the footer link.
    tab_to(page, link("Ontwikkelmail"), "the footer link Ontwikkelmail")
    press_and_wait(page, "Enter")
    assert h1(page) == "Ontwikkelmail"
    checkpoint(page, "06-mail-list")
    tab_to(page, lambda el: el["tag"] == "a" and email in el["row"], f"the mail to {email}")
    press_and_wait(page, "Enter")
    assert email in page.locator("main").inner_text()
    checkpoint(page, "07-mail")
    verify = tab_to(
        page,
        lambda el: el["tag"] == "a" and "/e-mail-bevestigen/" in el["href"],
        "the verification link",
    )
    assert verify["href"].startswith(live_server.url + "/e-mail-bevestigen/")
    press_and_wait(page, "Enter")
    assert "Uw e-mailadres is bevestigd" in flashes(page)
    assert h1(page) == "Inloggen"
    checkpoint(page, "08-verified-login")

    tab_to(page, field_id("email"), "the e-mail field")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert (focused(page) or {}).get("id") == "password"
    page.keyboard.type(PASSWORD)
    press_and_wait(page, "Enter")
    assert h1(page) == "Mijn aanvragen"
    assert page.url.endswith("/mijn-aanvragen")
    checkpoint(page, "09-mijn-aanvragen")

    tab_to(page, button("English"), "the language button English")
    press_and_wait(page, "Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    checkpoint(page, "10-english")
    tab_to(page, button("Nederlands"), "the language button Nederlands")
    press_and_wait(page, "Space")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert h1(page) == "Mijn aanvragen"
    checkpoint(page, "11-dutch-again")

    tab_to(page, button("Uitloggen"), "the button Uitloggen")
    press_and_wait(page, "Enter")
    assert "U bent uitgelogd" in flashes(page)
    assert page.locator("header").get_by_text("Inloggen").count() == 1
    checkpoint(page, "12-logged-out")


def test_same_forms_work_without_javascript(page_nojs: Any, live_server: Any, shot: Any) -> None:
    page = page_nojs
    email = unique_email("zonder-js")
    page.goto("/")
    assert page.evaluate("typeof window.htmx") == "undefined"  # the page's scripts did not run
    page.get_by_role("navigation").get_by_role("link", name="Account maken").click()
    assert h1(page) == "Account maken"
    page.get_by_label("Uw naam").fill("Zonder Script")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    page.get_by_label("Postcode").fill("7533 AB")
    page.get_by_label("Huisnummer").fill("14")
    page.get_by_label("Ik ben 18 jaar of ouder").check()
    shot(page, "01-register-filled")
    page.get_by_role("button", name="Account maken").click()
    page.wait_for_load_state("load")
    assert h1(page) == "Controleer uw e-mail"
    shot(page, "02-check-your-mail")

    page.get_by_role("link", name="Ontwikkelmail").click()
    page.get_by_role("row").filter(has_text=email).get_by_role("link").click()
    shot(page, "03-mail")
    page.locator("a[href*='/e-mail-bevestigen/']").click()
    page.wait_for_load_state("load")
    assert "Uw e-mailadres is bevestigd" in flashes(page)
    assert h1(page) == "Inloggen"

    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state("load")
    assert h1(page) == "Mijn aanvragen"
    shot(page, "04-mijn-aanvragen")

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state("load")
    assert "U bent uitgelogd" in flashes(page)
    assert page.get_by_role("button", name="Uitloggen").count() == 0
    shot(page, "05-logged-out")


def fill_register_form(page: Any, *, name: str, email: str, password: str, postcode: str) -> Any:
    page.get_by_label("Uw naam").fill(name)
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_label("Herhaal het wachtwoord").fill(password)
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_label("Huisnummer").fill("3")
    page.get_by_label("Ik ben 18 jaar of ouder").check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Account maken").click()
    page.wait_for_load_state("load")
    return navigation.value


def assert_error_next_to_field(page: Any, ident: str, message: str) -> None:
    """The message sits in the input's own form field, tied to it with aria-describedby."""
    error = page.locator(f"#{ident}-fout")
    assert error.count() == 1, f"no error shown for {ident}"
    assert message in error.inner_text(), ident
    field = page.locator(f"#{ident}")
    assert f"{ident}-fout" in (field.get_attribute("aria-describedby") or "").split()
    assert field.get_attribute("aria-invalid") == "true"
    assert message in page.locator(".form-field", has=field).inner_text()
    # Shown in the error colour, not as ordinary text.
    colours = error.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el.querySelector('p')).color]"
    )
    assert colours[0] == colours[1], colours


def assert_summary_links_to(page: Any, *idents: str) -> None:
    summary = page.locator("#foutenoverzicht")
    assert summary.is_visible()
    hrefs = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for ident in idents:
        assert f"#{ident}" in hrefs, hrefs
    # Following a summary link puts the focus in the field.
    summary.locator(f"a[href='#{idents[-1]}']").click()
    assert (focused(page) or {}).get("id") == idents[-1]


WEAK_PASSWORD = "Kies een wachtwoord van minstens 12 tekens"
OUTSIDE_ENSCHEDE = "Deze postcode ligt niet in de gemeente Enschede"


def test_form_errors_are_shown_next_to_fields_and_keep_input(
    page: Any, checkpoint: Checkpoint
) -> None:
    email = unique_email("fouten")
    page.goto("/account-maken")
    checkpoint(page, "01-form")

    # A weak password and a postcode outside Enschede.
    response = fill_register_form(
        page, name="Fien Fout", email=email, password="kort", postcode="1234 AB"
    )
    assert response.status == 422
    checkpoint(page, "02-errors")
    assert page.title().startswith("Fout:")
    assert_error_next_to_field(page, "password", WEAK_PASSWORD)
    assert_summary_links_to(page, "password")
    # What was typed is still there (passwords are not sent back).
    assert page.get_by_label("Uw naam").input_value() == "Fien Fout"
    assert page.get_by_label("E-mailadres").input_value() == email
    assert page.get_by_label("Postcode").input_value() == "1234 AB"
    assert page.get_by_label("Huisnummer").input_value() == "3"
    assert page.get_by_label("Ik ben 18 jaar of ouder").is_checked()
    assert page.get_by_label("Wachtwoord", exact=True).input_value() == ""

    # A good password; the postcode is still outside Enschede.
    response = fill_register_form(
        page, name="Fien Fout", email=email, password=PASSWORD, postcode="1234 AB"
    )
    assert response.status == 422
    checkpoint(page, "03-postcode-error")
    assert_error_next_to_field(page, "postcode", OUTSIDE_ENSCHEDE)
    assert page.locator("#password-fout").count() == 0
    assert_summary_links_to(page, "postcode")
    assert page.get_by_label("Postcode").input_value() == "1234 AB"
    assert page.get_by_label("E-mailadres").input_value() == email


def test_all_register_errors_are_shown_at_once(page: Any, checkpoint: Checkpoint) -> None:
    page.goto("/account-maken")
    checkpoint(page, "01-form")
    response = fill_register_form(
        page, name="Fien Fout", email=unique_email("alles"), password="kort", postcode="1234 AB"
    )
    assert response.status == 422
    checkpoint(page, "02-errors")
    assert_error_next_to_field(page, "password", WEAK_PASSWORD)
    assert_error_next_to_field(page, "postcode", OUTSIDE_ENSCHEDE)
    assert_summary_links_to(page, "password", "postcode")


def test_wrong_password_is_generic_and_too_many_attempts_gives_429(
    page: Any, checkpoint: Checkpoint, axe: Callable[[Any], None], live_resident: Any
) -> None:
    generic = "Het e-mailadres of het wachtwoord klopt niet"

    def log_in(email: str, password: str) -> Any:
        page.get_by_label("E-mailadres").fill(email)
        page.get_by_label("Wachtwoord").fill(password)
        with page.expect_navigation() as navigation:
            page.locator("main").get_by_role("button", name="Inloggen").click()
        page.wait_for_load_state("load")
        return navigation.value

    page.goto("/inloggen")
    checkpoint(page, "01-login")

    # A known account with a wrong password, and an unknown address: the same answer.
    response = log_in(DEMO_RESIDENT, "niet-het-goede-wachtwoord")
    assert response.status == 422
    assert generic in page.locator("#password-fout").inner_text()
    assert page.get_by_label("E-mailadres").input_value() == DEMO_RESIDENT
    checkpoint(page, "02-wrong-password")
    known = page.locator("main").inner_text()

    response = log_in(unique_email("onbekend"), "niet-het-goede-wachtwoord")
    assert response.status == 422
    assert generic in page.locator("#password-fout").inner_text()
    checkpoint(page, "03-unknown-email")
    unknown = page.locator("main").inner_text()
    assert known == unknown  # input values are not part of the text

    # Five failures for one account (its own, so no other test is locked out); the sixth
    # attempt is refused even with the right password.
    target = live_resident(PASSWORD)
    for attempt in range(5):
        response = log_in(target, f"fout-{attempt}")
        assert response.status == 422, attempt
        assert generic in page.locator("#password-fout").inner_text()
        if attempt < 4:
            axe(page)
    checkpoint(page, "04-fifth-failure")
    response = log_in(target, PASSWORD)
    assert response.status == 429
    assert response.headers.get("retry-after", "").isdigit()
    assert h1(page) == "Te veel pogingen"
    assert re.search(r"om \d{2}:\d{2}", page.locator("main").inner_text())
    checkpoint(page, "05-too-many-attempts")


def test_the_axe_check_catches_a_violation(page: Any, axe: Callable[[Any], None]) -> None:
    """The harness itself: an image without alt text and an unlabelled field must fail."""
    page.goto("/")
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<img src="/static/x.png"><input type="text">');
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        axe(page)
    message = str(failure.value)
    assert "image-alt" in message and "label" in message
    assert "<img" in message  # the offending element is shown
