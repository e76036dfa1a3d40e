"""What the decision letter (beschikking) says, for the page and for the PDF alike."""

from __future__ import annotations

from typing import Any

from flask import current_app

from portal.applications.labels import ADVICE_LABELS, REFUSAL_GROUND_LABELS
from portal.applications.models import Decision
from portal.deadlines import add_period
from portal.notifications.services import absolute_url, municipality_place
from portal.reviews.services import ruleset_of

# Where an objection goes by post, next to the portal.
OBJECTION_ADDRESS = "Postbus 20, 7500 AA Enschede"


def letter_context(decision: Decision) -> dict[str, Any]:
    application = decision.application
    ruleset = ruleset_of(application)
    direct = decision.amount_cents <= ruleset.small_grant_limit_cents
    advance = (
        decision.amount_cents
        if direct
        # Rounded up to the cent, in the applicant's favour.
        else -(-decision.amount_cents * ruleset.advance_percent // 100)
    )
    accounting_due = (
        add_period(application.end_date, weeks=ruleset.accounting_due_weeks)
        if application.end_date
        else None
    )
    intent = next((i for i in reversed(application.intents) if i.closed), None)
    return {
        "application": application,
        "decision": decision,
        "advice": application.advice_request,
        "intent": intent,
        "ruleset": ruleset,
        "direct": direct,
        "advance_cents": advance,
        "advance_percent": 100 if direct else ruleset.advance_percent,
        "accounting_due": accounting_due,
        "ground_labels": REFUSAL_GROUND_LABELS,
        "advice_labels": ADVICE_LABELS,
        "municipality": current_app.config["PORTAL_MUNICIPALITY"],
        "place": municipality_place(),
        "objection_address": OBJECTION_ADDRESS,
        "objection_url": absolute_url("applications.objection", application_id=application.id),
    }
