"""Review work: the case officer's queue and the council's requests for advice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CaseOfficerBorough, User
from portal.applications.forms import cents_to_input, parse_money
from portal.applications.labels import STATE_LABELS
from portal.applications.models import Application, State
from portal.districts.models import (
    Borough,
    Council,
    CouncilMembership,
    District,
    council_districts,
)
from portal.extensions import db
from portal.timeutil import local_today
from portal.web import render, roles_required


def accounting_due(application: Application) -> Any:
    from portal.money.settlement import accounting_due as due

    return due(application) if application.ruleset is not None else None


bp = Blueprint("reviews", __name__)


# States in which the decision clock runs (while information is asked for, it stands still).
RUNNING_STATES = [
    State.SUBMITTED.value,
    State.IN_REVIEW.value,
    State.AWAITING_ADVICE.value,
    State.ADVISED.value,
    State.INTENT_SENT.value,
    State.AWAITING_APPROVAL.value,
]


@dataclass
class QueueFilters:
    """The queue's filters, read from (and written back to) the URL, so a view can be
    bookmarked and the back button works."""

    state: str = ""
    district: int | None = None
    council: int | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    deadline: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> QueueFilters:
        def euros(name: str) -> int | None:
            value = parse_money(args.get(name, ""))
            return value if value else None

        return cls(
            state=args.get("status", "") if args.get("status", "") in STATE_LABELS else "",
            district=args.get("wijk", type=int),
            council=args.get("wijkorgaan", type=int),
            min_amount=euros("van"),
            max_amount=euros("tot"),
            deadline=args.get("termijn", "")
            if args.get("termijn") in ("te-laat", "7-dagen")
            else "",
            q=(args.get("zoek", "") or "").strip()[:100],
        )

    def as_args(self) -> dict[str, Any]:
        args = {
            "status": self.state,
            "wijk": self.district,
            "wijkorgaan": self.council,
            "van": cents_to_input(self.min_amount) if self.min_amount else None,
            "tot": cents_to_input(self.max_amount) if self.max_amount else None,
            "termijn": self.deadline,
            "zoek": self.q,
        }
        return {key: value for key, value in args.items() if value}


def queue_query(district_ids: list[int], filters: QueueFilters, today: Any) -> Select[Any]:
    """Submitted applications of these districts, filtered; without the status filter, so
    that the counts per status can use it too."""
    query = select(Application).where(
        Application.district_id.in_(district_ids), Application.state != State.DRAFT.value
    )
    if filters.district:
        query = query.where(Application.district_id == filters.district)
    if filters.council:
        covered = select(council_districts.c.district_id).where(
            council_districts.c.council_id == filters.council
        )
        query = query.where(Application.district_id.in_(covered))
    if filters.min_amount is not None:
        query = query.where(Application.requested_cents >= filters.min_amount)
    if filters.max_amount is not None:
        query = query.where(Application.requested_cents <= filters.max_amount)
    if filters.deadline:
        query = query.where(Application.state.in_(RUNNING_STATES))
        if filters.deadline == "te-laat":
            query = query.where(Application.decision_deadline < today)
        else:
            query = query.where(
                Application.decision_deadline >= today,
                Application.decision_deadline <= today + timedelta(days=7),
            )
    if filters.q:
        pattern = f"%{filters.q.replace('%', '').replace('_', '')}%"
        applicants = select(User.id).where(User.name.ilike(pattern))
        query = query.where(
            or_(Application.reference.ilike(pattern), Application.applicant_id.in_(applicants))
        )
    return query


@bp.route("/werkvoorraad")
@roles_required("case_officer")
def queue() -> Response:
    """The case officer's work queue: applications of the boroughs they handle, filtered and
    searched, earliest decision deadline first."""
    boroughs = db.session.scalars(
        select(Borough)
        .join(CaseOfficerBorough, CaseOfficerBorough.borough_id == Borough.id)
        .where(CaseOfficerBorough.user_id == current_user.id)
        .options(selectinload(Borough.districts).selectinload(District.councils))
        .order_by(Borough.name)
    ).all()
    districts = [d for b in boroughs for d in b.districts]
    councils = sorted({c for d in districts for c in d.councils}, key=lambda c: c.name)
    filters = QueueFilters.from_args(request.args)
    today = local_today()
    base = queue_query([d.id for d in districts], filters, today)
    filtered = base.subquery()
    counts = dict(
        db.session.execute(select(filtered.c.state, func.count()).group_by(filtered.c.state)).all()
    )
    listed = base.where(Application.state == filters.state) if filters.state else base
    page = db.paginate(
        listed.options(
            joinedload(Application.district),
            joinedload(Application.applicant),
            joinedload(Application.ruleset),
        ).order_by(Application.decision_deadline.asc().nulls_last(), Application.id),
        page=request.args.get("page", 1, type=int),
        per_page=25,
        error_out=False,
    )
    return render(
        "reviews/queue.html",
        "reviews/_queue_results.html",
        boroughs=boroughs,
        districts=sorted(districts, key=lambda d: d.name),
        councils=councils,
        filters=filters,
        filter_args=filters.as_args(),
        counts=counts,
        page=page,
        state_labels=STATE_LABELS,
        running_states=RUNNING_STATES,
        accounting_due=accounting_due,
        today=today,
        soon=today + timedelta(days=7),
    )


@bp.route("/wijkorgaan")
@roles_required("council_member")
def council_requests() -> Response:
    """Requests for advice to the councils this member belongs to: open ones first."""
    memberships = db.session.scalars(
        select(CouncilMembership)
        .where(CouncilMembership.user_id == current_user.id)
        .options(selectinload(CouncilMembership.council).selectinload(Council.districts))
    ).all()
    return render(
        "reviews/council_requests.html",
        memberships=memberships,
        **council.council_requests_page(request.args.get("page", 1, type=int)),
    )


# Registers the case and council routes on bp.
from portal.reviews import case, council  # noqa: E402,F401
