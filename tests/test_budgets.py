"""District budgets: the overview and the ledger behind each figure, setting allocations by form
and by CSV import (all rows or none), the year-end report as CSV and XLSX, constant queries."""

from __future__ import annotations

import io
import itertools
import re
import time
from html.parser import HTMLParser
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from portal.applications.models import Application, State
from portal.districts.models import District, DistrictBudget
from portal.extensions import db
from portal.money import allocations, ledger
from portal.money.models import LedgerEntry
from portal.timeutil import utcnow

YEAR = 2032  # a year of its own: the demo budgets are for the current year
NUMBERS = itertools.count(1)


# --- helpers ------------------------------------------------------------------------------------


class Tables(HTMLParser):
    """The text of every table cell, per row, per table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def row_of(html: str, first_cell: str) -> list[str]:
    for table in tables(html):
        for row in table:
            if row and row[0] == first_cell:
                return row
    raise AssertionError(f"no row starting with {first_cell!r}")


def euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€ {euros:,}".replace(",", ".") + f",{rest:02d}"


def district(name: str) -> District:
    return db.session.scalar(select(District).where(District.name == name))


def new_budget(name: str, cents: int, year: int = YEAR) -> DistrictBudget:
    change = allocations.set_allocation(district(name).id, year, cents, None, "Test")
    return change.budget


def application_in(name: str, applicant: Any) -> Application:
    number = next(NUMBERS)
    application = Application(
        applicant_id=applicant.id,
        district_id=district(name).id,
        creation_key=f"budgets-{number}",
        reference=f"WB-{YEAR}-{number:04d}",
        state=State.GRANTED.value,
        requested_cents=100_000,
        total_cents=100_000,
        submitted_at=utcnow(),
        kaders=[],
    )
    db.session.add(application)
    db.session.flush()
    return application


def entry_count() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def budget_count() -> int:
    return db.session.scalar(select(func.count(DistrictBudget.id)))


def upload(client: Any, content: bytes, name: str = "budgetten.csv") -> Any:
    return client.post(
        "/budgetten/inlezen",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def admin(factory: Any, login_as: Any) -> Any:
    user = factory.user(roles=("admin",), name="Hanna Beheer")
    login_as(user)
    return user


@pytest.fixture
def movements(factory: Any) -> dict[str, Any]:
    """Glanerbrug in YEAR: 10.000 euro; two grants (3.000 and 1.000), 2.000 paid of the first,
    500 of that recovered, the second grant released again."""
    budget = new_budget("Glanerbrug", 1_000_000)
    applicant = factory.user(postcode="7533AB")
    first, second = application_in("Glanerbrug", applicant), application_in("Glanerbrug", applicant)
    ledger.commit_grant(first, 300_000, YEAR, None)
    ledger.pay(first, 200_000, YEAR, None, "Voorschot")
    ledger.recover(first, 50_000, YEAR, None, "Minder uitgegeven")
    ledger.commit_grant(second, 100_000, YEAR, None)
    ledger.release(second, 100_000, YEAR, None, "Ingetrokken")
    db.session.commit()
    return {"budget": budget, "first": first, "second": second}


# --- the overview and one district --------------------------------------------------------------


def test_figures_equal_the_ledger_sums(client, factory, login_as, movements) -> None:
    budget = movements["budget"]
    db.session.refresh(budget)
    sums = ledger.entries_total(budget)
    assert sums == {
        "allocated": 1_000_000,
        "committed": 100_000,
        "paid": 200_000,
        "recovered": 50_000,
    }
    remaining = sums["allocated"] - sums["committed"] - sums["paid"] + sums["recovered"]
    assert remaining == budget.remaining_cents == 750_000
    expected = [
        euro(sums["allocated"]),
        euro(sums["committed"]),
        euro(sums["paid"]),
        euro(sums["recovered"]),
        euro(remaining),
    ]
    login_as(factory.user(roles=("finance",)))
    html = client.get(f"/budgetten?jaar={YEAR}").get_data(as_text=True)
    row = row_of(html, "Glanerbrug")
    assert row[2:7] == expected
    assert row[7] == "25% gebruikt"  # (1.000 + 2.000 - 500) of 10.000
    assert '<meter min="0" max="1000000" value="250000"' in html
    # The totals row adds up the districts with a budget in that year (only Glanerbrug).
    assert row_of(html, "Totaal")[1:6] == expected
    assert "Nog geen budget vastgesteld" in row_of(html, "Dolphia")[2]

    page = client.get(f"/budgetten/{budget.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    figures = re.findall(r'<span class="card__figure">([^<]+)</span>', html)
    assert figures == expected
    assert "de optelsom van de 6 boekingen" in html
    entries = tables(html)[0]
    assert entries[0][:2] == ["Datum", "Soort"]
    kinds = [row[1] for row in entries[1:-1]]
    assert kinds == [
        "Vrijgegeven",
        "Toekenning",
        "Terugvordering",
        "Betaling",
        "Toekenning",
        "Budget vastgesteld",
    ]
    # Each delta column adds up to its figure.
    assert entries[-1][1:5] == expected[:4]
    payment = entries[4]
    assert payment[3:6] == [euro(-200_000), euro(200_000), ""]
    assert payment[6] == movements["first"].reference
    # Finance sees the reference, but the case page is for case officers and admins.
    assert "/behandeling/" not in html


def test_the_kind_filter_and_case_links(client, factory, login_as, movements) -> None:
    budget = movements["budget"]
    login_as(factory.user(roles=("case_officer",), boroughs=("Oost",)))
    html = client.get(f"/budgetten/{budget.id}?soort=commitment").get_data(as_text=True)
    entries = tables(html)[0]
    assert [row[1] for row in entries[1:-1]] == ["Toekenning", "Toekenning"]
    assert entries[-1][0] == "Totaal toekenning"
    assert entries[-1][2] == euro(400_000)
    assert f'href="/behandeling/{movements["first"].id}"' in html
    assert "2 boekingen" in html
    assert 'value="commitment" selected' in html
    # Read-only: no way to change the budget.
    assert "/budgetten/vaststellen" not in html
    assert client.get("/budgetten/vaststellen").status_code == 403
    # An unknown kind is ignored.
    html = client.get(f"/budgetten/{budget.id}?soort=bestaat-niet").get_data(as_text=True)
    assert "6 boekingen" in html
    assert client.get("/budgetten/999999").status_code == 404


def test_the_year_switch_works_without_javascript(client, admin) -> None:
    new_budget("Dolphia", 500_000)
    db.session.commit()
    html = client.get("/budgetten").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/budgetten"[^>]*>(.*?)</form>', html, re.S)
    assert form, "the year switcher is a plain GET form"
    assert 'name="jaar"' in form.group(1)
    assert f'<option value="{YEAR}">{YEAR}</option>' in form.group(1)
    assert 'type="submit"' in form.group(1)
    # What the browser sends when the form is submitted without JavaScript.
    html = client.get(f"/budgetten?jaar={YEAR}").get_data(as_text=True)
    assert f'<h1 class="utrecht-heading-1">Wijkbudgetten {YEAR}</h1>' in html
    assert f'<option value="{YEAR}" selected>' in html
    assert row_of(html, "Dolphia")[2] == euro(500_000)
    # A year that makes no sense falls back to this year.
    assert client.get("/budgetten?jaar=abc").status_code == 200
    html = client.get(f"/budgetten/jaarverslag?jaar={YEAR}").get_data(as_text=True)
    assert re.search(r'<form method="get" action="/budgetten/jaarverslag"', html)


# --- setting the allocation ---------------------------------------------------------------------


def test_admin_sets_an_allocation_through_the_form(client, admin) -> None:
    dolphia = district("Dolphia")
    assert ledger.budget(dolphia.id, YEAR) is None
    form = client.get(f"/budgetten/vaststellen?wijk={dolphia.id}&jaar={YEAR}")
    assert form.status_code == 200
    assert f'<option selected value="{dolphia.id}">Dolphia</option>' in form.get_data(as_text=True)
    response = client.post(
        "/budgetten/vaststellen",
        data={
            "district": str(dolphia.id),
            "year": str(YEAR),
            "amount": "12.500,00",
            "note": "Collegebesluit 12 januari",
        },
    )
    assert response.status_code == 303
    budget = ledger.budget(dolphia.id, YEAR)
    assert budget is not None and budget.allocated_cents == 1_250_000
    assert response.location.endswith(f"/budgetten/{budget.id}")
    html = client.get(response.location).get_data(as_text=True)
    assert f"Het budget van Dolphia voor {YEAR} is nu € 12.500,00." in html
    assert "Collegebesluit 12 januari" in html and "Hanna Beheer" in html

    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(dolphia.id), "year": str(YEAR), "amount": "15000"},
    )
    assert response.status_code == 303
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.budget_id == budget.id).order_by(LedgerEntry.id)
    ).all()
    assert [(e.kind, e.allocated_delta, e.actor_id) for e in entries] == [
        ("allocation", 1_250_000, admin.id),
        ("allocation", 250_000, admin.id),
    ]
    db.session.refresh(budget)
    assert budget.allocated_cents == 1_500_000 == ledger.entries_total(budget)["allocated"]
    # The same amount again changes nothing and adds no entry.
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(dolphia.id), "year": str(YEAR), "amount": "15.000"},
    )
    assert response.status_code == 303
    assert "Er is niets veranderd" in client.get(response.location).get_data(as_text=True)
    assert ledger.entries_total(budget)["allocated"] == 1_500_000
    assert (
        len(
            db.session.scalars(
                select(LedgerEntry.id).where(LedgerEntry.budget_id == budget.id)
            ).all()
        )
        == 2
    )
    # The form, prefilled with the current amount.
    html = client.get(f"/budgetten/vaststellen?wijk={dolphia.id}&jaar={YEAR}").get_data(
        as_text=True
    )
    assert 'value="15000,00"' in html


def test_lowering_below_what_is_used_is_refused_and_changes_nothing(
    client, admin, movements
) -> None:
    budget = movements["budget"]
    glanerbrug = district("Glanerbrug")
    before = entry_count()
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(glanerbrug.id), "year": str(YEAR), "amount": "2.000,00"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # Granted and not paid (1.000) plus paid (2.000) minus recovered (500).
    assert (
        "Het budget kan niet lager zijn dan wat al is toegekend en betaald: € 2.500,00. "
        "Vul € 2.500,00 of meer in." in html
    )
    assert 'aria-invalid="true"' in html
    db.session.refresh(budget)
    assert budget.allocated_cents == 1_000_000
    assert entry_count() == before
    # Exactly what is used is allowed.
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(glanerbrug.id), "year": str(YEAR), "amount": "2.500,00"},
    )
    assert response.status_code == 303
    db.session.refresh(budget)
    assert budget.allocated_cents == 250_000 and budget.remaining_cents == 0


def test_the_allocation_form_explains_what_is_wrong(client, admin) -> None:
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": "0", "year": "26", "amount": "veel", "note": "x" * 201},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Kies een wijk uit de lijst." in html
    assert "Vul een jaar in tussen 2000 en 2100, bijvoorbeeld 2026." in html
    assert "Vul een bedrag in euro&#39;s in" in html or "Vul een bedrag in euro's in" in html
    assert "Gebruik hoogstens 200 tekens." in html
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(district("Dolphia").id), "year": str(YEAR), "amount": ""},
    )
    assert response.status_code == 422
    assert "Vul het bedrag in euro’s in" in response.get_data(as_text=True)
    response = client.post(
        "/budgetten/vaststellen",
        data={"district": str(district("Dolphia").id), "year": str(YEAR), "amount": "99999999"},
    )
    assert "Het bedrag is te hoog" in response.get_data(as_text=True)
    assert ledger.budget(district("Dolphia").id, YEAR) is None


# --- the CSV import -----------------------------------------------------------------------------


def test_csv_import_sets_every_budget_in_one_go(client, admin) -> None:
    content = (
        "\ufeffWijk;Jaar;Bedrag (€)\r\n"
        f"Glanerbrug;{YEAR};12.500,00\r\n"
        f"Dolphia;{YEAR};12500\r\n"
        f"  stadsveld ;{YEAR};€ 9.800,50;;\r\n"
        "\r\n"
    ).encode()
    response = upload(client, content)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "/budgetten/inlezen/klaar?" in response.location
    budgets = {
        name: ledger.budget(district(name).id, YEAR)
        for name in ("Glanerbrug", "Dolphia", "Stadsveld")
    }
    assert {name: b.allocated_cents for name, b in budgets.items()} == {
        "Glanerbrug": 1_250_000,
        "Dolphia": 1_250_000,
        "Stadsveld": 980_050,
    }
    for budget in budgets.values():
        assert ledger.entries_total(budget)["allocated"] == budget.allocated_cents
    html = client.get(response.location).get_data(as_text=True)
    assert "Het bestand is ingelezen. Aangepast: 3. Al goed: 0." in html
    assert row_of(html, "Stadsveld")[1:] == [str(YEAR), euro(0), "+" + euro(980_050), euro(980_050)]
    assert "Ingelezen uit budgetten.csv" in client.get(
        f"/budgetten/{budgets['Dolphia'].id}"
    ).get_data(as_text=True)

    # Comma-separated, no header, an amount with a decimal comma in quotes: only what differs
    # gets an entry.
    before = entry_count()
    response = upload(
        client,
        f'Glanerbrug,{YEAR},"13.000,00"\nDolphia,{YEAR},12500\nStadsveld,{YEAR},"9.800,50"\n'.encode(),
        "tweede.csv",
    )
    assert response.status_code == 303
    assert entry_count() == before + 1
    html = client.get(response.location).get_data(as_text=True)
    assert "Aangepast: 1. Al goed: 2." in html
    assert row_of(html, "Glanerbrug")[1:] == [
        str(YEAR),
        euro(1_250_000),
        "+" + euro(50_000),
        euro(1_300_000),
    ]
    # The same file again changes nothing.
    response = upload(client, f'Glanerbrug,{YEAR},"13.000,00"\n'.encode())
    assert response.status_code == 303 and entry_count() == before + 1
    assert "Er is niets veranderd" in client.get(response.location).get_data(as_text=True)


def test_csv_import_with_errors_shows_each_row_and_changes_nothing(
    client, admin, movements
) -> None:
    budgets, entries = budget_count(), entry_count()
    content = (
        "wijk;jaar;bedrag\n"
        f"Dolphia;{YEAR};1.000,00\n"  # 2: fine on its own
        f"Atlantis;{YEAR};1000\n"  # 3: unknown district
        "Stadsveld;20x6;1000\n"  # 4: bad year
        f"Stadsveld;{YEAR};veel\n"  # 5: bad amount
        f"dolphia;{YEAR};2000\n"  # 6: twice in the file
        f"Glanerbrug;{YEAR};100\n"  # 7: below what is granted and paid (2.500)
        f";1899;\n"  # 8: three problems at once
        f"Twekkelerveld;{YEAR};1.000;extra\n"  # 9: a fourth column
    ).encode()
    response = upload(client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Het bestand budgetten.csv is niet ingelezen" in html
    assert "Er is niets veranderd." in html
    assert "7 regels hebben een fout." in html
    rows = {row[0]: row[1:] for row in tables(html)[0][1:]}
    assert set(rows) == {"3", "4", "5", "6", "7", "8", "9"}
    assert rows["3"] == [
        "Atlantis",
        str(YEAR),
        "1000",
        "De wijk ‘Atlantis’ bestaat niet. Schrijf de naam zoals in de lijst met wijken.",
    ]
    assert rows["4"][3].startswith("Het jaar ‘20x6’ klopt niet.")
    assert rows["5"][3].startswith("Het bedrag ‘veel’ klopt niet.")
    assert rows["6"][3] == f"Dolphia {YEAR} staat ook al op regel 2."
    assert rows["7"][3] == (
        f"Het budget van Glanerbrug voor {YEAR} kan niet lager zijn dan wat al is toegekend en "
        "betaald: € 2.500,00."
    )
    assert "De naam van de wijk ontbreekt." in rows["8"][3]
    assert "Het jaar ‘1899’ klopt niet." in rows["8"][3]
    assert "Het bedrag ontbreekt." in rows["8"][3]
    assert rows["9"][3] == "Deze regel heeft 4 kolommen. Er mogen er hoogstens 3 zijn."
    # Nothing changed: not Dolphia's fine row either.
    assert budget_count() == budgets and entry_count() == entries
    assert ledger.budget(district("Dolphia").id, YEAR) is None
    db.session.refresh(movements["budget"])
    assert movements["budget"].allocated_cents == 1_000_000


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("Glanerbrug;2032;1000".encode("utf-16"), "b.csv", "Het bestand is geen UTF-8-tekst."),
        ("wijk;jaar;bedrag\nMékkelholt;2032;1000\n".encode("latin-1"), "b.csv", "geen UTF-8"),
        (None, "", "Kies een CSV-bestand."),
        (b"", "leeg.csv", "Het bestand heeft geen regels met budgetten."),
        (b"\xef\xbb\xbf\r\n;;\r\n", "leeg.csv", "Het bestand heeft geen regels met budgetten."),
        (b"wijk;bedrag\nGlanerbrug;1000\n", "b.csv", "Deze ontbreken: jaar."),
        (b"Glanerbrug,2032,12.500,00\n", "b.csv", "Staat er een komma in het bedrag?"),
        (b"%PDF-1.4", "budget.pdf", "Kies een bestand dat eindigt op .csv."),
    ],
    ids=["utf-16", "latin-1", "no-file", "empty-file", "blank-rows", "header", "comma", "pdf"],
)
def test_csv_import_refuses_files_it_cannot_read(client, admin, content, name, message) -> None:
    entries = entry_count()
    if content is None:
        response = client.post("/budgetten/inlezen", data={}, content_type="multipart/form-data")
    else:
        response = upload(client, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert entry_count() == entries


def test_an_import_refused_by_the_database_rolls_everything_back(
    client, admin, movements, monkeypatch
) -> None:
    """Money granted between the check and the import: the database refuses the row, and the
    rows before it are undone too."""
    budget = movements["budget"]
    budgets, entries = budget_count(), entry_count()
    checked = allocations._check_against_database

    def check_then_grant(plan: Any) -> None:
        checked(plan)
        ledger.commit_grant(movements["second"], 700_000, YEAR, None)

    monkeypatch.setattr(allocations, "_check_against_database", check_then_grant)
    response = upload(client, f"Dolphia;{YEAR};1000\nGlanerbrug;{YEAR};5.000\n".encode())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert row_of(html, "2")[4] == (
        f"Het budget van Glanerbrug voor {YEAR} kan niet lager zijn dan wat al is toegekend en "
        "betaald: € 9.500,00."
    )
    assert budget_count() == budgets and entry_count() == entries
    db.session.refresh(budget)
    assert budget.allocated_cents == 1_000_000 and budget.committed_cents == 100_000


# --- the year-end report ------------------------------------------------------------------------


def test_year_end_report_page_csv_and_xlsx(client, factory, login_as, movements) -> None:
    new_budget("Dolphia", 500_000)
    db.session.commit()
    login_as(factory.user(roles=("finance",)))
    # Glanerbrug: 10.000 budget, 4.000 granted (3.000 + 1.000), 1.000 still to pay,
    # 2.000 paid, 500 recovered: 7.500 goes back. Dolphia: untouched 5.000 goes back.
    html = client.get(f"/budgetten/jaarverslag?jaar={YEAR}").get_data(as_text=True)
    assert row_of(html, "Glanerbrug")[1:] == [
        "Oost",
        euro(1_000_000),
        euro(400_000),
        euro(100_000),
        euro(200_000),
        euro(50_000),
        euro(750_000),
    ]
    assert row_of(html, "Totaal")[1:] == [
        euro(1_500_000),
        euro(400_000),
        euro(100_000),
        euro(200_000),
        euro(50_000),
        euro(1_250_000),
    ]

    response = client.get(f"/budgetten/jaarverslag.csv?jaar={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="jaarverslag-wijkbudgetten-{YEAR}.csv"'
    )
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == (
        "Wijk;Stadsdeel;Jaar;Budget (€);Toegekend (€);Toegekend, nog niet betaald (€);"
        "Betaald (€);Teruggevorderd (€);Terug naar de gemeente (€)"
    )
    assert f"Glanerbrug;Oost;{YEAR};10000,00;4000,00;1000,00;2000,00;500,00;7500,00" in lines
    assert f"Dolphia;Oost;{YEAR};5000,00;0,00;0,00;0,00;0,00;5000,00" in lines
    assert lines[-2] == f"Totaal;;{YEAR};15000,00;4000,00;1000,00;2000,00;500,00;12500,00"

    response = client.get(f"/budgetten/jaarverslag.xlsx?jaar={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="jaarverslag-wijkbudgetten-{YEAR}.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.title == f"Jaarverslag {YEAR}"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Wijk" and rows[0][8] == "Terug naar de gemeente (€)"
    by_district = {row[0]: row for row in rows[1:]}
    assert by_district["Glanerbrug"] == (
        "Glanerbrug",
        "Oost",
        YEAR,
        10000,
        4000,
        1000,
        2000,
        500,
        7500,
    )
    assert by_district["Totaal"][3:] == (15000, 4000, 1000, 2000, 500, 12500)
    cell = sheet.cell(row=2, column=4)
    assert isinstance(cell.value, (int, float)) and cell.number_format == "#,##0.00"
    assert sheet.cell(row=len(rows), column=1).font.bold


def test_year_end_csv_in_english_and_for_a_year_without_budgets(client, admin) -> None:
    client.post("/taal", data={"locale": "en", "next": "/"})
    response = client.get("/budgetten/jaarverslag.csv?jaar=2099")
    lines = response.get_data().decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("District;Borough;Year;Budget (€)")
    assert lines[1] == "Total;;2099;0,00;0,00;0,00;0,00;0,00;0,00"


# --- constant queries ---------------------------------------------------------------------------


def test_the_budget_pages_answer_in_constant_queries(
    client, factory, login_as, count_queries
) -> None:
    """10 against 10,000 ledger entries: the same number of queries on every page."""
    people = [factory.user(roles=("case_officer",), boroughs=("Oost",)) for _ in range(3)]
    applicant = factory.user(postcode="7533AB")
    applications = [application_in("Glanerbrug", applicant) for _ in range(5)]
    small = new_budget("Glanerbrug", 10_000_000)
    large = new_budget("Dolphia", 100_000_000)

    def rows(budget: DistrictBudget, count: int) -> list[dict[str, Any]]:
        """Cycles of grant, payment, recovery, grant, release: always within the budget."""
        cycle = [
            ("commitment", 0, 1_000, 0, 0),
            ("payment", 0, -1_000, 1_000, 0),
            ("recovery", 0, 0, 0, 100),
            ("commitment", 0, 500, 0, 0),
            ("release", 0, -500, 0, 0),
        ]
        made = []
        for n in range(count):
            kind, allocated, committed, paid, recovered = cycle[n % len(cycle)]
            made.append(
                {
                    "budget_id": budget.id,
                    "application_id": applications[n % 5].id,
                    "kind": kind,
                    "allocated_delta": allocated,
                    "committed_delta": committed,
                    "paid_delta": paid,
                    "recovered_delta": recovered,
                    "description": f"Boeking {n}",
                    "actor_id": people[n % 3].id,
                    "created_at": utcnow(),
                }
            )
        return made

    db.session.execute(insert(LedgerEntry), rows(small, 9))
    db.session.execute(insert(LedgerEntry), rows(large, 9_999))
    db.session.commit()
    for budget in (small, large):
        db.session.refresh(budget)
        assert ledger.entries_total(budget) == {
            "allocated": budget.allocated_cents,
            "committed": budget.committed_cents,
            "paid": budget.paid_cents,
            "recovered": budget.recovered_cents,
        }
    assert large.paid_cents == 2_000 * 1_000 and large.recovered_cents == 2_000 * 100
    login_as(people[0])

    def measure(budget: DistrictBudget, queries: tuple[str, ...]) -> list[int]:
        counted = []
        path = f"/budgetten/{budget.id}"
        for query in queries:
            with count_queries() as counter:
                response = client.get(f"{path}{query}")
                assert response.status_code == 200
            counted.append(counter.count)
            statements[:] = counter.statements
        return counted

    statements: list[str] = []
    # Pages that show entries on both budgets (10 entries fit on the first page).
    first_pages = ("", "?soort=payment", "?soort=commitment")
    few = measure(small, first_pages)
    started = time.perf_counter()
    many = measure(large, (*first_pages, "?page=2", "?soort=commitment&page=40", "?page=200"))
    elapsed = time.perf_counter() - started
    assert many == few + few[:1] * 3, f"queries grew with the entries: {few} -> {many}"
    assert max(many) <= 10, "\n".join(s[:80] for s in statements)
    assert elapsed < 10, f"six pages over 10,000 entries took {elapsed:.1f}s"
    html = client.get(f"/budgetten/{large.id}").get_data(as_text=True)
    assert "de optelsom van de 10000 boekingen" in html
    assert "Pagina 1 van 200" in html
    assert len(tables(html)[0]) == 50 + 2  # header, 50 entries, totals

    # The overview and the year-end report: one year with two budgets, one with all districts.
    def overview_queries(year: int) -> list[int]:
        counted = []
        for path in (f"/budgetten?jaar={year}", f"/budgetten/jaarverslag?jaar={year}"):
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            counted.append(counter.count)
        return counted

    client.post("/uitloggen")
    login_as(factory.user(roles=("admin",)))
    few = overview_queries(YEAR)
    for each in db.session.scalars(select(District)).all():
        allocations.set_allocation(each.id, YEAR + 1, 100_000, None)
    db.session.commit()
    assert overview_queries(YEAR + 1) == few
