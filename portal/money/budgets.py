"""District budgets: the overview per year, one district's ledger, setting allocations (a form
and a CSV import) and the year-end report with its CSV and XLSX downloads.

Registered on the ``money`` blueprint. The figures are the totals the database keeps from the
ledger; they are never typed in here: an allocation is a ledger entry for the difference.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.accounts.forms import strip
from portal.accounts.models import CaseOfficerBorough, User
from portal.applications.forms import MoneyField
from portal.applications.models import Application
from portal.districts.models import Borough, District, DistrictBudget
from portal.extensions import db
from portal.money import allocations, ledger
from portal.money.allocations import MAX_YEAR, MIN_YEAR, AllocationTooLow
from portal.money.models import LEDGER_KINDS, LedgerEntry
from portal.money.views import bp
from portal.page_cache import cached_for_user
from portal.timeutil import local_today
from portal.web import ListPage, format_money, redirect_after_post, render, roles_required

READERS = ("admin", "finance", "case_officer")
ENTRIES_PER_PAGE = 50

KIND_LABELS = {
    "allocation": _l("Budget vastgesteld"),
    "commitment": _l("Toekenning"),
    "release": _l("Vrijgegeven"),
    "payment": _l("Betaling"),
    "recovery": _l("Terugvordering"),
}
assert set(KIND_LABELS) == set(LEDGER_KINDS)

PROBLEMS = {
    "file_too_big": _l("Het bestand is te groot. Een CSV-bestand mag hoogstens %(size)s zijn."),
    "not_utf8": _l(
        "Het bestand is geen UTF-8-tekst. Sla het in Excel op als ‘CSV UTF-8’ en probeer het "
        "opnieuw."
    ),
    "empty": _l("Het bestand heeft geen regels met budgetten."),
    "header_columns": _l(
        "De eerste regel moet de kolommen wijk, jaar en bedrag noemen. Deze ontbreken: %(missing)s."
    ),
    "too_many_rows": _l("Het bestand heeft te veel regels. Lees hoogstens %(max)s regels in."),
    "too_many_columns": _l(
        "Deze regel heeft %(found)s kolommen. Er mogen er hoogstens %(expected)s zijn."
    ),
    "too_many_columns_comma": _l(
        "Deze regel heeft %(found)s kolommen in plaats van %(expected)s. Staat er een komma in "
        "het bedrag? Zet het bedrag dan tussen aanhalingstekens, of scheid de kolommen met ;."
    ),
    "district_missing": _l("De naam van de wijk ontbreekt."),
    "district_unknown": _l(
        "De wijk ‘%(value)s’ bestaat niet. Schrijf de naam zoals in de lijst met wijken."
    ),
    "year_missing": _l("Het jaar ontbreekt."),
    "year_invalid": _l(
        "Het jaar ‘%(value)s’ klopt niet. Schrijf een jaar tussen %(min)s en %(max)s, "
        "bijvoorbeeld 2026."
    ),
    "amount_missing": _l("Het bedrag ontbreekt."),
    "amount_invalid": _l(
        "Het bedrag ‘%(value)s’ klopt niet. Schrijf het in euro’s, bijvoorbeeld 12.500,00 of 12500."
    ),
    "amount_too_high": _l("Het bedrag is te hoog. Het kan hoogstens %(max_amount)s zijn."),
    "duplicate": _l("%(district)s %(year)s staat ook al op regel %(row)s."),
    "below_used": _l(
        "Het budget van %(district)s voor %(year)s kan niet lager zijn dan wat al is toegekend "
        "en betaald: %(used)s."
    ),
}
MONEY_VALUES = ("used", "max_amount")


def describe(problem: allocations.Problem) -> str:
    code, values = problem
    shown = {
        # A no-break space keeps the euro sign with its amount.
        key: format_money(value).replace(" ", "\u00a0") if key in MONEY_VALUES else value
        for key, value in values.items()
    }
    return str(PROBLEMS[code]) % shown


# --- forms --------------------------------------------------------------------------------------


class AllocationForm(FlaskForm):
    district = SelectField(_l("Wijk"), coerce=int, validate_choice=False)
    year = StringField(_l("Jaar"), filters=[strip])
    amount = MoneyField(
        _l("Budget voor het hele jaar (€)"),
        filters=[strip],
        validators=[DataRequired(_l("Vul het bedrag in euro’s in, bijvoorbeeld 12.500,00."))],
    )
    note = StringField(
        _l("Toelichting"),
        description="optional",
        filters=[strip],
        validators=[Length(max=200, message=_l("Gebruik hoogstens 200 tekens."))],
    )

    def validate_district(self, field: Any) -> None:
        if field.data not in {value for value, _label in field.choices if value}:
            raise ValidationError(_l("Kies een wijk uit de lijst."))

    def validate_year(self, field: Any) -> None:
        if not (field.data or "").isdigit() or not MIN_YEAR <= int(field.data) <= MAX_YEAR:
            raise ValidationError(
                _l(
                    "Vul een jaar in tussen %(min)s en %(max)s, bijvoorbeeld 2026.",
                    min=MIN_YEAR,
                    max=MAX_YEAR,
                )
            )

    def validate_amount(self, field: Any) -> None:
        if field.cents is not None and field.cents > allocations.MAX_ALLOCATION_CENTS:
            raise ValidationError(
                _l(
                    "Het bedrag is te hoog. Het kan hoogstens %(max)s zijn.",
                    max=format_money(allocations.MAX_ALLOCATION_CENTS),
                )
            )


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV-bestand"),
        validators=[
            FileRequired(_l("Kies een CSV-bestand.")),
            FileAllowed(["csv", "txt"], _l("Kies een bestand dat eindigt op .csv.")),
        ],
    )


# --- helpers ------------------------------------------------------------------------------------


def chosen_year() -> int:
    year = request.args.get("jaar", type=int)
    return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else local_today().year


def year_choices(selected: int) -> list[int]:
    """The years that have budgets, this year and next (to prepare), newest first."""
    years = set(db.session.scalars(select(DistrictBudget.year).distinct()))
    this_year = local_today().year
    return sorted(years | {this_year, this_year + 1, selected}, reverse=True)


@dataclass
class Figures:
    allocated: int = 0
    committed: int = 0
    paid: int = 0
    recovered: int = 0

    @classmethod
    def of(cls, budget: DistrictBudget) -> Figures:
        return cls(
            budget.allocated_cents,
            budget.committed_cents,
            budget.paid_cents,
            budget.recovered_cents,
        )

    @property
    def used(self) -> int:
        return self.committed + self.paid - self.recovered

    @property
    def remaining(self) -> int:
        return self.allocated - self.used

    @property
    def percent_used(self) -> int:
        return self.used * 100 // self.allocated if self.allocated > 0 else 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.allocated + other.allocated,
            self.committed + other.committed,
            self.paid + other.paid,
            self.recovered + other.recovered,
        )


# --- the overview -------------------------------------------------------------------------------


@bp.route("/budgetten")
@roles_required(*READERS)
def budgets() -> Response:
    """Every district's budget of one year: allocated, committed, paid, recovered, remaining."""
    year = chosen_year()
    rows = db.session.execute(
        select(District, DistrictBudget)
        .join(District.borough)
        .outerjoin(
            DistrictBudget,
            and_(DistrictBudget.district_id == District.id, DistrictBudget.year == year),
        )
        .options(contains_eager(District.borough))
        .order_by(Borough.name, District.name)
    ).all()
    figures = [
        (district, budget, Figures.of(budget) if budget else None) for district, budget in rows
    ]
    total = sum((f for _d, _b, f in figures if f is not None), Figures())
    return render(
        "money/budgets.html",
        year=year,
        years=year_choices(year),
        rows=figures,
        total=total,
        any_budget=any(budget is not None for _d, budget, _f in figures),
    )


# --- one district's budget and its ledger -------------------------------------------------------


@bp.route("/budgetten/<int:budget_id>")
@cached_for_user
@roles_required(*READERS)
def budget_detail(budget_id: int) -> Response:
    """One district's budget of one year, with the ledger entries behind its figures."""
    # With the budget, whether the signed-in user handles its borough (then the ledger's
    # applications link to their cases), instead of loading the user's boroughs.
    handles_borough = (
        select(CaseOfficerBorough.user_id)
        .join(District, District.borough_id == CaseOfficerBorough.borough_id)
        .where(District.id == DistrictBudget.district_id)
        .where(CaseOfficerBorough.user_id == current_user.id)
        .correlate(DistrictBudget)
        .exists()
    )
    row = db.session.execute(
        select(DistrictBudget, handles_borough)
        .where(DistrictBudget.id == budget_id)
        .options(joinedload(DistrictBudget.district).joinedload(District.borough))
    ).first()
    if row is None:
        abort(404)
    budget, handled = row
    kind = request.args.get("soort", "")
    kind = kind if kind in KIND_LABELS else ""
    # Count and sum per kind in one query: the filter's counts, the footer's sums and the
    # check that the totals equal their entries.
    per_kind = {
        row.kind: row
        for row in db.session.execute(
            select(
                LedgerEntry.kind,
                func.count().label("count"),
                func.coalesce(func.sum(LedgerEntry.allocated_delta), 0).label("allocated"),
                func.coalesce(func.sum(LedgerEntry.committed_delta), 0).label("committed"),
                func.coalesce(func.sum(LedgerEntry.paid_delta), 0).label("paid"),
                func.coalesce(func.sum(LedgerEntry.recovered_delta), 0).label("recovered"),
            )
            .where(LedgerEntry.budget_id == budget.id)
            .group_by(LedgerEntry.kind)
        )
    }
    figures = Figures.of(budget)

    def summed(rows: list[Any]) -> Figures:
        return sum(
            (Figures(r.allocated, r.committed, r.paid, r.recovered) for r in rows), Figures()
        )

    from_entries = summed(list(per_kind.values()))
    listed = summed([per_kind[kind]] if kind in per_kind else []) if kind else from_entries
    query = (
        select(LedgerEntry, Application.reference)
        .outerjoin(Application, Application.id == LedgerEntry.application_id)
        .where(LedgerEntry.budget_id == budget.id)
    )
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    counts = {k: row.count for k, row in per_kind.items()}
    entry_count = sum(counts.values())
    # The total from the counts per kind above, so the page needs no count of its own; each
    # entry comes with its application's reference.
    total = counts.get(kind, 0) if kind else entry_count
    number = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(
        query.options(joinedload(LedgerEntry.actor).load_only(User.name))
        .order_by(LedgerEntry.id.desc())
        .limit(ENTRIES_PER_PAGE)
        .offset((number - 1) * ENTRIES_PER_PAGE)
    ).all()
    references = {entry.application_id: ref for entry, ref in rows if ref is not None}
    page = ListPage([entry for entry, _ref in rows], number, ENTRIES_PER_PAGE, total)
    opens_cases = current_user.has_role("admin") or (
        current_user.has_role("case_officer") and bool(handled)
    )
    return render(
        "money/budget_detail.html",
        budget=budget,
        figures=figures,
        from_entries=from_entries,
        entry_count=entry_count,
        counts=counts,
        listed=listed,
        kind=kind,
        kind_labels=KIND_LABELS,
        page=page,
        page_args={"budget_id": budget.id, **({"soort": kind} if kind else {})},
        references=references,
        opens_cases=opens_cases,
        # Day first and short, so that the wide ledger table keeps each date on one line.
        short_datetime=lambda moment: format_datetime(moment, "dd-MM-y HH:mm"),
    )


# --- setting the allocation ---------------------------------------------------------------------


def district_choices() -> list[tuple[int, str]]:
    districts = db.session.scalars(select(District).order_by(District.name)).all()
    return [(0, _("Kies een wijk")), *((d.id, d.name) for d in districts)]


@bp.route("/budgetten/vaststellen", methods=["GET", "POST"])
@roles_required("admin")
def set_allocation() -> Response:
    """The admin sets a district's budget for a year; the ledger records the difference."""
    if request.method == "POST":
        form = AllocationForm()
    else:
        district_id = request.args.get("wijk", 0, type=int)
        year = chosen_year()
        existing = ledger.budget(district_id, year) if district_id else None
        form = AllocationForm(
            formdata=None,
            district=district_id,
            year=str(year),
            amount=existing.allocated_cents if existing else None,
        )
        if existing is None:
            form.amount.data = ""
    form.district.choices = district_choices()
    if request.method == "POST" and form.validate_on_submit():
        district = db.session.get(District, form.district.data)
        year = int(form.year.data)
        try:
            change = allocations.set_allocation(
                district.id, year, form.amount.cents, current_user, form.note.data or ""
            )
        except AllocationTooLow as error:
            db.session.rollback()
            form.amount.errors.append(
                _(
                    "Het budget kan niet lager zijn dan wat al is toegekend en betaald: "
                    "%(used)s. Vul %(used)s of meer in.",
                    used=format_money(error.used_cents),
                )
            )
            return render("money/allocation_form.html", status=422, form=form)
        budget_id = change.budget.id
        db.session.commit()
        if change.changed:
            flash(
                _(
                    "Het budget van %(district)s voor %(year)s is nu %(amount)s.",
                    district=district.name,
                    year=year,
                    amount=format_money(change.after_cents),
                ),
                "success",
            )
        else:
            flash(
                _(
                    "Het budget van %(district)s voor %(year)s was al %(amount)s. Er is niets "
                    "veranderd.",
                    district=district.name,
                    year=year,
                    amount=format_money(change.after_cents),
                ),
                "info",
            )
        return redirect_after_post(url_for("money.budget_detail", budget_id=budget_id))
    status = 422 if request.method == "POST" else 200
    return render("money/allocation_form.html", status=status, form=form)


# --- the CSV import -----------------------------------------------------------------------------


@bp.route("/budgetten/inlezen", methods=["GET", "POST"])
@roles_required("admin")
def import_allocations() -> Response:
    """Set many budgets at once from a CSV file: every row is checked first, and the file is
    applied as a whole or not at all."""
    form = ImportForm()
    if request.method == "GET":
        return render("money/import.html", form=form, plan=None)
    if not form.validate_on_submit():
        return render("money/import.html", status=422, form=form, plan=None)
    upload = form.file.data
    filename = os.path.basename(upload.filename or "")[:100]
    plan = allocations.read_csv(upload.read(allocations.MAX_IMPORT_BYTES + 1))
    if plan.ok:
        try:
            changes = allocations.apply_import(plan, current_user, filename)
        except AllocationTooLow:
            db.session.rollback()
        else:
            entries = [c.entry.id for c in changes if c.entry is not None]
            db.session.commit()
            unchanged = len(changes) - len(entries)
            if not entries:
                flash(
                    _("Alle budgetten in het bestand waren al zo. Er is niets veranderd."), "info"
                )
                return redirect_after_post(url_for("money.budgets"))
            flash(
                _(
                    "Het bestand is ingelezen. Aangepast: %(changed)s. Al goed: %(same)s.",
                    changed=len(entries),
                    same=unchanged,
                ),
                "success",
            )
            return redirect_after_post(
                url_for("money.import_done", van=min(entries), tot=max(entries))
            )
    # Only the raw cells and the problems are shown: after a rollback the rows' objects are
    # expired, and touching them would cost a query per row.
    problems = [describe(p) for p in plan.problems]
    rows = [(row.number, row.cells, [describe(p) for p in row.problems]) for row in plan.rows]
    return render(
        "money/import.html",
        status=422,
        form=ImportForm(formdata=None),
        plan=plan,
        filename=filename,
        file_problems=problems,
        problem_rows=[r for r in rows if r[2]],
        row_count=len(rows),
    )


@bp.route("/budgetten/inlezen/klaar")
@roles_required("admin")
def import_done() -> Response:
    """What an import changed: its allocation entries, with the budget before and after."""
    first = request.args.get("van", 0, type=int)
    last = request.args.get("tot", 0, type=int)
    earlier = aliased(LedgerEntry)
    after = (
        select(func.sum(earlier.allocated_delta))
        .where(earlier.budget_id == LedgerEntry.budget_id, earlier.id <= LedgerEntry.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(LedgerEntry, District.name, DistrictBudget.year, after)
        .join(DistrictBudget, DistrictBudget.id == LedgerEntry.budget_id)
        .join(District, District.id == DistrictBudget.district_id)
        .where(
            LedgerEntry.kind == "allocation",
            LedgerEntry.actor_id == current_user.id,
            LedgerEntry.id.between(first, last),
        )
        .order_by(District.name, DistrictBudget.year)
    ).all()
    return render("money/import_done.html", rows=rows)


# --- the year-end report ------------------------------------------------------------------------


def file_headers() -> list[str]:
    return [
        _("Wijk"),
        _("Stadsdeel"),
        _("Jaar"),
        _("Budget (€)"),
        _("Toegekend (€)"),
        _("Toegekend, nog niet betaald (€)"),
        _("Betaald (€)"),
        _("Teruggevorderd (€)"),
        _("Terug naar de gemeente (€)"),
    ]


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def decimal_euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def file_rows(year: int) -> list[list[Any]]:
    """The report as rows of cells: text, the year, and euros as ``Decimal`` with 2 decimals."""
    rows = allocations.year_end(year)
    totals = allocations.year_end_totals(rows)
    cells = [
        [
            spreadsheet_text(row.district),
            spreadsheet_text(row.borough),
            year,
            *(decimal_euros(getattr(row, name)) for name in allocations.FIGURES),
        ]
        for row in rows
    ]
    cells.append(
        [
            _("Totaal"),
            "",
            year,
            *(decimal_euros(totals[name]) for name in allocations.FIGURES),
        ]
    )
    return cells


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/budgetten/jaarverslag")
@roles_required("admin", "finance")
def year_report() -> Response:
    """Per district: allocated, granted, paid, recovered and what returns to the municipality."""
    year = chosen_year()
    rows = allocations.year_end(year)
    return render(
        "money/year_report.html",
        year=year,
        years=year_choices(year),
        rows=rows,
        totals=allocations.year_end_totals(rows),
    )


@bp.route("/budgetten/jaarverslag.csv")
@roles_required("admin", "finance")
def year_report_csv() -> Response:
    """The year-end report for Excel: ``;``-separated, decimal comma, UTF-8 with a BOM."""
    year = chosen_year()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(file_headers())
    for row in file_rows(year):
        writer.writerow(
            [f"{cell:.2f}".replace(".", ",") if isinstance(cell, Decimal) else cell for cell in row]
        )
    return attachment(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        "text/csv; charset=utf-8",
        f"jaarverslag-wijkbudgetten-{year}.csv",
    )


@bp.route("/budgetten/jaarverslag.xlsx")
@roles_required("admin", "finance")
def year_report_xlsx() -> Response:
    """The year-end report as an Excel workbook, euros as numbers with two decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    year = chosen_year()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Jaarverslag %(year)s", year=year)[:31]
    sheet.append(file_headers())
    rows = file_rows(year)
    for row in rows:
        sheet.append(row)
    bold = Font(bold=True)
    for cell in (*sheet[1], *sheet[len(rows) + 1]):
        cell.font = bold
    for column in sheet.iter_cols(min_col=4, min_row=2):
        for cell in column:
            cell.number_format = "#,##0.00"
    for letter, width in zip("ABCDEFGHI", (28, 14, 8, 14, 14, 18, 14, 16, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    body = io.BytesIO()
    workbook.save(body)
    return attachment(
        body.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"jaarverslag-wijkbudgetten-{year}.xlsx",
    )
