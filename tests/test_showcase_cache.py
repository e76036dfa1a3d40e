"""The page cache of the showcase and an initiative's page (``portal.page_cache``):
anonymous visitors get the stored page until something it shows changes; signed-in users, other
languages, waiting flash messages and htmx fragments are kept apart; every visitor gets their own
CSRF token; the last pages of the showcase are the same read from either end."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from portal import page_cache
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import drafting, participation, review, services
from portal.initiatives import showcase as listing
from portal.initiatives.models import InitiativePhoto, InitiativeTheme
from tests.conftest import Factory
from tests.test_initiatives_showcase import make_initiative, published, sign_in, titles

pytestmark = pytest.mark.redis

TOKEN = re.compile(r'(name="csrf_token" value="|&#34;X-CSRFToken&#34;: &#34;)[^"&]+')


@pytest.fixture
def cast(factory: Factory) -> dict[str, Any]:
    return {
        "initiator": factory.user(postcode="7533AB", name="Anna de Vries"),
        "neighbour": factory.user(postcode="7533AC", name="Bram Buur"),
        "officer": factory.user(
            roles=("case_officer",), boroughs=("Oost", "Centrum"), name="Eva Mulder"
        ),
    }


@pytest.fixture
def initiative(cast: dict[str, Any]) -> Any:
    made = published(cast["initiator"], cast["officer"], title="Repair Café")
    db.session.commit()
    return made


def get(client: Any, count_queries: Any, url: str, **kwargs: Any) -> tuple[str, int]:
    """The page's HTML and how many queries it took."""
    with count_queries() as counted:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    assert "HX-Request" in response.headers.get("Vary", "")
    return response.get_data(as_text=True), counted.count


def without_tokens(html: str) -> str:
    return TOKEN.sub(r"\1…", html)


def detail_url(initiative: Any) -> str:
    return f"/initiatieven/{initiative.path_key}"


# --- served from the cache ----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["showcase", "filtered", "detail"])
def test_the_second_anonymous_visit_is_served_from_the_cache(
    client, count_queries, cache, initiative, page
) -> None:
    url = {
        "showcase": "/initiatieven",
        "filtered": "/initiatieven?wijk=glanerbrug&thema=leefbaarheid&zoek=repair",
        "detail": detail_url(initiative),
    }[page]
    first, made = get(client, count_queries, url)
    second, cached = get(client, count_queries, url)
    assert made > 0 and cached == 0
    assert "Repair Café" in second
    # The same page as made without the cache, down to the byte (the tokens aside).
    assert without_tokens(second) == without_tokens(first)


def test_the_cached_page_is_the_page_made_without_the_cache(
    app, client, count_queries, cache, initiative, monkeypatch
) -> None:
    cached_twice = [get(client, count_queries, detail_url(initiative))[0] for _ in range(2)]
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_URL", "")
    plain, _ = get(client, count_queries, detail_url(initiative))
    assert {without_tokens(page) for page in cached_twice} == {without_tokens(plain)}


def test_each_visitor_gets_their_own_csrf_token(app, client, cache, initiative) -> None:
    second = app.test_client()
    pages = [c.get("/initiatieven").get_data(as_text=True) for c in (client, second, second)]
    tokens = [re.findall(r'name="csrf_token" value="([^"]+)"', page)[0] for page in pages]
    # The second visitor's pages came from the cache, with their own session's token.
    assert tokens[0].split(".")[0] != tokens[1].split(".")[0]
    assert tokens[1].split(".")[0] == tokens[2].split(".")[0]
    stored = [
        cache.get(key) for key in cache.scan_iter(app.config["PORTAL_PAGE_CACHE_PREFIX"] + "page:*")
    ]
    assert stored
    assert not any(b"csrf_token" in value or b"X-CSRFToken" in value for value in stored)


def test_an_htmx_request_gets_the_fragment_and_a_full_request_the_page(
    client, count_queries, cache, initiative
) -> None:
    url = "/initiatieven?wijk=glanerbrug"
    headers = {"HX-Request": "true"}
    fragment, _ = get(client, count_queries, url, headers=headers)
    again, queries = get(client, count_queries, url, headers=headers)
    page, _ = get(client, count_queries, url)
    assert queries == 0 and again == fragment
    assert fragment.lstrip().startswith('<div id="initiatieven-resultaten"')
    assert page.lstrip().startswith("<!DOCTYPE html>") and "Repair Café" in page
    # An initiative's page has no fragment: htmx gets the whole page, also from the cache.
    for _ in range(2):
        detail, _ = get(client, count_queries, detail_url(initiative), headers=headers)
        assert detail.lstrip().startswith("<!DOCTYPE html>") and "Repair Café" in detail


# --- never for ... ----------------------------------------------------------------------------


def test_signed_in_users_never_get_the_cached_page_nor_fill_it(
    client, count_queries, cache, cast, initiative
) -> None:
    url = detail_url(initiative)
    anonymous, _ = get(client, count_queries, url)
    assert "Log in om dit initiatief te steunen" in anonymous
    sign_in(client, cast["neighbour"])
    for _ in range(2):
        mine, queries = get(client, count_queries, url)
        assert queries > 0
        assert "Ik steun dit initiatief" in mine and "Log in om dit initiatief" not in mine
    client.post("/uitloggen")
    get(client, count_queries, url)  # shows "logged out" (a flash message: not from the cache)
    again, queries = get(client, count_queries, url)
    assert queries == 0 and "Ik steun dit initiatief" not in again
    assert "Log in om dit initiatief te steunen" in again


def test_languages_are_cached_apart(client, count_queries, cache, initiative) -> None:
    dutch, _ = get(client, count_queries, "/initiatieven")
    client.post("/taal", data={"locale": "en", "next": "/initiatieven"})
    english, _ = get(client, count_queries, "/initiatieven")
    again, queries = get(client, count_queries, "/initiatieven")
    assert "Initiatieven van bewoners" in dutch and "Residents' initiatives" not in dutch
    assert "Residents&#39; initiatives" in english or "Residents' initiatives" in english
    assert queries == 0 and without_tokens(again) == without_tokens(english)


def test_a_waiting_flash_message_is_shown_and_the_cache_is_passed_by(
    client, count_queries, cache, initiative
) -> None:
    get(client, count_queries, "/initiatieven")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Uw reactie staat op de pagina.")]
    page, queries = get(client, count_queries, "/initiatieven")
    assert "Uw reactie staat op de pagina." in page and queries > 0
    page, queries = get(client, count_queries, "/initiatieven")
    assert "Uw reactie staat op de pagina." not in page and queries == 0


def test_when_redis_loses_the_version_no_older_page_is_served(
    app, client, count_queries, cache, initiative
) -> None:
    prefix = app.config["PORTAL_PAGE_CACHE_PREFIX"]
    get(client, count_queries, "/initiatieven")
    before = int(cache.get(prefix + page_cache.PAGES))
    cache.delete(prefix + page_cache.PAGES, prefix + page_cache.LISTS)  # a restart, an eviction
    assert get(client, count_queries, "/initiatieven")[1] > 0
    assert int(cache.get(prefix + page_cache.PAGES)) > before  # a new version, never an old one
    get(client, count_queries, "/initiatieven")
    assert get(client, count_queries, "/initiatieven")[1] == 0


def test_without_redis_the_pages_are_made_every_time(
    app, client, count_queries, initiative, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.config, "PORTAL_PAGE_CACHE_PREFIX", f"nowhere:{uuid.uuid4().hex}:")
    for _ in range(2):
        page, queries = get(client, count_queries, "/initiatieven")
        assert "Repair Café" in page and queries > 0
    page_cache._paused_until.clear()


# --- made fresh by every change it shows ---------------------------------------------------------
# Each change prepares what it needs (committed before the pages are cached), and returns the
# change itself: it returns the page to look at and what must (or, with "!", must not) be on it.

Change = Callable[[], tuple[str, str]]


def change_publish(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        published(cast["initiator"], cast["officer"], title="Buurtbieb in het park")
        return "/initiatieven", "Buurtbieb in het park"

    return act


def change_support(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        participation.support(initiative, cast["neighbour"])
        return detail_url(initiative), "1 persoon steunt dit initiatief"

    return act


def change_support_on_the_card(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        participation.support(initiative, cast["neighbour"])
        return "/initiatieven", "1 persoon steunt dit"

    return act


def change_unsupport(cast: dict[str, Any], initiative: Any) -> Change:
    participation.support(initiative, cast["neighbour"])

    def act() -> tuple[str, str]:
        participation.unsupport(initiative, cast["neighbour"])
        return detail_url(initiative), "0 mensen steunen dit initiatief"

    return act


def change_comment(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        participation.add_comment(initiative, cast["neighbour"], "Ik kom helpen met solderen!")
        return detail_url(initiative), "Ik kom helpen met solderen!"

    return act


def change_hide_comment(cast: dict[str, Any], initiative: Any) -> Change:
    comment = participation.add_comment(initiative, cast["neighbour"], "Koop nu goedkope pillen")

    def act() -> tuple[str, str]:
        review.hide_comment(comment, initiative, cast["officer"], "Reclame")
        return detail_url(initiative), "!Koop nu goedkope pillen"

    return act


def change_update(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        drafting.post_update(initiative, cast["initiator"], "De eerste tien fietsen zijn klaar.")
        return detail_url(initiative), "De eerste tien fietsen zijn klaar."

    return act


def change_status(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        services.change_status(initiative, "start_running", cast["officer"], note="We gaan!")
        return "/initiatieven?status=running", "Repair Café"

    return act


def change_theme(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        db.session.add(InitiativeTheme(initiative_id=initiative.id, theme="duurzaamheid"))
        return "/initiatieven?thema=duurzaamheid", "Repair Café"

    return act


def change_district_name(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        found = db.session.scalar(select(District).where(District.name == "Glanerbrug"))
        found.name = "Glanerbrug-Oost"
        return "/initiatieven", "Glanerbrug-Oost"

    return act


def change_initiator_name(cast: dict[str, Any], initiative: Any) -> Change:
    def act() -> tuple[str, str]:
        cast["initiator"].name = "Anna Jansen"
        return detail_url(initiative), "Anna Jansen"

    return act


def change_photo_ready(cast: dict[str, Any], initiative: Any) -> Change:
    photo = InitiativePhoto(
        initiative_id=initiative.id,
        storage_key=uuid.uuid4().hex,
        content_type="image/jpeg",
        display_name="fietsen.jpg",
        size=100,
        description="Tien gerepareerde fietsen",
        uploaded_by_id=cast["initiator"].id,
    )
    db.session.add(photo)  # not ready yet: not shown

    def act() -> tuple[str, str]:
        photo.ready = True  # the worker is done with it
        return detail_url(initiative), 'alt="Tien gerepareerde fietsen"'

    return act


def change_delete(cast: dict[str, Any], initiative: Any) -> Change:
    other = published(cast["initiator"], cast["officer"], title="Weg ermee")

    def act() -> tuple[str, str]:
        db.session.delete(other)
        return "/initiatieven", "!Weg ermee"

    return act


CHANGES = [
    change_publish,
    change_support,
    change_support_on_the_card,
    change_unsupport,
    change_comment,
    change_hide_comment,
    change_update,
    change_status,
    change_theme,
    change_district_name,
    change_initiator_name,
    change_photo_ready,
    change_delete,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__[7:] for c in CHANGES])
def test_every_change_it_shows_makes_the_page_fresh(
    client, count_queries, cache, cast, initiative, change
) -> None:
    act = change(cast, initiative)
    db.session.commit()
    urls = [
        "/initiatieven",
        detail_url(initiative),
        "/initiatieven?status=running",
        "/initiatieven?thema=duurzaamheid",
    ]
    for url in urls:  # all in the cache
        get(client, count_queries, url)
        assert get(client, count_queries, url)[1] == 0
    url, expected = act()
    db.session.flush()
    for url_before in urls:  # visitors see nothing of it before the commit
        assert get(client, count_queries, url_before)[1] == 0
    db.session.commit()
    page, queries = get(client, count_queries, url)
    assert queries > 0
    if expected.startswith("!"):
        assert expected[1:] not in page
    else:
        assert expected in page


def test_a_new_supporter_does_not_make_the_showcase_count_again(
    client, count_queries, cache, cast, initiative
) -> None:
    url = "/initiatieven?thema=leefbaarheid"  # filtered: counted, and the count kept
    get(client, count_queries, url)
    participation.support(initiative, cast["neighbour"])
    db.session.commit()
    with count_queries() as counted:
        client.get(url)
    assert counted.count > 0
    assert not any("count(" in statement.lower() for statement in counted.statements)
    published(cast["initiator"], cast["officer"], title="Buurtbieb in het park")
    db.session.commit()
    with count_queries() as counted:
        page = client.get(url).get_data(as_text=True)
    assert any("count(" in statement.lower() for statement in counted.statements)
    assert "2 initiatieven gevonden" in page


@pytest.mark.parametrize("url", ["/initiatieven", "/initiatieven?status=published"])
def test_the_whole_showcase_never_counts_the_initiatives(
    client, count_queries, cache, cast, initiative, url
) -> None:
    """Without filters (or with only a status) the count is read from ``initiative_counts``,
    which the database keeps: right after a publication too."""
    get(client, count_queries, url)
    published(cast["initiator"], cast["officer"], title="Buurtbieb in het park")
    db.session.commit()
    with count_queries() as counted:
        page = client.get(url).get_data(as_text=True)
    assert counted.count > 0
    assert not any("count(" in statement.lower() for statement in counted.statements)
    assert "2 initiatieven gevonden" in page


def test_a_rolled_back_change_does_not_count_until_the_next_commit(
    client, count_queries, cache, cast, initiative
) -> None:
    get(client, count_queries, "/initiatieven")
    make_initiative(cast["initiator"], title="Nooit ingediend", state="draft")
    db.session.rollback()
    assert get(client, count_queries, "/initiatieven")[1] == 0


# --- the pages read from the oldest end --------------------------------------------------------


def test_every_page_of_the_showcase_is_the_same_read_from_either_end(
    client, cast, monkeypatch
) -> None:
    monkeypatch.setattr(listing, "PER_PAGE", 4)
    made = [
        published(cast["initiator"], cast["officer"], title=f"Initiatief {n:02d}")
        for n in range(11)
    ]
    base = made[0].published_at
    for n, initiative in enumerate(made):  # two at each moment: the id decides between them
        initiative.published_at = base.replace(microsecond=0).replace(second=n // 2)
    db.session.commit()
    expected = [i.title for i in sorted(made, key=lambda i: (i.published_at, i.id), reverse=True)]
    pages = [
        titles(client.get(f"/initiatieven?page={n}").get_data(as_text=True)) for n in (1, 2, 3)
    ]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert [title for page in pages for title in page] == expected
    assert titles(client.get("/initiatieven?page=4").get_data(as_text=True)) == []


def test_the_cache_follows_redis_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from portal.config import load_config

    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.delenv("PORTAL_PAGE_CACHE_URL", raising=False)
    assert load_config(str(tmp_path))["PORTAL_PAGE_CACHE_URL"] is None  # the Redis above
    monkeypatch.setenv("PORTAL_PAGE_CACHE_URL", "")
    assert load_config(str(tmp_path))["PORTAL_PAGE_CACHE_URL"] == ""  # off
