"""Background work for applications: the PDF summary."""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from portal import uploads
from portal.applications.labels import CATEGORY_LABELS, KADER_LABELS, STATE_LABELS
from portal.applications.models import Application
from portal.extensions import db, rq
from portal.notifications.services import run_after_commit
from portal.timeutil import utcnow


def request_pdf(application_id: int) -> None:
    run_after_commit(make_application_pdf, application_id)


@rq.job
def make_application_pdf(application_id: int) -> str:
    """Render the application summary as PDF (WeasyPrint). Takes an id, reloads the row, and
    does nothing when no PDF is wanted (any more)."""
    from weasyprint import HTML

    application = db.session.get(Application, application_id)
    if application is None or application.pdf_requested_at is None or application.is_draft:
        return "nothing to do"
    root = Path(current_app.config["PORTAL_UPLOAD_DIR"])
    with current_app.test_request_context(), force_locale(application.applicant.locale or "nl"):
        html = render_template(
            "applications/pdf.html",
            application=application,
            kader_labels=KADER_LABELS,
            category_labels=CATEGORY_LABELS,
            state_labels=STATE_LABELS,
            made_at=utcnow(),
        )
    document = HTML(string=html).write_pdf()
    stored = uploads.store(io.BytesIO(document), f"aanvraag-{application.reference}.pdf", root=root)
    previous = application.pdf_storage_key
    application.pdf_storage_key = stored.storage_key
    application.pdf_generated_at = utcnow()
    db.session.commit()
    if previous:
        uploads.delete(previous, root)
    return stored.storage_key
