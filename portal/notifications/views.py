"""The in-app inbox."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete, exists, select, update

from portal.accounts.models import Role
from portal.districts.models import CouncilMembership
from portal.extensions import db
from portal.notifications.kinds import (
    AUDIENCE_LABELS,
    DELIVERY_LABELS,
    Audience,
    Delivery,
    choosable,
    mandatory_for,
)
from portal.notifications.models import Notification, NotificationPreference
from portal.timeutil import utcnow
from portal.web import redirect_after_post, render

bp = Blueprint("notifications", __name__, url_prefix="/berichten")


@bp.route("/")
@login_required
def inbox() -> Response:
    """The signed-in user's notifications, newest first, paginated."""
    page = db.paginate(
        select(Notification)
        .where(Notification.user_id == current_user.id, Notification.kind != "digest")
        .order_by(Notification.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=25,
        error_out=False,
    )
    return render("notifications/inbox.html", page=page)


@bp.route("/<int:notification_id>")
@login_required
def detail(notification_id: int) -> Response:
    """One notification. Opening it marks it read: bookkeeping of the reader's own view, not a
    change of any case, so it is allowed on GET."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
        g.pop("unread_count", None)  # counted when the user was loaded: count again
    return render("notifications/detail.html", notification=notification)


@bp.route("/alles-gelezen", methods=["POST"])
@login_required
def mark_all_read() -> Response:
    """Mark every notification of this user read."""
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return redirect_after_post(url_for("notifications.inbox"))


def _audiences() -> set[Audience]:
    audiences = {Audience.APPLICANT, Audience.INITIATIVES}
    if db.session.scalar(select(exists().where(CouncilMembership.user_id == current_user.id))):
        audiences.add(Audience.COUNCIL)
    if current_user.has_role(Role.CASE_OFFICER):
        audiences.add(Audience.CASE_OFFICER)
    return audiences


@bp.route("/instellingen", methods=["GET", "POST"])
@login_required
def preferences() -> Response:
    """Per kind of message: at once by e-mail, in a daily digest, or only here. Legal notices
    always go out at once."""
    audiences = _audiences()
    groups = choosable(audiences)
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == current_user.id
            )
        ).all()
    )
    if request.method == "POST":
        for _audience, kinds in groups:
            for name, _kind in kinds:
                value = request.form.get(f"bericht-{name}", Delivery.IMMEDIATE.value)
                if value not in {delivery.value for delivery in Delivery}:
                    value = chosen.get(name, Delivery.IMMEDIATE.value)
                chosen[name] = value
        db.session.execute(
            delete(NotificationPreference).where(NotificationPreference.user_id == current_user.id)
        )
        for name, value in chosen.items():
            if value != Delivery.IMMEDIATE.value:
                db.session.add(
                    NotificationPreference(user_id=current_user.id, kind=name, delivery=value)
                )
        db.session.commit()
        flash(_("Uw keuzes voor berichten zijn bewaard."), "success")
        return redirect_after_post(url_for("notifications.preferences"))
    return render(
        "notifications/preferences.html",
        groups=groups,
        chosen=chosen,
        labels=DELIVERY_LABELS,
        audience_labels=AUDIENCE_LABELS,
        deliveries=list(Delivery),
        mandatory=mandatory_for(audiences),
        digest_hour=current_app.config["PORTAL_DIGEST_HOUR"],
    )
