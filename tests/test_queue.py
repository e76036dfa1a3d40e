"""The case officer's work queue: filters, search, counts, deadline marks, pagination, no-JS,
and a constant number of queries with 10,000 applications."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from portal.applications.models import Application, State
from portal.districts.models import Council, District
from portal.extensions import db
from portal.timeutil import local_today, utcnow


def district(name: str) -> District:
    return db.session.scalar(select(District).where(District.name == name))


def add(applicant: Any, district_name: str, number: int, **values: Any) -> Application:
    application = Application(
        applicant_id=applicant.id,
        district_id=district(district_name).id,
        creation_key=f"queue-{number}",
        reference=f"WB-2026-{number:04d}",
        state=values.pop("state", State.SUBMITTED.value),
        title=values.pop("title", f"Plan {number}"),
        requested_cents=values.pop("requested_cents", 50_000),
        decision_deadline=values.pop("decision_deadline", local_today() + timedelta(days=30)),
        submitted_at=utcnow(),
        **values,
    )
    db.session.add(application)
    db.session.flush()
    return application


def references(html: str) -> list[str]:
    return re.findall(r">(WB-\d{4}-\d{4})</a>", html)


@pytest.fixture
def officer(factory, login_as) -> Any:
    user = factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram Behandelaar")
    login_as(user)
    return user


@pytest.fixture
def queue(factory, officer) -> dict[str, Application]:
    today = local_today()
    anna = factory.user(postcode="7533AB", name="Anna de Vries")
    piet = factory.user(postcode="7534AB", name="Piet Jansen")
    zuid = factory.user(postcode="7545AB", name="Zoë Zuid")
    found = {
        "late": add(anna, "Glanerbrug", 1, decision_deadline=today - timedelta(days=2)),
        "soon": add(piet, "Dolphia", 2, decision_deadline=today + timedelta(days=5)),
        "review": add(anna, "Glanerbrug", 3, state=State.IN_REVIEW.value, requested_cents=150_000),
        "granted": add(
            piet,
            "Dolphia",
            4,
            state=State.GRANTED.value,
            decision_deadline=today - timedelta(days=20),
        ),
        "elsewhere": add(zuid, "Zuid-Oost", 5),
    }
    db.session.commit()
    return found


def test_the_queue_shows_only_the_officers_boroughs_earliest_deadline_first(client, queue) -> None:
    html = client.get("/werkvoorraad").get_data(as_text=True)
    assert references(html) == ["WB-2026-0004", "WB-2026-0001", "WB-2026-0002", "WB-2026-0003"]
    assert "WB-2026-0005" not in html  # Zuid is not this officer's borough
    assert "4 aanvragen gevonden" in html
    # Counts per status, each a link that keeps the other filters.
    assert re.search(r'href="/werkvoorraad\?status=submitted">Ingediend: 2<', html)
    assert re.search(r"In behandeling: 1<", html)


def test_deadlines_are_marked_in_words_only_for_open_applications(client, queue) -> None:
    html = client.get("/werkvoorraad").get_data(as_text=True)
    rows = dict(re.findall(r">(WB-\d{4}-\d{4})</a>(.*?)</tr>", html, re.S))
    assert "Te laat" in rows["WB-2026-0001"]
    assert "Binnen 7 dagen" in rows["WB-2026-0002"]
    assert "Te laat" not in rows["WB-2026-0004"]  # decided: no longer running late
    assert "Te laat" not in rows["WB-2026-0003"] and "Binnen 7 dagen" not in rows["WB-2026-0003"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=in_review", ["WB-2026-0003"]),
        ("status=granted", ["WB-2026-0004"]),
        ("termijn=te-laat", ["WB-2026-0001"]),
        ("termijn=7-dagen", ["WB-2026-0002"]),
        ("van=1000", ["WB-2026-0003"]),
        ("tot=600,00", ["WB-2026-0004", "WB-2026-0001", "WB-2026-0002"]),
        ("zoek=WB-2026-0002", ["WB-2026-0002"]),
        ("zoek=de+vries", ["WB-2026-0001", "WB-2026-0003"]),
        ("zoek=%25", ["WB-2026-0004", "WB-2026-0001", "WB-2026-0002", "WB-2026-0003"]),
        ("zoek=niemand", []),
        (
            "status=onzin&termijn=onzin",
            ["WB-2026-0004", "WB-2026-0001", "WB-2026-0002", "WB-2026-0003"],
        ),
    ],
)
def test_each_filter_narrows_the_queue(client, queue, query, expected) -> None:
    html = client.get(f"/werkvoorraad?{query}").get_data(as_text=True)
    assert references(html) == expected
    if not expected:
        assert "Geen aanvragen met deze filters." in html


def test_district_and_council_filters(client, queue) -> None:
    dolphia = district("Dolphia")
    html = client.get(f"/werkvoorraad?wijk={dolphia.id}").get_data(as_text=True)
    assert references(html) == ["WB-2026-0004", "WB-2026-0002"]
    council = db.session.scalar(
        select(Council).where(Council.districts.any(District.name == "Glanerbrug"))
    )
    covered = {d.name for d in council.districts}
    expected = [
        a.reference
        for a in sorted(queue.values(), key=lambda a: (a.decision_deadline, a.id))
        if a.district.name in covered and a.district.borough.name == "Oost"
    ]
    html = client.get(f"/werkvoorraad?wijkorgaan={council.id}").get_data(as_text=True)
    assert "WB-2026-0001" in expected and references(html) == expected
    # A district outside the officer's boroughs shows nothing, not the other borough's work.
    zuid = district("Zuid-Oost")
    assert references(client.get(f"/werkvoorraad?wijk={zuid.id}").get_data(as_text=True)) == []


def test_filters_live_in_the_url_and_work_without_javascript(client, queue) -> None:
    page = client.get("/werkvoorraad?status=submitted&zoek=WB")
    html = page.get_data(as_text=True)
    assert "<html" in html  # a plain GET form: the whole page, no JavaScript needed
    assert re.search(r'<form method="get" action="/werkvoorraad"', html)
    assert 'value="WB"' in html and '<option value="submitted" selected>' in html
    fragment = client.get("/werkvoorraad?status=submitted", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'id="werkvoorraad-resultaten"' in text
    assert references(text) == ["WB-2026-0001", "WB-2026-0002"]
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_pagination_keeps_the_filters(client, officer, factory) -> None:
    anna = factory.user(postcode="7533AB", name="Anna de Vries")
    for number in range(1, 31):
        add(anna, "Glanerbrug", number, decision_deadline=local_today() + timedelta(days=number))
    db.session.commit()
    html = client.get("/werkvoorraad?status=submitted").get_data(as_text=True)
    assert len(references(html)) == 25 and "30 aanvragen gevonden" in html
    assert re.search(r'href="/werkvoorraad\?[^"]*page=2[^"]*"', html)
    assert "status=submitted" in re.search(r'href="(/werkvoorraad\?[^"]*page=2[^"]*)"', html)[1]
    second = client.get("/werkvoorraad?status=submitted&page=2").get_data(as_text=True)
    assert references(second) == [f"WB-2026-{n:04d}" for n in range(26, 31)]


def test_an_officer_without_boroughs_sees_an_honest_empty_state(client, factory, login_as) -> None:
    login_as(factory.user(roles=("case_officer",)))
    html = client.get("/werkvoorraad").get_data(as_text=True)
    assert "U behandelt nog geen stadsdeel" in html


def test_ten_thousand_applications_in_a_constant_number_of_queries(
    client, queue, factory, count_queries
) -> None:
    filters = [
        "",
        "status=submitted",
        "termijn=7-dagen&page=3",
        "zoek=Jansen",
        f"wijk={district('Glanerbrug').id}&van=10&tot=5000&page=4",
    ]

    def measure() -> list[int]:
        counted = []
        for query in filters:
            with count_queries() as counter:
                assert client.get(f"/werkvoorraad?{query}").status_code == 200
            counted.append(counter.count)
        return counted

    people = [factory.user(postcode="7534AB", name=f"Bewoner {n}") for n in range(50)]
    glanerbrug, dolphia = district("Glanerbrug").id, district("Dolphia").id
    today = local_today()
    states = [State.SUBMITTED, State.IN_REVIEW, State.INFO_REQUESTED, State.GRANTED]

    def grow(numbers: range) -> None:
        db.session.execute(
            insert(Application),
            [
                {
                    "applicant_id": people[n % 50].id,
                    "district_id": glanerbrug if n % 2 else dolphia,
                    "creation_key": f"bulk-{n}",
                    "reference": f"WB-2025-{n:05d}",
                    "state": states[n % 4].value,
                    "title": f"Plan {n}",
                    "requested_cents": 10_000 + n % 1000 * 10,
                    "decision_deadline": today + timedelta(days=n % 60 - 10),
                    "endorsement_token": f"bulk-token-{n}",
                    "kaders": [],
                }
                for n in numbers
            ],
        )
        db.session.commit()

    grow(range(1_000))
    small = measure()
    grow(range(1_000, 10_000))
    started = time.perf_counter()
    large = measure()
    elapsed = time.perf_counter() - started
    assert large == small, f"queries grew with the data: {small} -> {large}"
    assert max(large) <= 15
    assert elapsed < 10, f"five queue pages over 10,000 applications took {elapsed:.1f}s"


def test_while_information_is_asked_for_the_clock_stands_still(client, officer, factory) -> None:
    anna = factory.user(postcode="7533AB", name="Anna de Vries")
    add(
        anna,
        "Glanerbrug",
        7,
        state=State.INFO_REQUESTED.value,
        decision_deadline=local_today() - timedelta(days=3),
    )
    db.session.commit()
    html = client.get("/werkvoorraad").get_data(as_text=True)
    row = dict(re.findall(r">(WB-\d{4}-\d{4})</a>(.*?)</tr>", html, re.S))["WB-2026-0007"]
    assert "Staat stil: wacht op aanvulling" in row and "Te laat" not in row
    assert references(client.get("/werkvoorraad?termijn=te-laat").get_data(as_text=True)) == []


def test_a_grant_without_accounting_in_time_shows_as_overdue(client, officer, factory) -> None:
    from portal.rulesets.models import Ruleset

    anna = factory.user(postcode="7533AB", name="Anna de Vries")
    ruleset = db.session.scalar(select(Ruleset).where(Ruleset.version == 1))
    add(
        anna,
        "Glanerbrug",
        8,
        state=State.GRANTED.value,
        ruleset_id=ruleset.id,
        end_date=local_today() - timedelta(weeks=9),
    )
    db.session.commit()
    html = client.get("/werkvoorraad?status=granted").get_data(as_text=True)
    row = dict(re.findall(r">(WB-\d{4}-\d{4})</a>(.*?)</tr>", html, re.S))["WB-2026-0008"]
    assert "Verantwoording te laat" in row
