"""Management (beheer): the admin's overview of districts, councils, budgets, rules and users."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User, UserRole
from portal.districts.models import Borough, Council, District, DistrictBudget
from portal.extensions import db
from portal.notifications.models import EmailState, Notification
from portal.rulesets.models import Ruleset
from portal.rulesets.services import ruleset_in_force
from portal.web import render, roles_required

bp = Blueprint("admin", __name__, url_prefix="/beheer")


@bp.route("/")
@roles_required("admin")
def index() -> Response:
    """The admin's start page."""
    year = date.today().year
    boroughs = db.session.scalars(
        select(Borough)
        .options(
            selectinload(Borough.districts).selectinload(District.councils),
            selectinload(Borough.districts).selectinload(District.postcode_ranges),
        )
        .order_by(Borough.name)
    ).all()
    budgets = dict(
        db.session.execute(
            select(DistrictBudget.district_id, DistrictBudget.allocated_cents).where(
                DistrictBudget.year == year
            )
        ).all()
    )
    role_counts = dict(
        db.session.execute(select(UserRole.role, func.count()).group_by(UserRole.role)).all()
    )
    user_count = db.session.scalar(select(func.count(User.id)))
    council_count = db.session.scalar(select(func.count(Council.id)))
    mail_counts = dict(
        db.session.execute(
            select(Notification.email_state, func.count())
            .where(
                Notification.email_state.in_([EmailState.WAITING.value, EmailState.FAILED.value])
            )
            .group_by(Notification.email_state)
        ).all()
    )
    rulesets = db.session.scalars(select(Ruleset).order_by(Ruleset.effective_from.desc())).all()
    return render(
        "admin/index.html",
        year=year,
        boroughs=boroughs,
        budgets=budgets,
        role_counts=role_counts,
        user_count=user_count,
        council_count=council_count,
        mail_counts=mail_counts,
        rulesets=rulesets,
        in_force=ruleset_in_force(),
    )
