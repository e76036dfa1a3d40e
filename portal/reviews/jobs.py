"""Background work of the review: the decision letter as PDF."""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from portal import uploads
from portal.applications.models import Decision
from portal.extensions import db, rq
from portal.timeutil import utcnow


@rq.job
def make_decision_letter(decision_id: int) -> str:
    """Render the beschikking as PDF (WeasyPrint) and store it with the decision."""
    from weasyprint import HTML

    from portal.reviews.letters import letter_context

    decision = db.session.get(Decision, decision_id)
    if decision is None or decision.status != "final":
        return "nothing to do"
    application = decision.application
    root = Path(current_app.config["PORTAL_UPLOAD_DIR"])
    with current_app.test_request_context(), force_locale(application.applicant.locale or "nl"):
        html = render_template("reviews/letter_pdf.html", **letter_context(decision))
    document = HTML(string=html).write_pdf()
    stored = uploads.store(io.BytesIO(document), f"besluit-{application.reference}.pdf", root=root)
    previous = decision.letter_storage_key
    decision.letter_storage_key = stored.storage_key
    decision.letter_generated_at = utcnow()
    db.session.commit()
    if previous:
        uploads.delete(previous, root)
    return stored.storage_key
