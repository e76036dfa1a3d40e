"""Security defaults: headers on every response, CSRF, cookies, production configuration."""

from __future__ import annotations

import re

import pytest

from portal import create_app
from portal.config import ConfigurationError
from tests.conftest import assert_security_headers, make_app
from tests.test_access_matrix import MATRIX, PERSONAS


def test_every_html_response_has_security_headers_and_no_inline_script(
    app, client, personas
) -> None:
    checked = 0
    for persona in PERSONAS:
        session_client = app.test_client()
        user = personas[persona]
        if user is not None:
            session_client.post(
                "/inloggen", data={"email": user.email, "password": "wijkkracht-demo"}
            )
        for route in MATRIX.values():
            if route.method != "GET" or callable(route.path):
                continue
            response = session_client.get(route.path)
            assert_security_headers(response, f"{persona} {route.path}")
            if response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                # No inline scripts or event handlers: the CSP would block them anyway.
                assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), route.path
                # (inside a tag: text that merely mentions "onerror=" is escaped and harmless)
                assert not re.search(r"<[^>]*\son[a-z]+=", html), route.path
                checked += 1
    assert checked > 50


def test_error_pages_carry_headers_too(client) -> None:
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert_security_headers(response, "404")


@pytest.mark.parametrize("locale", ["nl", "en"])
@pytest.mark.parametrize(
    ("code", "nl", "en"),
    [
        (400, "Het verzoek klopt niet", "The request is not right"),
        (403, "Geen toegang", "No access"),
        (404, "Pagina niet gevonden", "Page not found"),
        (422, "De gegevens kloppen niet", "The details are not right"),
        (429, "Te veel pogingen", "Too many attempts"),
        (500, "Er ging iets mis", "Something went wrong"),
    ],
)
def test_error_pages_in_dutch_and_english(app, locale, code, nl, en) -> None:
    from flask import abort

    from portal.web import render_error

    with app.test_request_context("/"):
        from flask import session

        session["locale"] = locale
        response = render_error(code)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert (nl if locale == "nl" else en) in html
    assert f'lang="{locale}"' in html
    assert abort  # the same pages serve real aborts, see test_error_pages_carry_headers_too


def test_unexpected_error_gives_the_500_page(database) -> None:
    app = make_app("wijkkracht_test")

    @app.route("/__kapot")
    def broken() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/__kapot")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_csrf_is_required_for_form_posts(csrf_app) -> None:
    client = csrf_app.test_client()
    response = client.post("/inloggen", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert "Het formulier was verlopen" in response.get_data(as_text=True)
    response = client.post("/taal", data={"locale": "en"})
    assert response.status_code == 400


def test_csrf_token_rides_on_body_for_htmx(csrf_app) -> None:
    client = csrf_app.test_client()
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'<body[^>]*hx-headers="([^"]+)"', html)
    assert found
    import html as html_module
    import json

    headers = json.loads(html_module.unescape(found.group(1)))
    token = headers["X-CSRFToken"]
    ok = client.post(
        "/taal",
        data={"locale": "en", "next": "/"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert ok.status_code == 204 and ok.headers["HX-Redirect"] == "/"
    # An htmx request with a stale token reloads the page instead of failing silently.
    stale = client.post(
        "/taal", data={"locale": "en"}, headers={"X-CSRFToken": "oud", "HX-Request": "true"}
    )
    assert stale.status_code == 400 and stale.headers["HX-Refresh"] == "true"


def test_session_cookie_is_httponly_and_samesite(client, factory) -> None:
    user = factory.user()
    response = client.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain http in the tests


def test_hsts_over_https(client) -> None:
    response = client.get("/privacy", base_url="https://localhost")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/privacy").headers


def test_https_base_url_makes_cookies_secure(monkeypatch, tmp_path) -> None:
    from portal.config import load_config

    monkeypatch.setenv("PORTAL_BASE_URL", "https://wijkkracht.enschede.nl")
    config = load_config(str(tmp_path), None)
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_real_secret(monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()
    monkeypatch.setenv("PORTAL_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError):
        create_app()


def test_production_has_no_dev_pages_no_debug_and_no_demo(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite'}")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert not app.debug
    assert app.config["PORTAL_MAIL_BACKEND"] == "smtp"
    assert "dev.mail_list" not in app.view_functions
    from portal.demo import seed_demo

    with app.app_context(), pytest.raises(RuntimeError):
        seed_demo()
    monkeypatch.setenv("PORTAL_DEBUG", "1")
    with pytest.raises(ConfigurationError):
        create_app()
