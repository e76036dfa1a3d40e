"""A resident applies: drafts, budget, eligibility, draagvlak, submission, dossier."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.applications import services
from portal.applications.models import Application, Endorsement, State
from portal.audit.models import AuditRecord
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import local_today, utcnow

START = local_today() + timedelta(weeks=8)


def make_complete_draft(
    applicant: Any, neighbours: list[Any] | None = None, **changes: Any
) -> Application:
    """A draft that meets every rule of the first ruleset."""
    application = services.create_draft(applicant, f"key-{applicant.id}-{utcnow().timestamp()}")
    values = {
        "title": "Buurtfeest aan het plein",
        "description": "Een middag met muziek en soep voor de hele straat.",
        "kaders": ["sociale_samenhang"],
        "start_date": START,
        "end_date": START,
        "location": "Het plein",
        "iban": "NL91ABNA0417164300",
        "account_holder": applicant.name,
        "declaration": True,
    }
    values.update(changes)
    for name, value in values.items():
        setattr(application, name, value)
    services.set_lines(
        application,
        [
            {
                "description": "Tent",
                "category": "huur_spullen",
                "quantity": 1,
                "unit_price_cents": 25000,
            },
            {
                "description": "Soep",
                "category": "eten_drinken",
                "quantity": 40,
                "unit_price_cents": 250,
            },
            {
                "description": "Flyers",
                "category": "drukwerk",
                "quantity": 100,
                "unit_price_cents": 15,
            },
        ],
    )
    for neighbour in neighbours or []:
        services.endorse(application, user=neighbour)
    db.session.flush()
    return application


@pytest.fixture
def applicant(factory) -> Any:
    return factory.user(postcode="7533AB", name="Anna Aanvrager")


@pytest.fixture
def neighbours(factory) -> list[Any]:
    return [factory.user(postcode="7533AC") for _ in range(5)]


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-fout">(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


def test_submission_gives_reference_deadline_audit_and_receipt(
    client, mailbox, applicant, neighbours, login_as
) -> None:
    application = make_complete_draft(applicant, neighbours)
    db.session.commit()
    login_as(applicant)
    response = client.post(f"/aanvragen/{application.id}/indienen", data={"declaration": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.refresh(application)
    assert application.state == State.SUBMITTED
    assert re.fullmatch(rf"WB-{local_today().year}-\d{{4}}", application.reference)
    assert application.ruleset_id is not None
    assert application.decision_deadline >= local_today() + timedelta(weeks=8)
    assert application.requested_cents == 25000 + 10000 + 1500
    audit = db.session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_id == application.id, AuditRecord.action == "application.submitted"
        )
    )
    assert (audit.from_state, audit.to_state, audit.actor_id) == (
        "draft",
        "submitted",
        applicant.id,
    )
    [receipt] = [m for m in mailbox.to(applicant.email) if "Ontvangen" in m["Subject"]]
    text = mailbox.text(receipt)
    assert application.reference in receipt["Subject"] and application.reference in text
    assert "uiterlijk" in text
    page = client.get(f"/aanvragen/{application.id}").get_data(as_text=True)
    assert application.reference in page and "Ingediend" in page and "Uiterlijk" in page
    listing = client.get("/mijn-aanvragen").get_data(as_text=True)
    assert application.reference in listing and "Besluit uiterlijk" in listing


# Each rule: how to break it, the field its message belongs to, the section, a word of the
# message, and a value that must still be on the page afterwards.
RULES = [
    (
        "amount_too_low",
        {"lines": [("Snoep", "eten_drinken", 1, 1000)]},
        "requested",
        "begroting",
        "te weinig",
        "Snoep",
    ),
    (
        "amount_too_high",
        {"lines": [("Podium", "huur_spullen", 1, 600000)]},
        "requested",
        "begroting",
        "te veel",
        "Podium",
    ),
    (
        "lead_time",
        {"start_date": local_today() + timedelta(weeks=2)},
        "start_date",
        "activiteit",
        "weken van tevoren",
        "Buurtfeest aan het plein",
    ),
    (
        "kader_missing",
        {"kaders": []},
        "kaders",
        "activiteit",
        "minstens één doel",
        "Buurtfeest aan het plein",
    ),
    (
        "excluded_category",
        {"lines": [("Bier", "alcohol", 10, 500)]},
        "lines-0-category",
        "begroting",
        "geen alcohol",
        "Bier",
    ),
    (
        "iban_invalid",
        {"iban": "NL00BANK0123456789"},
        "iban",
        "betaling",
        "klopt niet",
        "NL00BANK0123456789",
    ),
    (
        "district_mismatch",
        {"district": "Binnenstad"},
        "district",
        "indienen",
        "de wijk waar u woont",
        "Buurtfeest aan het plein",
    ),
    (
        "draagvlak",
        {"endorsements": 3},
        "draagvlak",
        "draagvlak",
        "3 van de 5",
        "Buurtfeest aan het plein",
    ),
    (
        "declaration",
        {"declaration": False},
        "declaration",
        "indienen",
        "naar waarheid",
        "Buurtfeest aan het plein",
    ),
]


@pytest.mark.parametrize(
    ("rule", "change", "field", "section", "words", "kept"), RULES, ids=[r[0] for r in RULES]
)
def test_each_rule_is_explained_at_its_field_and_nothing_is_lost(
    client, applicant, neighbours, login_as, rule, change, field, section, words, kept
) -> None:
    from portal.districts.models import District

    change = dict(change)
    endorsers = neighbours[: change.pop("endorsements", 5)]
    lines = change.pop("lines", None)
    district = change.pop("district", None)
    application = make_complete_draft(applicant, endorsers, **change)
    if lines is not None:
        services.set_lines(
            application,
            [
                {"description": d, "category": c, "quantity": q, "unit_price_cents": p}
                for d, c, q, p in lines
            ],
        )
    if district is not None:
        application.district_id = db.session.scalar(
            select(District.id).where(District.name == district)
        )
    db.session.commit()
    login_as(applicant)
    response = client.post(
        f"/aanvragen/{application.id}/indienen",
        data={"declaration": "" if rule == "declaration" else "y"},
    )
    assert response.status_code == 422
    summary = response.get_data(as_text=True)
    # The summary at the top names the problem and links to the field.
    assert f"/bewerken/{section}#{field}" in summary
    assert words in re.sub(r"\s+", " ", summary)
    db.session.refresh(application)
    assert application.state == State.DRAFT and application.reference is None
    # On the section itself, the message stands next to its field, and what was typed is there.
    page = client.get(f"/aanvragen/{application.id}/bewerken/{section}").get_data(as_text=True)
    if field not in ("requested", "draagvlak", "district"):
        assert words in field_error(page, field), page
    else:
        assert words in re.sub(r"\s+", " ", page)
    assert kept in page


def test_double_click_creates_one_draft(client, applicant, login_as) -> None:
    login_as(applicant)
    first = client.post("/aanvragen/nieuw", data={"creation_key": "k1"})
    second = client.post("/aanvragen/nieuw", data={"creation_key": "k1"})
    assert first.location == second.location
    assert (
        db.session.scalar(
            select(func.count(Application.id)).where(Application.applicant_id == applicant.id)
        )
        == 1
    )


def test_sections_save_and_budget_is_recomputed_by_the_server(client, applicant, login_as) -> None:
    login_as(applicant)
    location = client.post("/aanvragen/nieuw", data={"creation_key": "k2"}).location
    application_id = int(re.search(r"/aanvragen/(\d+)/", location).group(1))
    response = client.post(
        f"/aanvragen/{application_id}/bewerken/begroting",
        data={
            "lines-0-description": "Tent",
            "lines-0-category": "huur_spullen",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "1.250,50",
            "lines-1-description": "Koffie",
            "lines-1-category": "eten_drinken",
            "lines-1-quantity": "10",
            "lines-1-unit_price": "1.5",
            "other_funding": "100",
            # A total typed by hand is ignored: the server computes.
            "total": "1",
            "next": "1",
        },
    )
    assert response.status_code == 303
    application = db.session.get(Application, application_id)
    db.session.refresh(application)
    assert application.total_cents == 2 * 125050 + 10 * 150
    assert application.requested_cents == application.total_cents - 10000


def test_add_and_remove_lines_without_javascript_and_with_htmx(client, applicant, login_as) -> None:
    login_as(applicant)
    application = services.create_draft(applicant, "k3")
    db.session.commit()
    url = f"/aanvragen/{application.id}/bewerken/begroting"
    data = {
        "lines-0-description": "Tent",
        "lines-0-category": "huur_spullen",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "50",
    }
    page = client.post(url, data={**data, "add_line": "1"})
    assert page.status_code == 200 and 'name="lines-1-description"' in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)  # without JavaScript: the whole page
    fragment = client.post(url, data={**data, "add_line": "1"}, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and 'id="begroting"' in html
    assert "HX-Request" in ", ".join(fragment.headers.get_all("Vary"))
    removed = client.post(
        url,
        data={
            **data,
            "lines-1-description": "Weg",
            "lines-1-quantity": "1",
            "lines-1-unit_price": "5",
            "remove_line": "1",
        },
    )
    assert "Weg" not in removed.get_data(as_text=True)
    db.session.refresh(application)
    assert [line.description for line in application.lines] == ["Tent"]
    assert application.total_cents == 5000


def form_inputs(html: str) -> dict[str, str]:
    """The hidden inputs of a page, as a browser would post them."""
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if 'type="hidden"' in tag and name and value:
            found[name.group(1)] = value.group(1)
    return found


def test_autosave_keeps_what_is_typed(client, applicant, login_as) -> None:
    login_as(applicant)
    application = services.create_draft(applicant, "k4")
    db.session.commit()
    saved = client.post(
        f"/aanvragen/{application.id}/bewerken/activiteit/autosave",
        data={"title": "Moestuin"},
        headers={"HX-Request": "true"},
    )
    assert "Opgeslagen om" in saved.get_data(as_text=True)
    db.session.refresh(application)
    assert application.title == "Moestuin"


@pytest.mark.parametrize("htmx", [False, True], ids=["form-post", "autosave"])
def test_an_expired_session_keeps_what_was_typed_under_real_csrf(csrf_app, applicant, htmx) -> None:
    application = services.create_draft(applicant, "k4")
    db.session.commit()
    url = f"/aanvragen/{application.id}/bewerken/activiteit"
    browser = csrf_app.test_client()
    browser.post(
        "/inloggen",
        data={
            **form_inputs(browser.get("/inloggen").get_data(as_text=True)),
            "email": applicant.email,
            "password": "wijkkracht-demo",
        },
    )
    hidden = form_inputs(browser.get(url).get_data(as_text=True))
    assert hidden.keys() >= {"csrf_token", "draft_token"}
    typed = {"title": "Moestuin aan de Dolphiastraat", "description": "Samen groente kweken"}
    # The session expires while the resident types: the cookie is gone, so is the CSRF secret.
    browser.delete_cookie(csrf_app.config["SESSION_COOKIE_NAME"])
    if htmx:
        response = browser.post(
            url + "/autosave",
            data={**hidden, **typed},
            headers={"HX-Request": "true", "X-CSRFToken": hidden["csrf_token"]},
        )
        assert response.status_code == 200
        assert "u bent uitgelogd" in response.get_data(as_text=True)
    else:
        response = browser.post(url, data={**hidden, **typed, "save": "1"})
        assert response.status_code in (302, 303) and "/inloggen" in response.location
    login_page = browser.get("/inloggen").get_data(as_text=True)
    browser.post(
        "/inloggen",
        data={**form_inputs(login_page), "email": applicant.email, "password": "wijkkracht-demo"},
    )
    page = browser.get(url).get_data(as_text=True)
    assert "Wat u had getypt, hebben wij bewaard" in page
    assert 'value="Moestuin aan de Dolphiastraat"' in page and "Samen groente kweken" in page
    db.session.expire_all()
    assert db.session.get(Application, application.id).title == "Moestuin aan de Dolphiastraat"


def test_a_post_without_the_draft_token_is_not_kept(csrf_app, applicant, factory) -> None:
    """Nobody can plant text in another's draft: the stash needs the draft's own token."""
    application = services.create_draft(applicant, "k4")
    application.title = "Eigen titel"
    db.session.commit()
    url = f"/aanvragen/{application.id}/bewerken/activiteit"
    attacker = csrf_app.test_client()
    forged = {"title": "Geplant", "draft_token": "vervalst"}
    assert attacker.post(url, data=forged).status_code == 400
    # A genuine token of another application does not fit this one either.
    other = services.create_draft(factory.user(postcode=applicant.postcode), "k5")
    db.session.commit()
    with csrf_app.test_request_context():
        from portal.accounts.tokens import make_draft_token

        foreign = make_draft_token(other.applicant_id, other.id)
    assert attacker.post(url, data={**forged, "draft_token": foreign}).status_code == 400
    # A token for this draft, stashed in the attacker's own session, is never applied for
    # anyone but the applicant the token names.
    db.session.expire_all()
    assert db.session.get(Application, application.id).title == "Eigen titel"


def test_endorsement_rules(client, app, applicant, neighbours, factory, mailbox) -> None:
    application = services.create_draft(applicant, "k5")
    db.session.commit()
    with pytest.raises(services.EndorsementRefused, match="own_application"):
        services.endorse(application, user=applicant)
    housemate = factory.user(postcode=applicant.postcode)
    housemate.house_number = applicant.house_number
    with pytest.raises(services.EndorsementRefused, match="own_household"):
        services.endorse(application, user=housemate)
    with pytest.raises(services.EndorsementRefused, match="other_district"):
        services.endorse(application, user=factory.user(postcode="7511AB"))
    services.endorse(application, user=neighbours[0])
    same_house = factory.user(postcode=neighbours[0].postcode)
    same_house.house_number = neighbours[0].house_number
    with pytest.raises(services.EndorsementRefused, match="household_done"):
        services.endorse(application, user=same_house)
    db.session.commit()
    # Someone without an account: counts only after confirming by e-mail.
    response = client.post(
        f"/steun/{application.endorsement_token}",
        data={
            "name": "Piet Buur",
            "postcode": "7533 AD",
            "house_number": "7",
            "email": "piet@example.org",
        },
    )
    assert response.status_code == 303
    assert services.counted_endorsements(application) == 1
    [mail] = mailbox.to("piet@example.org")
    client.get(mailbox.link(mail))
    assert services.counted_endorsements(application) == 2
    # From another district: a clear refusal, nothing stored.
    refused = client.post(
        f"/steun/{application.endorsement_token}",
        data={
            "name": "Ver Weg",
            "postcode": "7511 AB",
            "house_number": "1",
            "email": "ver@example.org",
        },
    )
    assert refused.status_code == 422 and "niet in deze wijk" in refused.get_data(as_text=True)


def test_applicant_sees_count_and_may_remove_an_endorsement(
    client, applicant, neighbours, login_as
) -> None:
    application = make_complete_draft(applicant, neighbours[:2])
    db.session.commit()
    login_as(applicant)
    count_url = f"/aanvragen/{application.id}/draagvlak/teller"
    count = client.get(count_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "2 van de 5" in count and 'hx-trigger="every 10s"' in count
    endorsement = db.session.scalar(
        select(Endorsement).where(Endorsement.application_id == application.id)
    )
    url = f"/aanvragen/{application.id}/draagvlak/{endorsement.id}/verwijderen"
    # The poll brings the list along, out of band, with a remove link for each endorsement.
    assert '<div id="endorsement-list" hx-swap-oob="true">' in count
    assert neighbours[0].name in count and neighbours[1].name in count
    assert f'href="{url}"' in count
    assert "<html" not in count
    services.endorse(application, user=neighbours[2])
    db.session.commit()
    count = client.get(count_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "3 van de 5" in count and neighbours[2].name in count
    assert count.count("/verwijderen") == 3
    # The page it swaps into has exactly one list to replace, and works without JavaScript.
    section = client.get(f"/aanvragen/{application.id}/bewerken/draagvlak").get_data(as_text=True)
    assert section.count('id="endorsement-list"') == 1 and "hx-swap-oob" not in section
    assert neighbours[2].name in section and f'href="{url}"' in section
    full = client.get(count_url).get_data(as_text=True)
    assert "<html" in full and neighbours[2].name in full and "hx-swap-oob" not in full
    assert "verwijderen?" in client.get(url).get_data(as_text=True)  # a confirmation first
    assert client.post(url).status_code == 303
    assert services.counted_endorsements(application) == 2


def test_the_endorse_page_knows_who_already_endorsed_or_applied(
    client, applicant, neighbours, factory, login_as, count_queries
) -> None:
    application = make_complete_draft(applicant, neighbours[:1])
    db.session.commit()
    page_url = f"/steun/{application.endorsement_token}"
    endorse_button = "Ik steun dit plan"

    def page_for(user: Any) -> str:
        client.post("/uitloggen")
        login_as(user)
        response = client.get(page_url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    endorsed = page_for(neighbours[0])
    assert "U steunt dit plan al. Dank u wel." in endorsed
    assert endorse_button not in endorsed and f'action="{page_url}"' not in endorsed
    # One endorsement per household: a housemate is told so instead of being offered the button.
    housemate = factory.user(postcode=neighbours[0].postcode)
    housemate.house_number = neighbours[0].house_number.lower()
    db.session.commit()
    from_household = page_for(housemate)
    assert "Iemand op uw adres steunt dit plan al" in from_household
    assert endorse_button not in from_household
    own = page_for(applicant)
    assert "Dit is uw eigen aanvraag; u kunt die niet zelf steunen." in own
    assert endorse_button not in own and f'action="{page_url}"' not in own
    # Endorsed before without an account, with the same e-mail address: confirm by e-mail.
    services.endorse(
        application,
        name=neighbours[1].name,
        postcode=neighbours[1].postcode,
        house_number=neighbours[1].house_number,
        email=neighbours[1].email.upper(),
    )
    db.session.commit()
    unconfirmed = page_for(neighbours[1])
    assert "U steunt dit plan al. Klik nog op de link in de e-mail" in unconfirmed
    assert endorse_button not in unconfirmed
    # Someone who has not endorsed yet still gets the button, and it still works.
    assert endorse_button in page_for(neighbours[2])
    assert client.post(page_url).status_code == 303
    assert "U steunt dit plan al. Dank u wel." in client.get(page_url).get_data(as_text=True)
    # The check is one query, however many endorsements the plan has.
    client.post("/uitloggen")
    login_as(neighbours[3])
    with count_queries() as few:
        client.get(page_url)
    for n in range(20):
        services.endorse(
            application,
            name=f"Buur {n}",
            postcode="7533AD",
            house_number=str(n + 1),
            email=f"buur{n}@example.org",
        )
    db.session.commit()
    with count_queries() as many:
        assert endorse_button in client.get(page_url).get_data(as_text=True)
    assert many.count == few.count, "\n".join(many.statements)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "factuur.pdf",
            b"\x7fELF\x02\x01\x01" + b"\0" * 200,
            "Dit type bestand kunnen wij niet aannemen",
        ),
        ("groot.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "groter dan 10 MB"),
        (
            "plaatje.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "Dit type bestand kunnen wij niet aannemen",
        ),
    ],
)
def test_bad_uploads_are_refused_in_dutch(
    client, applicant, login_as, name, content, message
) -> None:
    login_as(applicant)
    application = services.create_draft(applicant, "k6")
    db.session.commit()
    response = client.post(
        f"/aanvragen/{application.id}/bijlagen",
        data={"file": (io.BytesIO(content), name), "kind": "quote"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.attachments == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.png"),
        ("<img src=x onerror=alert(1)>.jpg", "_img src_x onerror_alert(1)_.png"),
    ],
)
def test_upload_names_are_neutralised_and_served_as_download(
    client, applicant, login_as, name, expected
) -> None:
    login_as(applicant)
    application = services.create_draft(applicant, "k7")
    db.session.commit()
    response = client.post(
        f"/aanvragen/{application.id}/bijlagen",
        data={"file": (io.BytesIO(png_bytes()), name), "kind": "photo"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.refresh(application)
    [attachment] = application.attachments
    assert attachment.display_name == expected
    assert "<img" not in client.get(f"/aanvragen/{application.id}/bewerken/bijlagen").get_data(
        as_text=True
    )
    served = client.get(f"/aanvragen/{application.id}/bijlagen/{attachment.id}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_withdraw_after_confirmation(client, mailbox, applicant, neighbours, login_as) -> None:
    application = make_complete_draft(applicant, neighbours)
    db.session.commit()
    login_as(applicant)
    client.post(f"/aanvragen/{application.id}/indienen", data={"declaration": "y"})
    confirm = client.get(f"/aanvragen/{application.id}/intrekken")
    assert "Aanvraag intrekken?" in confirm.get_data(as_text=True)
    response = client.post(
        f"/aanvragen/{application.id}/intrekken", data={"reason": "Gaat niet door"}
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.state == State.WITHDRAWN
    page = client.get(f"/aanvragen/{application.id}").get_data(as_text=True)
    assert "Aanvraag ingetrokken" in page and "Gaat niet door" in page
    assert client.get(f"/aanvragen/{application.id}/intrekken").status_code == 403


def test_pdf_summary_is_made_and_downloaded(client, applicant, neighbours, login_as) -> None:
    application = make_complete_draft(applicant, neighbours)
    db.session.commit()
    login_as(applicant)
    client.post(f"/aanvragen/{application.id}/indienen", data={"declaration": "y"})
    response = client.post(f"/aanvragen/{application.id}/pdf")
    assert response.status_code == 303
    status = client.get(f"/aanvragen/{application.id}/pdf").get_data(as_text=True)
    assert "Download de PDF" in status
    download = client.get(f"/aanvragen/{application.id}/pdf/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")
    db.session.refresh(application)
    assert f"aanvraag-{application.reference}.pdf" in download.headers["Content-Disposition"]


def test_mine_and_detail_use_constant_queries(
    client, applicant, neighbours, login_as, count_queries
) -> None:
    login_as(applicant)
    first = make_complete_draft(applicant, neighbours)
    db.session.commit()
    detail_url = f"/aanvragen/{first.id}"
    client.post(f"{detail_url}/indienen", data={"declaration": "y"})
    with count_queries() as one_mine:
        client.get("/mijn-aanvragen")
    with count_queries() as one_detail:
        client.get(detail_url)
    for n in range(99):
        services.create_draft(applicant, f"many-{n}").title = f"Plan {n}"
    db.session.commit()
    with count_queries() as many_mine:
        page = client.get("/mijn-aanvragen")
    with count_queries() as many_detail:
        client.get(detail_url)
    assert page.status_code == 200
    assert many_mine.count == one_mine.count
    assert many_detail.count == one_detail.count, "\n".join(many_detail.statements)


def test_other_people_cannot_reach_a_draft_or_its_files(
    app, client, applicant, factory, login_as
) -> None:
    application = services.create_draft(applicant, "k8")
    db.session.commit()
    other = factory.user(postcode="7533AB")
    login_as(other)
    for url in (
        f"/aanvragen/{application.id}",
        f"/aanvragen/{application.id}/bewerken/activiteit",
        f"/aanvragen/{application.id}/pdf",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == other.id)
        )
        == 0
    )
    assert date.today()  # the drafts of others are not even counted on their pages


def test_case_officer_sees_submitted_applications_of_their_boroughs(
    client, applicant, neighbours, factory, login_as, count_queries
) -> None:
    application = make_complete_draft(applicant, neighbours)
    db.session.commit()
    login_as(applicant)
    client.post(f"/aanvragen/{application.id}/indienen", data={"declaration": "y"})
    client.post("/uitloggen")
    db.session.refresh(application)
    officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    elsewhere = factory.user(roles=("case_officer",), boroughs=("West",))
    login_as(officer)
    with count_queries() as counted:
        page = client.get("/werkvoorraad").get_data(as_text=True)
    assert application.reference in page and "Glanerbrug" in page
    for n in range(10):
        make_complete_draft(applicant, []).title = f"Concept {n}"  # drafts never show
    db.session.commit()
    with count_queries() as again:
        client.get("/werkvoorraad")
    assert again.count == counted.count
    assert client.get(f"/aanvragen/{application.id}").status_code == 200
    client.post("/uitloggen")
    login_as(elsewhere)
    assert application.reference not in client.get("/werkvoorraad").get_data(as_text=True)
    assert client.get(f"/aanvragen/{application.id}").status_code == 404


def test_the_endorsement_and_invitation_forms_cannot_be_used_to_send_spam(
    client, applicant, login_as
) -> None:
    application = services.create_draft(applicant, "spam")
    db.session.commit()
    for n in range(services.MAX_UNCONFIRMED_PER_HOUR):
        services.endorse(
            application,
            name="X",
            postcode="7533AD",
            house_number=str(n + 1),
            email=f"x{n}@example.org",
        )
    db.session.commit()
    refused = client.post(
        f"/steun/{application.endorsement_token}",
        data={
            "name": "Nog een",
            "postcode": "7533 AD",
            "house_number": "999",
            "email": "y@example.org",
        },
    )
    assert refused.status_code == 422 and "Probeer het over een uur opnieuw" in refused.get_data(
        as_text=True
    )
    login_as(applicant)
    for _ in range(3):
        client.post(
            f"/aanvragen/{application.id}/draagvlak/uitnodigen",
            data={"emails": ", ".join(f"buur{i}@example.org" for i in range(20))},
        )
    page = client.get(f"/aanvragen/{application.id}/bewerken/draagvlak").get_data(as_text=True)
    assert services.invites_today(application) == 60
    response = client.post(
        f"/aanvragen/{application.id}/draagvlak/uitnodigen", data={"emails": "een@example.org"}
    )
    assert services.invites_today(application) == 60
    assert response.status_code == 303 and page
