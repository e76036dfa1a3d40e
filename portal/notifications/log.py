"""The delivery log (for admins): every notification with its delivery state, attempts, last
error and the mail server's answer; filters by state, recipient and event; resending a failed
one. Resending is recorded in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select, update
from werkzeug.datastructures import MultiDict

from portal.audit.services import record
from portal.extensions import db
from portal.notifications.kinds import KINDS
from portal.notifications.models import EmailState, Notification
from portal.notifications.services import send_after_commit
from portal.web import redirect_after_post, render, roles_required

bp = Blueprint("mail_log", __name__, url_prefix="/beheer/berichten")

STATE_LABELS = {
    EmailState.WAITING.value: _l("Wacht"),
    EmailState.SENDING.value: _l("Wordt verstuurd"),
    EmailState.SENT.value: _l("Verstuurd"),
    EmailState.FAILED.value: _l("Mislukt"),
    EmailState.DIGEST.value: _l("Wacht op dagelijks overzicht"),
    EmailState.IN_DIGEST.value: _l("Verstuurd in dagelijks overzicht"),
    EmailState.NOT_EMAILED.value: _l("Alleen in Mijn berichten"),
}


@bp.app_template_global()
def kind_label(kind: str) -> str:
    known = KINDS.get(kind)
    return str(known.label) if known else kind


@dataclass
class LogFilters:
    state: str = ""
    recipient: str = ""
    kind: str = ""

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> LogFilters:
        state = args.get("status", "")
        kind = args.get("soort", "")
        return cls(
            state=state if state in STATE_LABELS else "",
            recipient=args.get("ontvanger", "").strip()[:254],
            kind=kind if kind in KINDS else "",
        )

    def as_args(self) -> dict[str, str]:
        values = {"status": self.state, "ontvanger": self.recipient, "soort": self.kind}
        return {key: value for key, value in values.items() if value}

    def apply(self, query: Select[tuple[Notification]]) -> Select[tuple[Notification]]:
        if self.state:
            query = query.where(Notification.email_state == self.state)
        if self.kind:
            query = query.where(Notification.kind == self.kind)
        if self.recipient:
            pattern = self.recipient.lower().replace("%", "").replace("_", r"\_")
            query = query.where(Notification.recipient.ilike(f"%{pattern}%", escape="\\"))
        return query


@bp.route("/")
@roles_required("admin")
def index() -> Response:
    """Every notification, newest first, 50 a page."""
    filters = LogFilters.from_args(request.args)
    page = db.paginate(
        filters.apply(select(Notification)).order_by(Notification.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=50,
        error_out=False,
    )
    return render(
        "notifications/log.html",
        "notifications/_log_results.html",
        page=page,
        filters=filters,
        filter_args=filters.as_args(),
        state_labels=STATE_LABELS,
        kinds=sorted(KINDS),
    )


@bp.route("/<int:notification_id>")
@roles_required("admin")
def detail(notification_id: int) -> Response:
    notification = db.session.get(Notification, notification_id) or abort(404)
    return render(
        "notifications/log_detail.html", notification=notification, state_labels=STATE_LABELS
    )


@bp.route("/<int:notification_id>/opnieuw", methods=["POST"])
@roles_required("admin")
def resend(notification_id: int) -> Response:
    """Put a failed notification back in line: attempts from zero, out at once."""
    if resend_failed(notification_id, current_user.id):
        flash(_("Het bericht staat weer klaar om te versturen."), "success")
    else:
        flash(_("Dit bericht is niet mislukt; er is niets opnieuw verstuurd."), "info")
    return redirect_after_post(url_for("mail_log.detail", notification_id=notification_id))


def resend_failed(notification_id: int, actor_id: int | None) -> bool:
    """Failed → waiting, with a fresh series of attempts; recorded in the audit trail. Only a
    failed row changes (a conditional update), so a double click resends once."""
    changed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.email_state == EmailState.FAILED.value,
        )
        .values(
            email_state=EmailState.WAITING.value,
            attempts=0,
            next_attempt_at=None,
            claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        return False
    record(
        actor_id=actor_id,
        action="resend_notification",
        object_type="notification",
        object_id=notification_id,
        from_state=EmailState.FAILED.value,
        to_state=EmailState.WAITING.value,
    )
    send_after_commit(notification_id)
    db.session.commit()
    return True
