"""Writing audit records. Services call ``record``; it adds and never commits."""

from __future__ import annotations

from flask import has_request_context, request

from portal.audit.models import AuditRecord
from portal.extensions import db


def current_origin() -> str:
    if has_request_context():
        return f"web {request.remote_addr or '-'}"[:120]
    return "system"


def record(
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    origin: str | None = None,
) -> AuditRecord:
    entry = AuditRecord(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        origin=origin or current_origin(),
    )
    db.session.add(entry)
    return entry
