"""Accounts: registration, verification, login, throttling, reset, change of password and e-mail."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import tokens
from portal.accounts.models import LoginAttempt, User
from portal.audit.models import AuditRecord
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import utcnow

GOOD_PASSWORD = "een-lange-zin-als-wachtwoord"


def register_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Nieuwe Bewoner",
        "email": "nieuw@example.org",
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
        "postcode": "7533 ab",
        "house_number": "14a",
        "adult": "y",
    }
    data.update(changes)
    return data


def field_error(html: str, field_id: str) -> str:
    """The error text tied to a field (rendered next to it)."""
    found = re.search(rf'id="{field_id}-fout">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


def test_register_verify_and_log_in(client, mailbox) -> None:
    response = client.post("/account-maken", data=register_data())
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "nieuw@example.org"))
    assert user.district.name == "Glanerbrug"
    assert user.postcode == "7533AB" and user.house_number == "14A"
    assert user.password_hash.startswith("$argon2")
    assert user.roles == {"resident"}
    assert not user.is_verified
    # Without Redis the receipt goes out in-process right after the commit.
    [message] = mailbox.to("nieuw@example.org")
    assert "Bevestig uw e-mailadres" in message["Subject"]
    link = mailbox.link(message)
    # Not verified yet: login explains what to do.
    response = client.post(
        "/inloggen", data={"email": "nieuw@example.org", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 422
    assert "nog niet bevestigd" in response.get_data(as_text=True)
    response = client.get(link)
    assert response.status_code == 302 and response.location.endswith("/inloggen")
    db.session.refresh(user)
    assert user.is_verified
    response = client.post(
        "/inloggen", data={"email": "NIEUW@example.org ", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 303 and response.location == "/mijn-aanvragen"
    page = client.get("/mijn-aanvragen").get_data(as_text=True)
    assert "Mijn aanvragen" in page and "Glanerbrug" in page
    actions = set(
        db.session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == user.id))
    )
    assert {"account.registered", "account.email_verified", "account.logged_in"} <= actions


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"postcode": "1012 AB"}, "postcode", "ligt niet in de gemeente Enschede"),
        ({"postcode": "75AB"}, "postcode", "Vul een postcode in zoals 7511 AB"),
        ({"password": "kort", "password_confirm": "kort"}, "password", "minstens 12 tekens"),
        (
            {"password": "qwerty123456", "password_confirm": "qwerty123456"},
            "password",
            "veel gebruikt",
        ),
        ({"password_confirm": "iets-anders-dan-het-wachtwoord"}, "password_confirm", "niet gelijk"),
        ({"email": "geen-adres"}, "email", "geldig e-mailadres"),
        ({"email": "bewoner@demo.wijkkracht.nl"}, "email", "al een account"),
        ({"adult": ""}, "adult", "18 jaar of ouder"),
        ({"name": "  "}, "name", "Vul uw naam in"),
    ],
)
def test_register_errors_are_dutch_next_to_the_field_and_keep_input(
    client, changes, field, message
) -> None:
    data = register_data(**changes)
    response = client.post("/account-maken", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(html, field), html
    assert 'href="#' + field + '"' in html  # the summary at the top links to the field
    # What was typed stays (passwords excepted).
    for kept in ("name", "email", "postcode", "house_number"):
        if data[kept].strip():
            assert (
                f'value="{data[kept].strip() if kept != "email" else data[kept].strip().lower()}"'
                in html
            )
    assert db.session.scalar(select(func.count(User.id)).where(User.name == data["name"])) == 0


def test_tampered_and_expired_verification_links(client, app, factory) -> None:
    user = factory.user(verified=False)
    with app.test_request_context():
        token = tokens.make_verify_token(user.id, user.email)
    response = client.get(f"/e-mail-bevestigen/{token[:-2]}xx")
    assert response.status_code == 400
    assert "Deze link klopt niet" in response.get_data(as_text=True)
    app.config["PORTAL_VERIFY_MAX_AGE"] = -1
    try:
        response = client.get(f"/e-mail-bevestigen/{token}")
    finally:
        app.config["PORTAL_VERIFY_MAX_AGE"] = 48 * 3600
    assert response.status_code == 400
    assert "verlopen" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.is_verified


def test_wrong_password_and_unknown_account_get_the_same_answer(client, factory) -> None:
    user = factory.user()
    wrong = client.post("/inloggen", data={"email": user.email, "password": "niet-het-wachtwoord"})
    unknown = client.post("/inloggen", data={"email": "niemand@example.org", "password": "x" * 14})
    assert wrong.status_code == unknown.status_code == 422
    message = "Het e-mailadres of het wachtwoord klopt niet"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    # What was typed stays.
    assert f'value="{user.email}"' in wrong.get_data(as_text=True)


def test_login_is_throttled_per_account_with_a_time_to_try_again(client, factory) -> None:
    user = factory.user()
    for _ in range(5):
        assert (
            client.post(
                "/inloggen", data={"email": user.email, "password": "fout-fout-fout"}
            ).status_code
            == 422
        )
    response = client.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Te veel pogingen" in html and re.search(r"om \d\d:\d\d", html)
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same address is not blocked by this account's failures.
    other = factory.user()
    assert (
        client.post(
            "/inloggen", data={"email": other.email, "password": "wijkkracht-demo"}
        ).status_code
        == 303
    )


def test_login_is_throttled_per_address(client, app, factory) -> None:
    app.config["PORTAL_LOGIN_MAX_PER_ADDRESS"] = 3
    try:
        for n in range(3):
            client.post(
                "/inloggen", data={"email": f"onbekend{n}@example.org", "password": "x" * 12}
            )
        user = factory.user()
        response = client.post(
            "/inloggen", data={"email": user.email, "password": "wijkkracht-demo"}
        )
    finally:
        app.config["PORTAL_LOGIN_MAX_PER_ADDRESS"] = 20
    assert response.status_code == 429


def test_old_failures_no_longer_count(client, factory) -> None:
    user = factory.user()
    long_ago = utcnow() - timedelta(hours=1)
    for _ in range(10):
        db.session.add(
            LoginAttempt(
                email=user.email, address="127.0.0.1", succeeded=False, created_at=long_ago
            )
        )
    db.session.flush()
    assert (
        client.post(
            "/inloggen", data={"email": user.email, "password": "wijkkracht-demo"}
        ).status_code
        == 303
    )


def test_session_is_renewed_at_login(client, factory) -> None:
    user = factory.user()
    with client.session_transaction() as session:
        session["planted"] = "by-someone-else"
    client.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.session_token


def test_login_follows_only_local_next(client, factory) -> None:
    user = factory.user()
    response = client.post(
        "/inloggen",
        data={"email": user.email, "password": "wijkkracht-demo", "next": "https://evil.example/"},
    )
    assert response.location == "/mijn-aanvragen"
    client.post("/uitloggen")
    response = client.post(
        "/inloggen",
        data={"email": user.email, "password": "wijkkracht-demo", "next": "/berichten/"},
    )
    assert response.location == "/berichten/"


@pytest.mark.parametrize(
    ("roles", "council", "start"),
    [
        (("resident",), None, "/mijn-aanvragen"),
        (("resident",), ("Dorpsraad Glanerbrug", "member"), "/wijkorgaan"),
        (("case_officer",), None, "/werkvoorraad"),
        (("finance",), None, "/betalingen"),
        (("admin",), None, "/beheer/"),
    ],
)
def test_each_role_lands_on_its_own_start_page(client, factory, roles, council, start) -> None:
    user = factory.user(
        roles=roles, council=council, boroughs=("Oost",) if "case_officer" in roles else ()
    )
    response = client.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    assert response.location == start
    page = client.get(start)
    assert page.status_code == 200


def test_forgotten_password_by_mail_link(client, mailbox, factory) -> None:
    user = factory.user()
    db.session.commit()
    response = client.post("/wachtwoord-vergeten", data={"email": user.email})
    assert "Als er een account is" in response.get_data(as_text=True)
    # Unknown addresses get the same page and no mail.
    response = client.post("/wachtwoord-vergeten", data={"email": "niemand@example.org"})
    assert "Als er een account is" in response.get_data(as_text=True)
    [message] = mailbox.messages
    link = mailbox.link(message)
    response = client.post(link, data={"password": "kort", "password_confirm": "kort"})
    assert response.status_code == 422
    response = client.post(
        link, data={"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD}
    )
    assert response.status_code == 303
    # The link works once: the password it was made for has changed.
    assert client.get(link).status_code == 400
    assert (
        client.post("/inloggen", data={"email": user.email, "password": GOOD_PASSWORD}).status_code
        == 303
    )
    assert any("gewijzigd" in m["Subject"] for m in mailbox.messages)


def test_change_password_ends_other_sessions(app, client, factory, login_as) -> None:
    user = factory.user()
    other_device = app.test_client()
    login_as(user)
    other_device.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    assert other_device.get("/mijn-account").status_code == 200
    response = client.post(
        "/mijn-account/wachtwoord",
        data={
            "password-current_password": "fout-wachtwoord",
            "password-password": GOOD_PASSWORD,
            "password-password_confirm": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "huidige wachtwoord klopt niet" in response.get_data(as_text=True)
    response = client.post(
        "/mijn-account/wachtwoord",
        data={
            "password-current_password": "wijkkracht-demo",
            "password-password": GOOD_PASSWORD,
            "password-password_confirm": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert client.get("/mijn-account").status_code == 200
    assert other_device.get("/mijn-account").status_code == 302


def test_change_email_is_reverified(client, mailbox, factory, login_as) -> None:
    user = factory.user()
    login_as(user)
    taken = client.post(
        "/mijn-account/e-mailadres",
        data={
            "email-new_email": "bewoner@demo.wijkkracht.nl",
            "email-current_password": "wijkkracht-demo",
        },
    )
    assert taken.status_code == 422
    response = client.post(
        "/mijn-account/e-mailadres",
        data={
            "email-new_email": "Nieuw.Adres@example.org",
            "email-current_password": "wijkkracht-demo",
        },
    )
    assert response.status_code == 303
    db.session.refresh(user)
    assert (
        user.email != "nieuw.adres@example.org" and user.pending_email == "nieuw.adres@example.org"
    )
    [message] = mailbox.to("nieuw.adres@example.org")
    client.get(mailbox.link(message))
    db.session.refresh(user)
    assert user.email == "nieuw.adres@example.org" and user.pending_email is None


def test_verification_mail_link_is_not_shown_in_the_inbox(client, factory) -> None:
    client.post("/account-maken", data=register_data(email="inbox@example.org"))
    user = db.session.scalar(select(User).where(User.email == "inbox@example.org"))
    notification = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert "/e-mail-bevestigen/" in notification.body_text
    assert "/e-mail-bevestigen/" not in notification.inbox_text


def test_logout_needs_post_and_ends_session(client, factory, login_as) -> None:
    user = factory.user()
    login_as(user)
    assert client.get("/uitloggen").status_code == 405
    assert client.post("/uitloggen").status_code == 303
    assert client.get("/mijn-aanvragen").status_code == 302


def test_argon2_hash_and_timing_equalised(factory) -> None:
    from portal.accounts.services import authenticate

    user = factory.user()
    started = time.perf_counter()
    authenticate("niemand@example.org", "wat-dan-ook-12", "1.2.3.4")
    unknown = time.perf_counter() - started
    started = time.perf_counter()
    authenticate(user.email, "fout-wachtwoord-12", "1.2.3.4")
    known = time.perf_counter() - started
    assert unknown > known / 4  # both paths verify an argon2 hash
