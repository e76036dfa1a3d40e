"""Setting district budgets (one at a time, or many from a CSV file) and the year-end figures.

Every change goes through the ledger (an allocation entry for the difference); the database
refuses an allocation below what is already committed and paid. These functions flush and never
commit, and report problems as codes with values: the views turn them into sentences.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.applications.forms import parse_money
from portal.districts.models import Borough, District, DistrictBudget
from portal.extensions import db
from portal.money import ledger
from portal.money.models import LedgerEntry

# Far above any district's yearly budget, and it keeps every total inside the 32-bit integer
# columns of PostgreSQL (a larger number would be a database error, not a clear message).
MAX_ALLOCATION_CENTS = 1_000_000_000
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_IMPORT_ROWS = 1000
MAX_IMPORT_BYTES = 1024 * 1024
COLUMNS = ("wijk", "jaar", "bedrag")

Problem = tuple[str, dict[str, Any]]


def used_cents(budget: DistrictBudget) -> int:
    """What an allocation can no longer go below: granted and paid, minus what came back."""
    return budget.committed_cents + budget.paid_cents - budget.recovered_cents


class AllocationTooLow(ledger.BudgetExceeded):
    """The new allocation is lower than what is already committed and paid."""

    def __init__(self, used: int) -> None:
        super().__init__("allocation")
        self.used_cents = used


@dataclass
class AllocationChange:
    budget: DistrictBudget
    before_cents: int
    after_cents: int
    entry: LedgerEntry | None  # None: the budget already had this amount

    @property
    def changed(self) -> bool:
        return self.entry is not None


def budget_for(district_id: int, year: int) -> DistrictBudget:
    """The district's budget of that year; a new one (allocated 0) when there is none yet."""
    existing = ledger.budget(district_id, year)
    if existing is not None:
        return existing
    created = DistrictBudget(
        district_id=district_id,
        year=year,
        allocated_cents=0,
        committed_cents=0,
        paid_cents=0,
        recovered_cents=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(created)
    except IntegrityError:
        # Someone else created it at the same moment: use theirs.
        found = ledger.budget(district_id, year)
        if found is None:
            raise
        return found
    return created


def set_allocation(
    district_id: int, year: int, cents: int, actor: Any, note: str = ""
) -> AllocationChange:
    """Make the district's allocation of ``year`` equal to ``cents`` with one ledger entry.

    Raises :class:`AllocationTooLow` when the database refuses because more is already used."""
    target = budget_for(district_id, year)
    # Lock the row (PostgreSQL; SQLite writes one at a time anyway), so that two admins setting
    # the same budget at once cannot both compute their difference from the same old amount.
    db.session.refresh(target, with_for_update=True)
    before = target.allocated_cents
    if cents == before:
        return AllocationChange(target, before, before, None)
    try:
        entry = ledger.allocate(target, cents, actor, note)
    except ledger.BudgetExceeded as error:
        db.session.refresh(target)
        raise AllocationTooLow(used_cents(target)) from error
    return AllocationChange(target, before, cents, entry)


# --- the CSV import -----------------------------------------------------------------------------


@dataclass
class ImportRow:
    number: int  # the row in the file as a spreadsheet shows it (a header is row 1)
    cells: list[str]
    district: District | None = None
    year: int | None = None
    cents: int | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about the file as a whole

    @property
    def ok(self) -> bool:
        return not self.problems and not any(row.problems for row in self.rows)

    @property
    def rows_with_problems(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]


def _normalise(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\xa0", " ")).strip().casefold()


def read_csv(data: bytes) -> ImportPlan:
    """Read and check every row of the file; nothing changes. Columns ``wijk;jaar;bedrag``
    (or comma-separated), with or without a header row, UTF-8 with or without a BOM."""
    plan = ImportPlan()
    if len(data) > MAX_IMPORT_BYTES:
        plan.problems.append(("file_too_big", {"size": "1 MB"}))
        return plan
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.problems.append(("not_utf8", {}))
        return plan
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        plan.problems.append(("empty", {}))
        return plan
    delimiter = ";" if ";" in lines[0] or "," not in lines[0] else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    positions = {name: index for index, name in enumerate(COLUMNS)}
    width = len(COLUMNS)
    first = True
    for number, raw in enumerate(reader, start=1):
        cells = [cell.replace("\xa0", " ").strip() for cell in raw]
        while cells and not cells[-1]:
            cells.pop()  # spreadsheets often add empty columns at the end
        if not cells:
            continue
        if first:
            first = False
            # "Bedrag (€)" or "Jaar:" count as the column names too.
            names = [re.sub(r"[^a-z].*$", "", _normalise(cell)) for cell in cells]
            if "wijk" in names:
                missing = [name for name in COLUMNS if name not in names]
                if missing:
                    plan.problems.append(("header_columns", {"missing": ", ".join(missing)}))
                    return plan
                positions = {name: names.index(name) for name in COLUMNS}
                width = len(names)
                continue
        if len(plan.rows) >= MAX_IMPORT_ROWS:
            plan.problems.append(("too_many_rows", {"max": MAX_IMPORT_ROWS}))
            return plan
        row = ImportRow(number=number, cells=cells)
        if len(cells) > width:
            code = "too_many_columns_comma" if delimiter == "," else "too_many_columns"
            row.problems.append((code, {"found": len(cells), "expected": width}))
        plan.rows.append(row)
        padded = cells + [""] * (width - len(cells))
        row.cells = padded
        _check_cells(row, *(padded[positions[name]] for name in COLUMNS))
    if not plan.rows:
        plan.problems.append(("empty", {}))
        return plan
    _check_against_database(plan)
    return plan


def _check_cells(row: ImportRow, district_cell: str, year_cell: str, amount_cell: str) -> None:
    row.cells = [district_cell, year_cell, amount_cell]
    if not district_cell:
        row.problems.append(("district_missing", {}))
    if not year_cell:
        row.problems.append(("year_missing", {}))
    elif not re.fullmatch(r"\d{4}", year_cell) or not MIN_YEAR <= int(year_cell) <= MAX_YEAR:
        row.problems.append(
            ("year_invalid", {"value": year_cell, "min": MIN_YEAR, "max": MAX_YEAR})
        )
    else:
        row.year = int(year_cell)
    if not amount_cell:
        row.problems.append(("amount_missing", {}))
    else:
        cents = parse_money(amount_cell)
        if cents is None:
            row.problems.append(("amount_invalid", {"value": amount_cell}))
        elif cents > MAX_ALLOCATION_CENTS:
            row.problems.append(("amount_too_high", {"max": MAX_ALLOCATION_CENTS}))
        else:
            row.cents = cents


def _check_against_database(plan: ImportPlan) -> None:
    """Known districts, no district-year twice, and no allocation below what is used."""
    districts: dict[str, District] = {}
    for district in db.session.scalars(select(District)):
        districts[_normalise(district.name)] = district
        districts.setdefault(_normalise(district.slug), district)
    years = {row.year for row in plan.rows if row.year is not None}
    budgets = {
        (b.district_id, b.year): b
        for b in db.session.scalars(select(DistrictBudget).where(DistrictBudget.year.in_(years)))
    }
    seen: dict[tuple[int, int], int] = {}
    for row in plan.rows:
        name = row.cells[0]
        if name:
            row.district = districts.get(_normalise(name))
            if row.district is None:
                row.problems.append(("district_unknown", {"value": name}))
        if row.district is None or row.year is None:
            continue
        key = (row.district.id, row.year)
        if key in seen:
            row.problems.append(
                (
                    "duplicate",
                    {"district": row.district.name, "year": row.year, "row": seen[key]},
                )
            )
            continue
        seen[key] = row.number
        existing = budgets.get(key)
        if existing is not None and row.cents is not None and row.cents < used_cents(existing):
            row.problems.append(
                (
                    "below_used",
                    {
                        "district": row.district.name,
                        "year": row.year,
                        "used": used_cents(existing),
                    },
                )
            )


def apply_import(plan: ImportPlan, actor: Any, filename: str) -> list[AllocationChange]:
    """Apply a plan without problems, row by row in the caller's transaction. A row the
    database refuses after all (someone granted money in the meantime) gets its problem, and
    :class:`AllocationTooLow` is raised: the caller rolls the whole import back."""
    assert plan.ok
    note = f"Ingelezen uit {filename}" if filename else "Ingelezen uit een CSV-bestand"
    changes = []
    for row in plan.rows:
        assert row.district is not None and row.year is not None and row.cents is not None
        try:
            changes.append(set_allocation(row.district.id, row.year, row.cents, actor, note))
        except AllocationTooLow as error:
            row.problems.append(
                (
                    "below_used",
                    {"district": row.district.name, "year": row.year, "used": error.used_cents},
                )
            )
            raise
    return changes


# --- the year-end report ------------------------------------------------------------------------


@dataclass
class YearEndRow:
    budget_id: int
    district: str
    borough: str
    allocated: int
    granted: int  # every commitment of the year, also what was later paid or released
    committed: int  # granted and not paid yet
    paid: int
    recovered: int

    @property
    def returned(self) -> int:
        """What goes back to the municipality: the budget nobody spent or still owes."""
        return self.allocated - self.committed - self.paid + self.recovered


FIGURES = ("allocated", "granted", "committed", "paid", "recovered", "returned")


def year_end(year: int) -> list[YearEndRow]:
    """One row per district with a budget in ``year``, in one query."""
    granted = (
        select(
            LedgerEntry.budget_id.label("budget_id"),
            func.sum(LedgerEntry.committed_delta).label("granted"),
        )
        .join(DistrictBudget, DistrictBudget.id == LedgerEntry.budget_id)
        .where(DistrictBudget.year == year, LedgerEntry.kind == "commitment")
        .group_by(LedgerEntry.budget_id)
        .subquery()
    )
    rows = db.session.execute(
        select(DistrictBudget, District.name, Borough.name, func.coalesce(granted.c.granted, 0))
        .join(District, District.id == DistrictBudget.district_id)
        .join(Borough, Borough.id == District.borough_id)
        .outerjoin(granted, granted.c.budget_id == DistrictBudget.id)
        .where(DistrictBudget.year == year)
        .order_by(Borough.name, District.name)
    ).all()
    return [
        YearEndRow(
            budget_id=budget.id,
            district=district,
            borough=borough,
            allocated=budget.allocated_cents,
            granted=int(total_granted),
            committed=budget.committed_cents,
            paid=budget.paid_cents,
            recovered=budget.recovered_cents,
        )
        for budget, district, borough, total_granted in rows
    ]


def year_end_totals(rows: list[YearEndRow]) -> dict[str, int]:
    return {name: sum(getattr(row, name) for row in rows) for name in FIGURES}
