"""Money: payments and district budgets."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.districts.models import District, DistrictBudget
from portal.extensions import db
from portal.web import render, roles_required

bp = Blueprint("money", __name__)


@bp.route("/betalingen")
@roles_required("finance")
def payments() -> Response:
    """Finance's start page: payment batches, and this year's district budgets."""
    year = date.today().year
    budgets = db.session.scalars(
        select(DistrictBudget)
        .join(District)
        .where(DistrictBudget.year == year)
        .options(joinedload(DistrictBudget.district).joinedload(District.borough))
        .order_by(District.name)
    ).all()
    return render(
        "money/payments.html",
        year=year,
        budgets=budgets,
        total=sum(b.allocated_cents for b in budgets),
    )
