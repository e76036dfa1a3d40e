"""Review work: the case officer's queue and the council's requests for advice."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import CaseOfficerBorough
from portal.districts.models import Borough, Council, CouncilMembership, District
from portal.extensions import db
from portal.web import render, roles_required

bp = Blueprint("reviews", __name__)


@bp.route("/werkvoorraad")
@roles_required("case_officer")
def queue() -> Response:
    """The case officer's work queue, for the boroughs they handle."""
    boroughs = db.session.scalars(
        select(Borough)
        .join(CaseOfficerBorough, CaseOfficerBorough.borough_id == Borough.id)
        .where(CaseOfficerBorough.user_id == current_user.id)
        .options(selectinload(Borough.districts).selectinload(District.councils))
        .order_by(Borough.name)
    ).all()
    return render("reviews/queue.html", boroughs=boroughs)


@bp.route("/wijkorgaan")
@roles_required("council_member")
def council_requests() -> Response:
    """Requests for advice to the councils this member belongs to."""
    memberships = db.session.scalars(
        select(CouncilMembership)
        .where(CouncilMembership.user_id == current_user.id)
        .options(selectinload(CouncilMembership.council).selectinload(Council.districts))
    ).all()
    return render("reviews/council_requests.html", memberships=memberships)
