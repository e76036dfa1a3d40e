"""The in-app inbox."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, update

from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import utcnow
from portal.web import redirect_after_post, render

bp = Blueprint("notifications", __name__, url_prefix="/berichten")


@bp.route("/")
@login_required
def inbox() -> Response:
    """The signed-in user's notifications, newest first, paginated."""
    page = db.paginate(
        select(Notification)
        .where(Notification.user_id == current_user.id)
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
