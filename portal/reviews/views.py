"""Review work: the case officer's queue and the council's requests for advice."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CaseOfficerBorough
from portal.applications.labels import STATE_LABELS
from portal.applications.models import Application, State
from portal.districts.models import Borough, Council, CouncilMembership, District
from portal.extensions import db
from portal.timeutil import local_today
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
    borough_ids = [b.id for b in boroughs]
    page = db.paginate(
        select(Application)
        .join(District, Application.district_id == District.id)
        .where(District.borough_id.in_(borough_ids), Application.state != State.DRAFT)
        .options(joinedload(Application.district))
        .order_by(Application.decision_deadline.asc().nulls_last(), Application.id),
        page=request.args.get("page", 1, type=int),
        per_page=25,
        error_out=False,
    )
    return render(
        "reviews/queue.html",
        boroughs=boroughs,
        page=page,
        state_labels=STATE_LABELS,
        today=local_today(),
    )


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
