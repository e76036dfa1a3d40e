"""The public showcase of initiatives and taking part: filters and search (with and without
JavaScript), a constant number of queries, the detail page (canonical URL, who sees what, hidden
comments, Open Graph), the Atom feeds, support (also racing itself), offers of help, comments,
reports and messages, and hostile text shown as text everywhere."""

from __future__ import annotations

import re
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from portal.applications import workflow
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import services
from portal.initiatives.models import (
    Comment,
    CommentBlock,
    CommentReport,
    HelpOffer,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativeMessage,
    InitiativeTheme,
    InitiativeUpdate,
    Support,
)
from portal.notifications.models import Notification
from portal.timeutil import utcnow
from tests.conftest import Factory, make_app, reset_schema

ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "javascript:alert(1)"
RLO = "\u202e"
LONG = "x" * 10_000


# --- helpers ----------------------------------------------------------------------------------


def district(name: str) -> District:
    return db.session.scalar(select(District).where(District.name == name))


def make_initiative(
    initiator: Any,
    *,
    title: str = "Moestuin aan de Oldenzaalsestraat",
    pitch: str = "Samen groente kweken met de buurt.",
    description: str = "Een moestuin voor iedereen.\nOok voor kinderen.",
    districts: tuple[str, ...] = ("Glanerbrug",),
    themes: tuple[str, ...] = ("leefbaarheid",),
    help_wanted: tuple[str, ...] = ("volunteers",),
    citywide: bool = False,
    state: str = "submitted",
) -> Initiative:
    initiative = Initiative(
        initiator_id=initiator.id,
        creation_key=uuid.uuid4().hex,
        slug=services.slugify(title),
        title=title,
        pitch=pitch,
        description=description,
        citywide=citywide,
        state=state,
        submitted_at=utcnow() if state != "draft" else None,
    )
    db.session.add(initiative)
    db.session.flush()
    for name in districts:
        initiative.district_links.append(
            InitiativeDistrict(initiative_id=initiative.id, district_id=district(name).id)
        )
    for theme in themes:
        initiative.theme_links.append(InitiativeTheme(initiative_id=initiative.id, theme=theme))
    for kind in help_wanted:
        initiative.help_links.append(InitiativeHelp(initiative_id=initiative.id, kind=kind))
    db.session.flush()
    return initiative


def publish(initiative: Initiative, officer: Any) -> Initiative:
    """Through the workflow table, as a case officer of the borough does."""
    workflow.transition_initiative(initiative, "publish", officer, published_at=utcnow())
    services.add_timeline(initiative, "status", code=initiative.state, author=officer)
    db.session.flush()
    return initiative


def published(initiator: Any, officer: Any, **values: Any) -> Initiative:
    return publish(make_initiative(initiator, **values), officer)


def titles(html: str) -> list[str]:
    return re.findall(
        r'<a class="utrecht-link" href="/initiatieven/\d+[^"]*">([^<]*)</a></h2>', html
    )


def parse_atom(data: bytes) -> ET.Element:
    """Our own feed, parsed strictly: it must be well-formed XML."""
    return ET.fromstring(data)  # noqa: S314 - the portal's own output in a test, not untrusted


def sign_in(client: Any, user: Any) -> None:
    """Log ``client`` in as ``user`` (out of whoever it was first)."""
    client.post("/uitloggen")
    response = client.post("/inloggen", data={"email": user.email, "password": "wijkkracht-demo"})
    assert response.status_code == 303


def notifications(kind: str, user: Any) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.kind == kind, Notification.user_id == user.id)
        )
    )


class MetaTags(HTMLParser):
    """The <meta property="og:…"> and <link rel="canonical"> of a page, unescaped."""

    def __init__(self) -> None:
        super().__init__()
        self.og: dict[str, str] = {}
        self.canonical: str | None = None
        self.alternates: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or "").startswith("og:"):
            self.og[values["property"] or ""] = values.get("content") or ""
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical = values.get("href")
        if tag == "link" and values.get("rel") == "alternate":
            self.alternates.append(values)


def meta_tags(html: str) -> MetaTags:
    parser = MetaTags()
    parser.feed(html)
    return parser


@pytest.fixture
def cast(factory: Factory) -> dict[str, Any]:
    return {
        "initiator": factory.user(postcode="7533AB", name="Anna de Vries"),
        "neighbour": factory.user(postcode="7533AC", name="Bram Buur"),
        "other": factory.user(postcode="7511AB", name="Carla Centrum"),
        "officer": factory.user(
            roles=("case_officer",), boroughs=("Oost", "Centrum"), name="Eva Mulder"
        ),
        "officer_elsewhere": factory.user(
            roles=("case_officer",), boroughs=("West",), name="Frank West"
        ),
    }


# --- the showcase -------------------------------------------------------------------------------


def test_showcase_lists_only_published_newest_first_with_everything_a_card_shows(
    client, cast
) -> None:
    initiator, officer = cast["initiator"], cast["officer"]
    first = published(initiator, officer, title="Repair Café", help_wanted=("expertise",))
    second = published(
        initiator,
        officer,
        title="Buurtpreventie",
        citywide=True,
        districts=(),
        themes=("veiligheidsgevoel",),
    )
    make_initiative(initiator, title="Nog niet bekeken")  # submitted
    make_initiative(initiator, title="Nog een concept", state="draft")
    second.published_at = first.published_at.replace(year=first.published_at.year + 1)
    second.support_count = 3
    db.session.commit()

    response = client.get("/initiatieven")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert titles(html) == ["Buurtpreventie", "Repair Café"]
    assert "Nog niet bekeken" not in html and "Nog een concept" not in html
    assert "Heel Enschede" in html and "Glanerbrug" in html
    assert "Je veilig voelen in de buurt" in html  # the theme's label
    assert "Kennis of advies" in html  # the help wanted
    assert "3 mensen steunen dit" in html and "0 mensen steunen dit" in html
    assert "Gepubliceerd" in html
    assert 'role="search"' in html and '<label class="utrecht-form-label" for="zoek">' in html
    feeds = [link["href"] for link in meta_tags(html).alternates]
    assert feeds == ["/initiatieven/feed.atom"]


def test_filters_and_search_work_as_plain_get_and_live_in_the_links(client, cast) -> None:
    initiator, officer = cast["initiator"], cast["officer"]
    other = cast["other"]
    published(
        initiator,
        officer,
        title="Moestuin Glanerbrug",
        themes=("duurzaam_gedrag",),
        help_wanted=("space",),
    )
    city = published(other, officer, title="Koken in de Binnenstad", districts=("Binnenstad",))
    published(initiator, officer, title="50% korting_op soep", pitch="Goedkoop eten.")
    workflow.transition_initiative(city, "start_running", officer)
    db.session.commit()
    glanerbrug = district("Glanerbrug")

    def shown(query: str) -> list[str]:
        response = client.get(f"/initiatieven?{query}")
        assert response.status_code == 200
        return sorted(titles(response.get_data(as_text=True)))

    assert shown("wijk=binnenstad") == ["Koken in de Binnenstad"]
    assert shown(f"wijk={glanerbrug.id}") == ["50% korting_op soep", "Moestuin Glanerbrug"]
    assert shown("thema=duurzaam_gedrag") == ["Moestuin Glanerbrug"]
    assert shown("hulp=space") == ["Moestuin Glanerbrug"]
    assert shown("status=running") == ["Koken in de Binnenstad"]
    assert shown("zoek=MOESTUIN") == ["Moestuin Glanerbrug"]  # case-insensitive
    assert shown("zoek=goedkoop") == ["50% korting_op soep"]  # the pitch too
    # Wildcards are searched for literally.
    assert shown("zoek=%25") == ["50% korting_op soep"]
    assert shown("zoek=g_op") == ["50% korting_op soep"]
    assert shown("zoek=_") == ["50% korting_op soep"]
    # Unknown values are ignored rather than an error.
    assert len(shown("wijk=nergens&thema=x&hulp=y&status=draft")) == 3

    html = client.get("/initiatieven?wijk=glanerbrug&zoek=o").get_data(as_text=True)
    assert '<option value="glanerbrug" selected>' in html
    assert 'value="o"' in html
    feeds = [link["href"] for link in meta_tags(html).alternates]
    assert "/initiatieven/wijk/glanerbrug.atom" in feeds

    empty = client.get("/initiatieven?zoek=bestaatniet").get_data(as_text=True)
    assert "Geen enkel initiatief past bij deze filters" in empty
    assert 'href="/initiatieven">Alle filters wissen en alle initiatieven zien' in empty


def test_an_htmx_request_gets_only_the_results_fragment(client, cast) -> None:
    published(cast["initiator"], cast["officer"], title="Moestuin Glanerbrug")
    published(cast["other"], cast["officer"], title="Koken", districts=("Binnenstad",))
    db.session.commit()

    fragment = client.get("/initiatieven?zoek=moestuin", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="initiatieven-resultaten"')
    assert "<html" not in html and 'role="search"' not in html
    assert titles(html) == ["Moestuin Glanerbrug"]
    assert "HX-Request" in fragment.headers.get("Vary", "")

    full = client.get("/initiatieven?zoek=moestuin")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers.get("Vary", "")
    # The form asks htmx for the fragment and puts the filters in the address bar.
    form = full.get_data(as_text=True)
    assert 'hx-get="/initiatieven"' in form and 'hx-push-url="true"' in form
    assert 'hx-target="#initiatieven-resultaten"' in form


def bulk_publish(initiator: Any, count: int) -> None:
    """``count`` public initiatives in one statement per table (fast), spread over districts,
    themes, help and states; every seventh is about a moestuin."""
    names = ["Glanerbrug", "Binnenstad", "Stadsveld", "Helmerhoek"]
    district_ids = [district(name).id for name in names]
    themes = ["leefbaarheid", "duurzaam_gedrag", "sociale_samenhang"]
    kinds = ["volunteers", "space", "materials", "expertise", "money"]
    states = ["published", "in_conversation", "running", "realised", "stopped"]
    now = utcnow()
    rows = [
        {
            "initiator_id": initiator.id,
            "creation_key": f"bulk-{n}",
            "slug": f"initiatief-{n}",
            "title": f"{'Moestuin' if n % 7 == 0 else 'Initiatief'} {n}",
            "pitch": f"Korte omschrijving {n}",
            "description": "",
            "citywide": False,
            "contact_note": "",
            "state": states[n % len(states)],
            "support_count": n % 11,
            "published_at": now - timedelta(minutes=n),
        }
        for n in range(count)
    ]
    ids = list(
        db.session.scalars(
            insert(Initiative).returning(Initiative.id, sort_by_parameter_order=True), rows
        )
    )
    db.session.execute(
        insert(InitiativeDistrict),
        [{"initiative_id": i, "district_id": district_ids[n % 4]} for n, i in enumerate(ids)],
    )
    db.session.execute(
        insert(InitiativeTheme),
        [{"initiative_id": i, "theme": themes[n % 3]} for n, i in enumerate(ids)],
    )
    db.session.execute(
        insert(InitiativeHelp),
        [{"initiative_id": i, "kind": kinds[n % 5]} for n, i in enumerate(ids)],
    )
    db.session.commit()


def test_the_showcase_costs_the_same_queries_whatever_the_filters_and_page(
    client, cast, count_queries
) -> None:
    bulk_publish(cast["initiator"], 320)
    queries = {
        "nothing": "",
        "district": "wijk=glanerbrug",
        "district by id": f"wijk={district('Stadsveld').id}",
        "theme": "thema=duurzaam_gedrag",
        "help": "hulp=money",
        "status": "status=running",
        "search": "zoek=moestuin",
        "everything": "wijk=glanerbrug&thema=leefbaarheid&status=published&zoek=initiatief",
        "deep page": "page=13",
        "deep filtered page": "status=published&page=2",
    }
    counts = {}
    for name, query in queries.items():
        with count_queries() as counted:
            response = client.get(f"/initiatieven?{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert titles(html), f"{name}: the page should not be empty"
        counts[name] = counted.count
    assert len(set(counts.values())) == 1, counts
    # The districts for the filter, the count, the page, and one query per card collection.
    assert counts["nothing"] <= 7, counts

    first = client.get("/initiatieven").get_data(as_text=True)
    assert len(titles(first)) == 24
    assert "320 initiatieven gevonden" in first
    assert titles(first)[0] == "Moestuin 0"  # newest published first
    assert 'href="/initiatieven?page=2"' in first
    filtered = client.get("/initiatieven?hulp=money").get_data(as_text=True)
    assert "64 initiatieven gevonden" in filtered
    assert 'href="/initiatieven?page=2&amp;hulp=money"' in filtered  # the filters stay


def test_twenty_thousand_published_initiatives_cost_the_same_queries(
    client, cast, count_queries
) -> None:
    """The acceptance figure: 20,000 published initiatives, any filter, search and page."""
    bulk_publish(cast["initiator"], 20_000)
    counts = {}
    for query in (
        "",
        "wijk=glanerbrug",
        "thema=duurzaam_gedrag&hulp=money",
        "status=running&zoek=moestuin",
        "page=800",
        "wijk=stadsveld&page=150",
    ):
        with count_queries() as counted:
            response = client.get(f"/initiatieven?{query}")
        assert response.status_code == 200, query
        assert titles(response.get_data(as_text=True)), query
        counts[query] = counted.count
    assert len(set(counts.values())) == 1, counts
    page = client.get("/initiatieven").get_data(as_text=True)
    assert re.search(r"20[.,]?000 initiatieven gevonden", page), page[:300]


# --- the detail page ----------------------------------------------------------------------------


def test_detail_redirects_to_its_canonical_address_and_shows_the_initiative(client, cast) -> None:
    officer = cast["officer"]
    initiative = published(cast["initiator"], officer, help_wanted=("volunteers", "space"))
    initiative.guide_id = officer.id
    services.add_timeline(initiative, "update", body="De eerste bak staat er!", author=None)
    services.add_timeline(initiative, "milestone", code="application_submitted")
    db.session.commit()
    key = initiative.path_key
    assert key == f"{initiative.id}-moestuin-aan-de-oldenzaalsestraat"

    for wrong in (str(initiative.id), f"{initiative.id}-oude-naam"):
        moved = client.get(f"/initiatieven/{wrong}?page=1")
        assert moved.status_code == 301
        assert moved.location.endswith(f"/initiatieven/{key}?page=1")
    for unknown in ("999999", "abc", "99999999999999999999", "0"):
        assert client.get(f"/initiatieven/{unknown}").status_code == 404

    response = client.get(f"/initiatieven/{key}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Moestuin aan de Oldenzaalsestraat" in html
    assert "Een moestuin voor iedereen.\nOok voor kinderen." in html  # line breaks kept
    assert "Begeleider van de gemeente" in html and "Eva Mulder" in html
    assert "Vrijwilligers" in html and "Een ruimte" in html
    assert "Status: Gepubliceerd" in html
    assert "De eerste bak staat er!" in html
    assert "Wijkbudget aangevraagd" in html
    assert "Log in om dit initiatief te steunen" in html
    assert "nog niet gepubliceerd" not in html
    tags = meta_tags(html)
    canonical = f"http://localhost/initiatieven/{key}"
    assert tags.canonical == canonical
    assert tags.og["og:title"] == "Moestuin aan de Oldenzaalsestraat"
    assert tags.og["og:description"] == "Samen groente kweken met de buurt."
    assert tags.og["og:type"] == "article"
    assert tags.og["og:url"] == canonical
    assert tags.og["og:locale"] == "nl_NL"
    assert "og:image" not in tags.og  # no photo


def test_photos_milestone_links_and_odd_addresses(app, client, cast) -> None:
    """The first ready photo is the card's thumbnail and the og:image (absolute, large); the
    link to the wijkbudget application is for its applicant only; odd arguments and page
    numbers do not break or shape anything."""
    from portal.applications.models import Application
    from portal.initiatives.models import InitiativePhoto

    initiator = cast["initiator"]
    initiative = published(initiator, cast["officer"])

    def photo(position: int, ready: bool, description: str) -> InitiativePhoto:
        row = InitiativePhoto(
            initiative_id=initiative.id,
            position=position,
            storage_key=uuid.uuid4().hex,
            content_type="image/jpeg",
            display_name="tuin.jpg",
            size=1000,
            description=description,
            ready=ready,
            uploaded_by_id=initiator.id,
        )
        db.session.add(row)
        return row

    photo(0, False, "Nog niet klaar")
    ready = photo(1, True, "De tuin in mei")
    application = Application(
        applicant_id=initiator.id,
        district_id=initiator.district_id,
        creation_key="from-initiative",
        title="Moestuin",
        kaders=[],
        initiative_id=initiative.id,
    )
    db.session.add(application)
    db.session.flush()
    services.add_timeline(initiative, "milestone", code="application_submitted")
    db.session.commit()
    large = f"/initiatieven/{initiative.id}/fotos/{ready.id}/groot"
    small = f"/initiatieven/{initiative.id}/fotos/{ready.id}/klein"

    showcase = client.get("/initiatieven").get_data(as_text=True)
    assert f'src="{small}" alt="De tuin in mei"' in showcase
    assert "Nog niet klaar" not in showcase

    html = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    tags = meta_tags(html)
    assert tags.og["og:image"] == f"http://localhost{large}"
    assert tags.og["og:image:alt"] == "De tuin in mei"
    assert "Wijkbudget aangevraagd" in html
    assert f"/aanvragen/{application.id}" not in html  # not for the public

    sign_in(client, cast["other"])
    other = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert f"/aanvragen/{application.id}" not in other
    sign_in(client, initiator)
    own = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert f'href="/aanvragen/{application.id}"' in own

    odd = client.get(f"/initiatieven/{initiative.id}?key=x&_external=1&_anchor=y&page=2")
    assert odd.status_code == 301
    assert odd.location == f"/initiatieven/{initiative.path_key}?page=2"
    for page in ("99999999999999999999999", "-5", "x"):
        assert client.get(f"/initiatieven?page={page}").status_code == 200, page
        assert client.get(f"/initiatieven/{initiative.path_key}?page={page}").status_code == 200


def test_an_unpublished_initiative_is_404_except_for_its_initiator_and_staff(
    app, client, cast
) -> None:
    initiative = make_initiative(cast["initiator"])  # submitted, waiting for the check
    db.session.commit()
    path = f"/initiatieven/{initiative.path_key}"
    assert client.get(path).status_code == 404
    assert client.get(f"/initiatieven/{initiative.id}").status_code == 404  # no slug leaked

    for person in ("neighbour", "other", "officer_elsewhere"):
        other_client = app.test_client()
        other_client.post(
            "/inloggen", data={"email": cast[person].email, "password": "wijkkracht-demo"}
        )
        assert other_client.get(path).status_code == 404, person
        assert other_client.post(f"/initiatieven/{initiative.id}/steun").status_code == 404

    for person in ("initiator", "officer"):
        own = app.test_client()
        own.post("/inloggen", data={"email": cast[person].email, "password": "wijkkracht-demo"})
        response = own.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, person
        assert "Dit initiatief is nog niet gepubliceerd" in html
        assert 'name="robots" content="noindex"' in html and "og:title" not in html
        # Nothing to take part in before publication.
        assert own.post(f"/initiatieven/{initiative.id}/steun").status_code == 403


def test_hidden_comments_are_for_staff_and_their_author_only(app, client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    visible = Comment(initiative_id=initiative.id, author_id=cast["other"].id, body="Mooi plan!")
    hidden = Comment(
        initiative_id=initiative.id,
        author_id=cast["neighbour"].id,
        body="Iets lelijks over de buren",
        hidden_at=utcnow(),
        hidden_by_id=cast["officer"].id,
        hidden_reason="Kwetsend",
    )
    db.session.add_all([visible, hidden])
    db.session.commit()
    path = f"/initiatieven/{initiative.path_key}"

    def page_for(person: str | None) -> str:
        browser = app.test_client()
        if person:
            browser.post(
                "/inloggen", data={"email": cast[person].email, "password": "wijkkracht-demo"}
            )
        return browser.get(path).get_data(as_text=True)

    for person in (None, "other", "initiator"):
        html = page_for(person)
        assert "Mooi plan!" in html, person
        assert "Iets lelijks" not in html and "Kwetsend" not in html, person
        assert f'id="reactie-{hidden.id}"' not in html, person

    staff = page_for("officer")
    assert "Iets lelijks over de buren" in staff
    assert "Verborgen" in staff and "Kwetsend" in staff

    author = page_for("neighbour")
    assert "Iets lelijks over de buren" in author
    assert "De gemeente heeft uw reactie verborgen." in author and "Kwetsend" in author

    # A hidden comment cannot be reported (it is not there for the public).
    browser = app.test_client()
    browser.post("/inloggen", data={"email": cast["other"].email, "password": "wijkkracht-demo"})
    melden = f"/initiatieven/{initiative.id}/reacties/{hidden.id}/melden"
    assert browser.get(melden).status_code == 404


def test_comments_are_paginated_twenty_a_page_newest_first(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    db.session.add_all(
        Comment(initiative_id=initiative.id, author_id=cast["other"].id, body=f"Reactie {n}.")
        for n in range(25)
    )
    db.session.commit()
    first = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert first.count('class="comment"') == 20
    assert "Reactie 24." in first and "Reactie 4." not in first
    assert f'href="/initiatieven/{initiative.path_key}?page=2"' in first
    second = client.get(f"/initiatieven/{initiative.path_key}?page=2").get_data(as_text=True)
    assert second.count('class="comment"') == 5 and "Reactie 0." in second


# --- taking part ------------------------------------------------------------------------------


def test_support_once_toggle_and_undo_keep_the_count_right(client, cast) -> None:
    initiator, neighbour = cast["initiator"], cast["neighbour"]
    initiative = published(initiator, cast["officer"])
    db.session.commit()
    sign_in(client, neighbour)
    steun = f"/initiatieven/{initiative.id}/steun"
    intrekken = f"/initiatieven/{initiative.id}/steun-intrekken"

    def state() -> tuple[int, int]:
        db.session.expire_all()
        rows = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.initiative_id == initiative.id)
        )
        return rows, db.session.get(Initiative, initiative.id).support_count

    response = client.post(steun)
    assert response.status_code == 303
    assert response.location.endswith(f"/initiatieven/{initiative.path_key}#steun")
    assert state() == (1, 1)
    assert client.post(steun).status_code == 303  # again: nothing changes
    assert state() == (1, 1)
    html = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert "1 persoon steunt dit initiatief" in html and "Steun intrekken" in html

    assert client.post(intrekken).status_code == 303
    assert state() == (0, 0)
    assert client.post(intrekken).status_code == 303  # again: never below zero
    assert state() == (0, 0)

    # With htmx: the support block comes back with the new count and the other button.
    fragment = client.post(steun, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert "1 persoon steunt dit initiatief" in html and 'id="steun-knop"' in html
    assert "Steun intrekken" in html and 'hx-target="#steun"' in html
    assert state() == (1, 1)

    # The initiator heard about it once, however often the neighbour clicked.
    told = notifications("initiative_supported", initiator)
    assert len(told) == 1
    assert "Bram Buur steunt uw initiatief" in told[0].subject


def test_the_initiator_cannot_support_their_own_and_anonymous_must_log_in(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    db.session.commit()
    anonymous = client.post(f"/initiatieven/{initiative.id}/steun")
    assert anonymous.status_code == 302 and "/inloggen" in anonymous.location
    sign_in(client, cast["initiator"])
    assert client.post(f"/initiatieven/{initiative.id}/steun").status_code == 403
    assert db.session.get(Initiative, initiative.id).support_count == 0
    html = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert "Dit is uw eigen initiatief" in html and "Ik steun dit initiatief" not in html


def test_support_is_only_while_an_initiative_is_under_way(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    workflow.transition_initiative(initiative, "stop", cast["officer"])
    db.session.commit()
    sign_in(client, cast["neighbour"])
    assert client.post(f"/initiatieven/{initiative.id}/steun").status_code == 403
    assert client.get(f"/initiatieven/{initiative.id}/hulp-aanbieden").status_code == 403
    # Commenting and writing to the initiator still can.
    assert client.get(f"/initiatieven/{initiative.id}/bericht").status_code == 200


def test_offering_help_tells_the_initiator_without_any_address(client, cast) -> None:
    initiator, neighbour = cast["initiator"], cast["neighbour"]
    initiative = published(initiator, cast["officer"], help_wanted=("volunteers", "materials"))
    db.session.commit()
    sign_in(client, neighbour)
    path = f"/initiatieven/{initiative.id}/hulp-aanbieden"
    page = client.get(path).get_data(as_text=True)
    assert 'value="volunteers"' in page and 'value="materials"' in page
    assert 'value="money"' not in page  # only what the initiator asked for

    refused = client.post(path, data={"kind": "money", "what": "Geld", "time_available": ""})
    assert refused.status_code == 422
    assert "Kies een van de soorten hulp in de lijst." in refused.get_data(as_text=True)
    empty = client.post(path, data={"kind": "", "what": ""})
    assert empty.status_code == 422
    text = empty.get_data(as_text=True)
    assert "Kies wat voor hulp u aanbiedt." in text and "Schrijf op wat u kunt doen" in text
    assert 'aria-invalid="true"' in text and 'id="foutenoverzicht"' in text
    too_long = client.post(path, data={"kind": "volunteers", "what": LONG})
    assert too_long.status_code == 422
    assert "Gebruik hoogstens 2.000 tekens." in too_long.get_data(as_text=True)

    done = client.post(
        path,
        data={"kind": "volunteers", "what": "Ik kan timmeren.", "time_available": "Zaterdagen"},
    )
    assert done.status_code == 303
    offer = db.session.scalar(select(HelpOffer).where(HelpOffer.initiative_id == initiative.id))
    assert (offer.user_id, offer.kind, offer.what, offer.time_available) == (
        neighbour.id,
        "volunteers",
        "Ik kan timmeren.",
        "Zaterdagen",
    )
    [told] = notifications("initiative_help_offered", initiator)
    assert "Bram Buur" in told.subject
    assert told.link == f"http://localhost/mijn-initiatieven/{initiative.id}"
    assert "Ik kan timmeren." in told.body_text and "Vrijwilligers" in told.body_text
    assert neighbour.email not in told.body_text + told.body_html

    # Not for the initiator's own.
    sign_in(client, initiator)
    assert client.get(path).status_code == 403


def test_comments_tell_the_initiator_and_blocked_people_are_refused(client, cast) -> None:
    initiator, neighbour = cast["initiator"], cast["neighbour"]
    initiative = published(initiator, cast["officer"])
    db.session.commit()
    path = f"/initiatieven/{initiative.id}/reacties"
    sign_in(client, neighbour)

    empty = client.post(path, data={"body": "   "})
    assert empty.status_code == 422
    assert "Schrijf eerst uw reactie." in empty.get_data(as_text=True)
    too_long = client.post(path, data={"body": LONG})
    assert too_long.status_code == 422
    assert "Gebruik hoogstens 2.000 tekens." in too_long.get_data(as_text=True)

    posted = client.post(path, data={"body": "Ik doe mee!"})
    assert posted.status_code == 303
    comment = db.session.scalar(select(Comment).where(Comment.initiative_id == initiative.id))
    assert posted.location.endswith(f"#reactie-{comment.id}")
    [told] = notifications("initiative_commented", initiator)
    assert "Ik doe mee!" in told.body_text
    assert told.link.endswith(f"/initiatieven/{initiative.path_key}#reactie-{comment.id}")

    db.session.add(CommentBlock(user_id=neighbour.id, blocked_by_id=cast["officer"].id))
    db.session.commit()
    blocked = client.post(path, data={"body": "Nog een keer"}, follow_redirects=True)
    assert "U kunt niet meer reageren op initiatieven." in blocked.get_data(as_text=True)
    count = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.initiative_id == initiative.id)
    )
    assert count == 1

    # The initiator's own comment does not send them a message.
    sign_in(client, initiator)
    assert client.post(path, data={"body": "Dank jullie wel"}).status_code == 303
    assert len(notifications("initiative_commented", initiator)) == 1


def test_reporting_a_comment_once_tells_the_case_officers(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    comment = Comment(initiative_id=initiative.id, author_id=cast["neighbour"].id, body="Onzin")
    db.session.add(comment)
    db.session.commit()
    path = f"/initiatieven/{initiative.id}/reacties/{comment.id}/melden"
    sign_in(client, cast["other"])
    page = client.get(path).get_data(as_text=True)
    assert "Reactie melden" in page and "Onzin" in page

    first = client.post(path, data={"reason": "Kwetsend"}, follow_redirects=True)
    assert "Bedankt voor uw melding" in first.get_data(as_text=True)
    again = client.post(path, data={"reason": ""}, follow_redirects=True)
    assert "U had deze reactie al gemeld" in again.get_data(as_text=True)
    assert "U heeft deze reactie al gemeld." in client.get(path).get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(Comment, comment.id).report_count == 1
    [report] = db.session.scalars(select(CommentReport)).all()
    assert (report.user_id, report.reason) == (cast["other"].id, "Kwetsend")
    [told] = notifications("initiative_comment_reported", cast["officer"])
    assert told.link == "http://localhost/behandeling/initiatieven/reacties"
    assert "Kwetsend" in told.body_text
    assert cast["other"].name not in told.body_text  # the reporter is not named
    assert notifications("initiative_comment_reported", cast["officer_elsewhere"]) == []

    # A second person's report counts, but does not send the officers another message.
    sign_in(client, cast["initiator"])
    client.post(path, data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).report_count == 2
    assert len(notifications("initiative_comment_reported", cast["officer"])) == 1

    # One's own comment cannot be reported.
    sign_in(client, cast["neighbour"])
    assert client.get(path).status_code == 403


def test_a_message_to_the_initiator_is_relayed_by_the_portal(client, cast) -> None:
    initiator, neighbour = cast["initiator"], cast["neighbour"]
    initiative = published(initiator, cast["officer"])
    db.session.commit()
    path = f"/initiatieven/{initiative.id}/bericht"
    sign_in(client, neighbour)
    page = client.get(path).get_data(as_text=True)
    assert initiator.email not in page
    too_long = client.post(path, data={"message": LONG})
    assert too_long.status_code == 422
    assert "Gebruik hoogstens 2.000 tekens." in too_long.get_data(as_text=True)

    assert client.post(path, data={"message": "Mag ik langskomen?"}).status_code == 303
    message = db.session.scalar(
        select(InitiativeMessage).where(InitiativeMessage.initiative_id == initiative.id)
    )
    assert (message.sender_id, message.recipient_id, message.body) == (
        neighbour.id,
        initiator.id,
        "Mag ik langskomen?",
    )
    [told] = notifications("initiative_message", initiator)
    assert "Mag ik langskomen?" in told.body_text
    assert neighbour.email not in told.body_text + told.body_html

    sign_in(client, initiator)
    assert client.get(path).status_code == 403  # not to oneself
    detail = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert neighbour.email not in detail and initiator.email not in detail


def test_taking_part_pages_send_anonymous_visitors_to_the_login_page(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    comment = Comment(initiative_id=initiative.id, author_id=cast["other"].id, body="Hoi")
    db.session.add(comment)
    db.session.commit()
    for method, path in [
        ("POST", f"/initiatieven/{initiative.id}/steun"),
        ("POST", f"/initiatieven/{initiative.id}/steun-intrekken"),
        ("GET", f"/initiatieven/{initiative.id}/hulp-aanbieden"),
        ("POST", f"/initiatieven/{initiative.id}/reacties"),
        ("GET", f"/initiatieven/{initiative.id}/reacties/{comment.id}/melden"),
        ("GET", f"/initiatieven/{initiative.id}/bericht"),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/inloggen" in response.location, path


# --- hostile text -------------------------------------------------------------------------------


def test_hostile_text_is_shown_as_text_everywhere(app, client, factory, cast) -> None:
    """Markup, event handlers, javascript: links, a right-to-left override and 10,000
    characters in every text: escaped in the showcase, the page, the og: tags and the feed."""
    from portal.initiatives.showcase import plain

    initiator = factory.user(postcode="7533AB", name=f"Mal {IMG} {RLO}naam")
    title = f"{SCRIPT}{IMG}{RLO}tfel"  # fits in 120 characters
    pitch = f"{JS_LINK} {IMG} {RLO}"
    initiative = published(
        initiator,
        cast["officer"],
        title=title,
        pitch=pitch,
        description=f"{SCRIPT}\n{IMG}\n{JS_LINK}\n{RLO}\n{LONG}",
    )
    initiative.contact_note = f"{IMG}{JS_LINK}"
    services.add_timeline(initiative, "update", body=f"{SCRIPT}{IMG}{RLO}{LONG}")
    db.session.add(
        Comment(
            initiative_id=initiative.id,
            author_id=cast["other"].id,
            body=f"{SCRIPT}{IMG}{JS_LINK}{RLO}{LONG}",
        )
    )
    db.session.commit()

    def assert_safe(text: str, where: str) -> None:
        assert SCRIPT not in text, where
        assert IMG not in text, where
        assert "<img src=x" not in text, where
        assert RLO not in text, where
        assert 'href="javascript:' not in text.lower(), where

    showcase = client.get("/initiatieven").get_data(as_text=True)
    assert_safe(showcase, "showcase")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in showcase
    searched = client.get("/initiatieven?zoek=<script>").get_data(as_text=True)
    assert_safe(searched, "search")
    assert "&lt;script&gt;alert(1)" in searched

    page = client.get(f"/initiatieven/{initiative.path_key}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert_safe(html, "detail")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert LONG in html  # the long text is there, whole, as text
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # title, text, news, comment
    tags = meta_tags(html)
    assert tags.og["og:title"] == plain(title) == f"{SCRIPT}{IMG}tfel"
    assert tags.og["og:description"] == plain(pitch)
    head = html.split("</head>")[0]
    assert_safe(head, "head")

    feed = client.get("/initiatieven/feed.atom")
    assert_safe(feed.get_data(as_text=True), "feed")
    root = parse_atom(feed.data)  # well-formed
    [entry] = [
        e for e in root.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == plain(title)
    ]
    assert entry.findtext(f"{ATOM}summary") == plain(pitch)
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == plain(initiator.name)


def test_control_characters_typed_into_a_form_do_not_break_anything(client, cast) -> None:
    initiative = published(cast["initiator"], cast["officer"])
    db.session.commit()
    sign_in(client, cast["neighbour"])
    body = "Hallo\x00 daar\x0b" + RLO + SCRIPT
    assert (
        client.post(f"/initiatieven/{initiative.id}/reacties", data={"body": body}).status_code
        == 303
    )
    stored = db.session.scalar(select(Comment.body).where(Comment.initiative_id == initiative.id))
    assert stored == "Hallo daar" + RLO + SCRIPT  # kept as typed, without the control characters
    html = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert "Hallo daar&lt;script&gt;" in html and SCRIPT not in html
    # The initiator's e-mail: the html part escapes it, the plain text keeps it as typed.
    [told] = notifications("initiative_commented", cast["initiator"])
    assert SCRIPT not in told.body_html and "&lt;script&gt;alert(1)" in told.body_html
    assert SCRIPT in told.body_text and "&lt;" not in told.body_text
    assert RLO not in told.body_text + told.body_html + told.subject


# --- Atom feeds ---------------------------------------------------------------------------------


def test_the_feeds_are_well_formed_atom_with_the_newest_published(client, cast) -> None:
    initiator, officer = cast["initiator"], cast["officer"]
    glanerbrug = published(initiator, officer, title="Moestuin Glanerbrug")
    binnenstad = published(cast["other"], officer, title="Koken", districts=("Binnenstad",))
    city = published(initiator, officer, title="Overal", districts=(), citywide=True)
    hidden = make_initiative(initiator, title="Nog niet bekeken")
    db.session.commit()

    response = client.get("/initiatieven/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = parse_atom(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "http://localhost/initiatieven/feed.atom"
    assert root.findtext(f"{ATOM}title") == "Initiatieven in Enschede"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root.findtext(f"{ATOM}updated"))
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "self": "http://localhost/initiatieven/feed.atom",
        "alternate": "http://localhost/initiatieven",
    }
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Overal",
        "Koken",
        "Moestuin Glanerbrug",
    ]
    first = entries[-1]
    assert first.findtext(f"{ATOM}id") == f"http://localhost/initiatieven/{glanerbrug.id}"
    assert first.find(f"{ATOM}link").get("href") == (
        f"http://localhost/initiatieven/{glanerbrug.path_key}"
    )
    assert first.find(f"{ATOM}summary").get("type") == "text"
    assert first.findtext(f"{ATOM}summary") == "Samen groente kweken met de buurt."
    assert first.findtext(f"{ATOM}author/{ATOM}name") == "Anna de Vries"
    for tag in ("published", "updated"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.findtext(f"{ATOM}{tag}"))
    assert hidden.title not in response.get_data(as_text=True)

    district_feed = client.get("/initiatieven/wijk/glanerbrug.atom")
    assert district_feed.status_code == 200
    root = parse_atom(district_feed.data)
    assert root.findtext(f"{ATOM}title") == "Initiatieven in Glanerbrug"
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == [
        "Moestuin Glanerbrug"
    ]
    assert binnenstad.title not in district_feed.get_data(as_text=True)
    assert city.title not in district_feed.get_data(as_text=True)
    assert client.get("/initiatieven/wijk/nergens.atom").status_code == 404


def test_the_feed_costs_the_same_queries_for_one_or_fifty_entries(
    client, cast, count_queries
) -> None:
    published(cast["initiator"], cast["officer"])
    db.session.commit()
    with count_queries() as one:
        client.get("/initiatieven/feed.atom")
    bulk_publish(cast["other"], 80)
    with count_queries() as many:
        response = client.get("/initiatieven/feed.atom")
    assert len(parse_atom(response.data).findall(f"{ATOM}entry")) == 50
    # The page of initiatives with their initiators, and the two collections every User loads.
    assert one.count == many.count <= 3


# --- support racing itself on a real database ---------------------------------------------------


@pytest.fixture(scope="module")
def live_app() -> Any:
    app = make_app("wijkkracht_test_support", TESTING=False)
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_supports_at_once_by_the_same_person_count_once(live_app) -> None:
    with live_app.app_context():
        factory = Factory()
        officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
        initiator = factory.user(postcode="7533AB")
        supporter = factory.user(postcode="7533AC")
        initiative = published(initiator, officer)
        db.session.commit()
        initiative_id, email = initiative.id, supporter.email
        db.session.remove()

    clients = []
    for _ in range(2):
        browser = live_app.test_client()
        login = browser.post("/inloggen", data={"email": email, "password": "wijkkracht-demo"})
        assert login.status_code == 303
        clients.append(browser)
    barrier = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def support(index: int) -> None:
        barrier.wait()
        statuses[index] = clients[index].post(f"/initiatieven/{initiative_id}/steun").status_code

    threads = [threading.Thread(target=support, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303, 303]
    with live_app.app_context():
        rows = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.initiative_id == initiative_id)
        )
        count = db.session.get(Initiative, initiative_id).support_count
        told = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.kind == "initiative_supported", Notification.object_id == initiative_id
            )
        )
        db.session.remove()
    assert (rows, count, told) == (1, 1, 1)


def test_timeline_update_rows_are_public_entries_only(client, cast) -> None:
    """Status changes show their label and note; a milestone never shows a private detail."""
    initiative = published(cast["initiator"], cast["officer"])
    services.add_timeline(initiative, "milestone", code="granted", body="Bedrag: 1.234 euro")
    workflow.transition_initiative(initiative, "start_running", cast["officer"])
    services.add_timeline(initiative, "status", code="running", body="We zijn begonnen!")
    db.session.commit()
    html = client.get(f"/initiatieven/{initiative.path_key}").get_data(as_text=True)
    assert "Wijkbudget toegekend" in html and "1.234 euro" not in html
    assert "Status: Loopt" in html and "We zijn begonnen!" in html
    timeline = html.split('id="tijdlijn"')[1].split('id="reacties"')[0]
    assert timeline.index("Status: Loopt") < timeline.index("Wijkbudget toegekend")
    assert db.session.scalar(select(func.count()).select_from(InitiativeUpdate)) >= 3
