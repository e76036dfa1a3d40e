"""The resident's side of wijkbudget applications."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.districts.models import District, DistrictBudget
from portal.extensions import db
from portal.rulesets.services import ruleset_in_force
from portal.web import render, roles_required

bp = Blueprint("applications", __name__)


@bp.route("/mijn-aanvragen")
@roles_required("resident")
def mine() -> Response:
    """Mijn aanvragen: the resident's start page, with their district and its budget."""
    district = None
    budget = None
    if current_user.district_id:
        district = db.session.scalar(
            select(District)
            .where(District.id == current_user.district_id)
            .options(selectinload(District.councils), selectinload(District.borough))
        )
        budget = db.session.scalar(
            select(DistrictBudget).where(
                DistrictBudget.district_id == current_user.district_id,
                DistrictBudget.year == date.today().year,
            )
        )
    return render(
        "applications/mine.html",
        district=district,
        budget=budget,
        ruleset=ruleset_in_force(),
    )
