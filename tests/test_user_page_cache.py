"""The cache of the busiest signed-in pages (``portal.page_cache.cached_for_user``): a session's
second visit is served without a query, byte for byte the page the view makes; any commit, of any
row, makes every entry stale; an entry belongs to one login token, so no other user, no signed-out
visitor and no blocked user ever gets it; each session gets its own CSRF token, which works."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from portal import page_cache
from portal.accounts.models import User
from portal.applications.models import Application, State
from portal.extensions import db
from tests.test_page_queries import PAGES, World
from tests.test_showcase_cache import without_tokens as without_csrf_tokens

pytestmark = pytest.mark.redis

CREATION_KEY = re.compile(r'(name="creation_key"[^>]*value=")([0-9a-f]{32})')
SIGNED_IN_PAGES = [
    name for name, page in PAGES.items() if page.who is not None and page.method == "GET"
]


@pytest.fixture
def world(factory: Any) -> World:
    return World(factory)


def visit(client: Any, count_queries: Any, url: str, **kwargs: Any) -> tuple[Any, int]:
    with count_queries() as counted:
        response = client.get(url, **kwargs)
    return response, counted.count


def page_of(client: Any, count_queries: Any, url: str, **kwargs: Any) -> tuple[str, int]:
    response, queries = visit(client, count_queries, url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    assert "HX-Request" in response.headers.get("Vary", "")
    assert response.headers.get("Cache-Control") == "no-store"
    return response.get_data(as_text=True), queries


def without_tokens(html: str) -> str:
    """The page without what each visit gets anew: CSRF tokens and creation keys."""
    return CREATION_KEY.sub(r"\1…", without_csrf_tokens(html))


def stored_pages(app: Any, redis_client: Any) -> list[bytes]:
    keys = redis_client.scan_iter(app.config["PORTAL_PAGE_CACHE_PREFIX"] + "user-page:*")
    return [redis_client.get(key) for key in keys]


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_the_second_visit_is_served_from_the_cache_as_the_view_makes_it(
    app, client, count_queries, cache, world, login_as, monkeypatch, name
) -> None:
    page = PAGES[name]
    login_as(world.people[page.who])
    url = page.path(world)
    made, queries_made = page_of(client, count_queries, url)
    cached, queries_cached = page_of(client, count_queries, url)
    assert queries_made > 0 and queries_cached == 0
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_URL", "")
    plain, _ = page_of(client, count_queries, url)
    assert without_tokens(cached) == without_tokens(made) == without_tokens(plain)


def test_any_commit_makes_every_signed_in_page_stale(
    client, count_queries, cache, world, login_as
) -> None:
    login_as(world.people["officer"])
    queue, case = "/werkvoorraad", f"/behandeling/{world.submitted.id}"
    for url in (queue, case):
        page_of(client, count_queries, url)
    # An object changed through the session.
    world.submitted.title = "Soep op het plein"
    db.session.commit()
    for url in (queue, case):
        page, queries = page_of(client, count_queries, url)
        assert queries > 0 and "Soep op het plein" in page
        assert page_of(client, count_queries, url)[1] == 0
    # A bulk UPDATE statement.
    db.session.execute(
        update(Application).where(Application.id == world.submitted.id).values(title="Buurtsoep")
    )
    db.session.commit()
    page, queries = page_of(client, count_queries, case)
    assert queries > 0 and "Buurtsoep" in page
    # Plain SQL, and a row no page of this officer shows: still stale.
    page_of(client, count_queries, queue)
    db.session.execute(text("UPDATE users SET name = 'Iemand Anders' WHERE id = :id"), {
        "id": world.others[4].id
    })  # fmt: skip
    db.session.commit()
    assert page_of(client, count_queries, queue)[1] > 0


def test_a_transaction_rolled_back_leaves_the_cache_as_it_was(
    client, count_queries, cache, world, login_as
) -> None:
    login_as(world.people["officer"])
    page_of(client, count_queries, "/werkvoorraad")
    world.submitted.title = "Nooit bewaard"
    db.session.flush()
    db.session.rollback()
    page, queries = page_of(client, count_queries, "/werkvoorraad")
    assert queries == 0 and "Nooit bewaard" not in page


def test_another_user_never_gets_the_page(
    app, client, count_queries, cache, world, factory
) -> None:
    """Everyone signs in first (signing in writes, which would empty the cache): then nothing
    changes between one user's visit and the other's."""
    people = {
        "resident": world.resident,
        "nosy": factory.user(postcode="7533AE", name="Nina Nieuwsgierig"),
        "officer": world.people["officer"],
        "west": factory.user(roles=("case_officer",), boroughs=("West",), name="Wim"),
    }
    db.session.commit()
    browsers = {}
    for name, person in people.items():
        browsers[name] = app.test_client()
        response = browsers[name].post(
            "/inloggen", data={"email": person.email, "password": "wijkkracht-demo"}
        )
        assert response.status_code == 303
    mine = f"/aanvragen/{world.submitted.id}"
    for _ in range(2):
        page, _ = page_of(browsers["resident"], count_queries, mine)
        assert world.submitted.reference in page
    response, _ = visit(browsers["nosy"], count_queries, mine)
    assert response.status_code == 404
    # Another officer of another borough: their own (empty) queue, not the first one's.
    for _ in range(2):
        queue, _ = page_of(browsers["officer"], count_queries, "/werkvoorraad")
        assert world.submitted.reference in queue
    for _ in range(2):
        other, _ = page_of(browsers["west"], count_queries, "/werkvoorraad")
        assert world.submitted.reference not in other


def test_signed_out_or_blocked_the_page_is_gone(
    client, count_queries, cache, world, login_as
) -> None:
    login_as(world.people["officer"])
    page_of(client, count_queries, "/werkvoorraad")
    client.post("/uitloggen")
    response, _ = visit(client, count_queries, "/werkvoorraad")
    assert response.status_code in (302, 303) and "/inloggen" in response.headers["Location"]

    login_as(world.people["officer"])
    page_of(client, count_queries, "/werkvoorraad")
    assert page_of(client, count_queries, "/werkvoorraad")[1] == 0
    db.session.execute(
        update(User).where(User.id == world.people["officer"].id).values(active=False)
    )
    db.session.commit()
    response, _ = visit(client, count_queries, "/werkvoorraad")
    assert response.status_code in (302, 303) and "/inloggen" in response.headers["Location"]


def test_each_session_gets_its_own_csrf_token_and_it_works(
    app, client, csrf_app, count_queries, cache, world, login_as
) -> None:
    officer = world.people["officer"]
    case = f"/behandeling/{world.submitted.id}"
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):  # signing in writes: before the page is made
        html = browser.get("/inloggen").get_data(as_text=True)
        login_token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
        response = browser.post(
            "/inloggen",
            data={"csrf_token": login_token, "email": officer.email, "password": "wijkkracht-demo"},
        )
        assert response.status_code == 303
    tokens = []
    for browser in (first, second, second):
        page, queries = page_of(browser, count_queries, case)
        tokens.append(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        assert (queries == 0) == (browser is second)  # made for the first, served to the second
    assert tokens[0] and tokens[1]
    assert {t.split(".")[0] for t in tokens[0]} != {t.split(".")[0] for t in tokens[1]}
    stored = stored_pages(app, cache)
    assert stored and all(page_cache.CSRF_PLACE.encode() in value for value in stored)
    assert not any(token.encode() in value for value in stored for token in tokens[0])
    # The token in the cached page is the second session's own: the form it sits in works.
    response = second.post(f"/behandeling/{world.submitted.id}/compleet",
                           data={"csrf_token": tokens[2][0]})  # fmt: skip
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Application, world.submitted.id).state == State.IN_REVIEW.value


def test_each_visit_gets_a_new_creation_key(client, count_queries, cache, world, login_as) -> None:
    """The "new application" form's key tells a form sent twice from one page from two pages:
    a page from the cache must not hand out the same key again."""
    login_as(world.resident)
    keys = []
    for visit_number in range(3):
        page, queries = page_of(client, count_queries, "/mijn-aanvragen")
        assert (queries == 0) == (visit_number > 0)
        keys += [key for _before, key in CREATION_KEY.findall(page)]
    assert len(keys) == 3 and len(set(keys)) == 3


def test_a_waiting_flash_message_is_shown_and_never_stored(
    client, count_queries, cache, world, login_as
) -> None:
    login_as(world.resident)
    page_of(client, count_queries, "/mijn-aanvragen")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Uw aanvraag is verstuurd.")]
    page, queries = page_of(client, count_queries, "/mijn-aanvragen")
    assert "Uw aanvraag is verstuurd." in page and queries > 0
    page, queries = page_of(client, count_queries, "/mijn-aanvragen")
    assert "Uw aanvraag is verstuurd." not in page and queries == 0


def test_languages_fragments_and_days_are_kept_apart(
    client, count_queries, cache, world, login_as, monkeypatch
) -> None:
    login_as(world.people["officer"])
    dutch, _ = page_of(client, count_queries, "/werkvoorraad")
    fragment, _ = page_of(client, count_queries, "/werkvoorraad", headers={"HX-Request": "true"})
    again, queries = page_of(client, count_queries, "/werkvoorraad", headers={"HX-Request": "true"})
    assert queries == 0 and again == fragment and "<!DOCTYPE html>" not in fragment
    assert dutch.lstrip().startswith("<!DOCTYPE html>")
    client.post("/taal", data={"locale": "en", "next": "/werkvoorraad"})
    english, queries = page_of(client, count_queries, "/werkvoorraad")
    assert queries > 0 and 'lang="en"' in english and 'lang="nl"' in dutch
    tomorrow = page_cache.local_today() + timedelta(days=1)
    monkeypatch.setattr(page_cache, "local_today", lambda: tomorrow)
    assert page_of(client, count_queries, "/werkvoorraad")[1] > 0


def test_without_redis_the_pages_are_made_every_time(
    app, client, count_queries, world, login_as, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_URL", "redis://127.0.0.1:1/0")
    login_as(world.people["officer"])
    for _ in range(2):
        page, queries = page_of(client, count_queries, "/werkvoorraad")
        assert world.submitted.reference in page and queries > 0
    page_cache._paused_until.clear()


def test_only_the_users_own_pages_are_stored(client, count_queries, cache, world, login_as) -> None:
    """A page the user may not see is not stored (and so never served)."""
    login_as(world.resident)
    for _ in range(2):
        response, _ = visit(client, count_queries, "/werkvoorraad")
        assert response.status_code == 403
    response, _ = visit(client, count_queries, f"/aanvragen/{world.draft.id}")
    assert response.status_code in (302, 303)  # a draft opens in the form
    assert stored_pages(client.application, cache) == []
