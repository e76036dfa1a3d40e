"""Review work: the case officer's queue and the council's requests for advice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, load_only

from portal.accounts.models import CaseOfficerBorough, User
from portal.applications.forms import cents_to_input, parse_money
from portal.applications.labels import STATE_LABELS
from portal.applications.models import Application, ApplicationCount, State
from portal.districts.models import Borough, Council, District, council_districts
from portal.extensions import db
from portal.page_cache import cached_for_user
from portal.timeutil import local_today
from portal.web import ListPage, render, roles_required


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


PER_PAGE = 25

# The queue's order: earliest decision deadline first (index ix_applications_queue and its
# siblings), and the same order backwards for pages past the middle.
QUEUE_ORDER = (Application.decision_deadline.asc().nulls_last(), Application.id.asc())
QUEUE_ORDER_BACKWARDS = (Application.decision_deadline.desc().nulls_first(), Application.id.desc())


def url_maker(endpoint: str, name: str) -> Callable[[int], str]:
    """``url_for(endpoint, name=value)`` for many integer values: the route is built once and
    the value filled in (a list of 25 rows builds one URL instead of 25)."""
    marker = 9_876_543_210
    before, after = url_for(endpoint, **{name: marker}).split(str(marker), 1)
    return lambda value: f"{before}{int(value)}{after}"


def page_number() -> int:
    """The ``page`` argument; 1 when missing, invalid or below 1 (as ``db.paginate`` with
    ``error_out=False``)."""
    number = request.args.get("page", 1, type=int)
    return number if number and number > 0 else 1


def status_counts(
    base: Select[Any], filters: QueueFilters, districts: list[District]
) -> dict[str, int]:
    """The number of applications per status under these filters, the status filter aside.
    Filtered on districts only (all, one, or a council's), they come from the counts the
    database keeps per district and state; other filters count the applications."""
    if (
        filters.min_amount is None
        and filters.max_amount is None
        and not filters.deadline
        and not filters.q
    ):
        ids = [
            d.id
            for d in districts
            if (not filters.district or d.id == filters.district)
            and (not filters.council or any(c.id == filters.council for c in d.councils))
        ]
        if not ids:
            return {}
        counted = (
            select(ApplicationCount.state, func.sum(ApplicationCount.total))
            .where(
                ApplicationCount.district_id.in_(ids),
                ApplicationCount.state != State.DRAFT.value,
            )
            .group_by(ApplicationCount.state)
        )
    else:
        filtered = base.with_only_columns(Application.state).subquery()
        counted = select(filtered.c.state, func.count()).group_by(filtered.c.state)
    return {state: int(total) for state, total in db.session.execute(counted) if total}


def queue_page(listed: Select[Any], number: int, total: int) -> ListPage:
    """The page's applications in queue order: their ids first, from the index alone, then
    those rows with what the list shows. Past the middle, the ids are taken from the end (the
    last page reads a handful of index entries instead of all before it)."""
    offset = (number - 1) * PER_PAGE
    if offset >= total:
        return ListPage([], number, PER_PAGE, total)
    limit = min(PER_PAGE, total - offset)
    ids = listed.with_only_columns(Application.id)
    if offset > total // 2:
        ids = ids.order_by(*QUEUE_ORDER_BACKWARDS).offset(total - offset - limit)
    else:
        ids = ids.order_by(*QUEUE_ORDER).offset(offset)
    chosen = ids.limit(limit).subquery()
    items = db.session.scalars(
        select(Application)
        .join(chosen, chosen.c.id == Application.id)
        .options(
            load_only(
                Application.reference,
                Application.title,
                Application.state,
                Application.requested_cents,
                Application.decision_deadline,
                Application.end_date,
                Application.district_id,
                Application.applicant_id,
                Application.ruleset_id,
            ),
            joinedload(Application.applicant).load_only(User.name),
            joinedload(Application.ruleset),
        )
        .order_by(*QUEUE_ORDER)
    ).all()
    return ListPage(list(items), number, PER_PAGE, total)


@bp.route("/werkvoorraad")
@cached_for_user
@roles_required("case_officer")
def queue() -> Response:
    """The case officer's work queue: applications of the boroughs they handle, filtered and
    searched, earliest decision deadline first."""
    boroughs = (
        db.session.scalars(
            select(Borough)
            .join(CaseOfficerBorough, CaseOfficerBorough.borough_id == Borough.id)
            .where(CaseOfficerBorough.user_id == current_user.id)
            .options(joinedload(Borough.districts).joinedload(District.councils))
            .order_by(Borough.name)
        )
        .unique()
        .all()
    )
    districts = [d for b in boroughs for d in b.districts]
    councils = sorted({c for d in districts for c in d.councils}, key=lambda c: c.name)
    filters = QueueFilters.from_args(request.args)
    today = local_today()
    base = queue_query([d.id for d in districts], filters, today)
    counts = status_counts(base, filters, districts)
    listed = base.where(Application.state == filters.state) if filters.state else base
    total = counts.get(filters.state, 0) if filters.state else sum(counts.values())
    page = queue_page(listed, page_number(), total)
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
        # The rows' districts are the officer's: named from the list above, without loading
        # each application's district.
        district_names={d.id: d.name for d in districts},
        case_url=url_maker("reviews.case", "application_id"),
        # Translated once, not once per row and option.
        state_labels={state: str(label) for state, label in STATE_LABELS.items()},
        running_states=RUNNING_STATES,
        accounting_due=accounting_due,
        today=today,
        soon=today + timedelta(days=7),
    )


@bp.route("/wijkorgaan")
@cached_for_user
@roles_required("council_member")
def council_requests() -> Response:
    """Requests for advice to the councils this member belongs to: open ones first."""
    # The login loader has the memberships; their councils and districts in one query (held
    # here, so that the memberships' ``council`` is found in the session, without a query).
    memberships = list(current_user.memberships)
    councils = (
        db.session.scalars(
            select(Council)
            .where(Council.id.in_([m.council_id for m in memberships]))
            .options(joinedload(Council.districts))
        )
        .unique()
        .all()
    )
    return render(
        "reviews/council_requests.html",
        memberships=memberships,
        councils=councils,
        **council.council_requests_page(page_number()),
    )


# Registers the case and council routes on bp.
from portal.reviews import case, council  # noqa: E402,F401
