"""Intake of a submitted application: accept it as complete, or ask for what is missing and
stop the decision clock until the answer (Awb 4:5, 4:15); extend the decision period once
(Awb 4:14). Every change of state goes through ``applications.workflow``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.accounts.models import CaseOfficerBorough, Role, User, UserRole
from portal.applications import workflow
from portal.applications.models import Application, Attachment, InfoRequest
from portal.applications.permissions import handles_borough
from portal.deadlines import add_period, decision_deadline
from portal.extensions import db
from portal.notifications.services import absolute_url, notify
from portal.rulesets.models import Ruleset
from portal.rulesets.services import ruleset_in_force
from portal.timeutil import local_today, to_local, utcnow
from portal.uploads import StoredFile


class ReviewRefused(workflow.WorkflowError):
    """A rule of the procedure stands in the way; ``code`` names it for the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


IntakeRefused = ReviewRefused


def ruleset_of(application: Application) -> Ruleset:
    """The ruleset the application was submitted under (or, for old data, the one in force)."""
    ruleset = application.ruleset or ruleset_in_force(local_today())
    assert ruleset is not None
    return ruleset


def recomputed_deadline(
    application: Application, *, suspended_days: int, extension_weeks: int
) -> date:
    assert application.submitted_at is not None
    received = to_local(application.submitted_at).date()
    return decision_deadline(
        received,
        weeks=ruleset_of(application).decision_period_weeks,
        suspended_days=suspended_days,
        extension_weeks=extension_weeks,
    )


def default_info_due(application: Application, today: date | None = None) -> date:
    return add_period(today or local_today(), days=ruleset_of(application).info_period_days)


def officers_to_tell(application: Application, preferred: User | None) -> list[User]:
    """Who hears of a step staff must act on: the officer who took the earlier step, if they can
    still open the case; otherwise every active case officer of the borough, so that the message
    never goes to someone who cannot act on it and always reaches someone who can."""
    if preferred is not None and preferred.active and handles_borough(preferred, application):
        return [preferred]
    return list(
        db.session.scalars(
            select(User)
            .join(CaseOfficerBorough, CaseOfficerBorough.user_id == User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                CaseOfficerBorough.borough_id == application.district.borough_id,
                UserRole.role == Role.CASE_OFFICER,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def link_for_applicant(application: Application) -> str:
    return absolute_url("applications.detail", application_id=application.id)


def accept(application: Application, actor: User) -> None:
    workflow.transition(application, "accept", actor)


def request_info(
    application: Application, actor: User, questions: str, due_date: date
) -> InfoRequest:
    today = local_today()
    if due_date <= today:
        raise IntakeRefused("due_in_past")
    workflow.transition(application, "request_info", actor, reason=questions)
    info = InfoRequest(
        application_id=application.id,
        requested_by_id=actor.id,
        questions=questions,
        requested_on=today,
        due_date=due_date,
    )
    application.info_requests.append(info)
    db.session.flush()
    notify(
        application.applicant,
        "application_info_requested",
        link=link_for_applicant(application),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        info=info,
    )
    return info


def suspension_days(info: InfoRequest, until: date) -> int:
    """Awb 4:15: stopped from the day after the request up to the answer, or up to the end of
    the period given for it when that passed unused."""
    return max(0, (min(until, info.due_date) - info.requested_on).days)


@dataclass
class AnswerFile:
    stored: StoredFile
    kind: str = "other"


def attach(application: Application, actor: User, files: list[AnswerFile], **link: int) -> None:
    """Record stored files as attachments of the application, linked to what they came with
    (``info_request_id``, ``objection_id`` or ``report_id``)."""
    for file in files:
        db.session.add(
            Attachment(
                application_id=application.id,
                kind=file.kind,
                storage_key=file.stored.storage_key,
                display_name=file.stored.display_name,
                content_type=file.stored.content_type,
                size=file.stored.size,
                sha256=file.stored.sha256,
                uploaded_by_id=actor.id,
                **link,
            )
        )


def supply_info(
    application: Application, actor: User, answer: str, files: list[AnswerFile]
) -> None:
    info = application.open_info_request
    if info is None:
        raise workflow.InvalidTransition("supply_info")
    today = local_today()
    suspended = application.suspended_days + suspension_days(info, today)
    workflow.transition(
        application,
        "supply_info",
        actor,
        suspended_days=suspended,
        decision_deadline=recomputed_deadline(
            application, suspended_days=suspended, extension_weeks=application.extension_weeks
        ),
    )
    info.answer = answer
    info.answered_on = today
    info.outcome = "answered"
    attach(application, actor, files, info_request_id=info.id)
    db.session.flush()
    for officer in officers_to_tell(application, info.requested_by):
        notify(
            officer,
            "application_info_supplied",
            link=absolute_url("reviews.case", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            info=info,
        )


def put_aside(application: Application, actor: User, reasons: str) -> None:
    """Not considered (buiten behandeling, Awb 4:5): the period for the answer passed unused."""
    info = application.open_info_request
    if info is None:
        raise workflow.InvalidTransition("not_considered")
    if local_today() <= info.due_date:
        raise IntakeRefused("period_running")
    workflow.transition(
        application,
        "not_considered",
        actor,
        reason=reasons,
        suspended_days=application.suspended_days + suspension_days(info, info.due_date),
        closed_at=utcnow(),
    )
    info.outcome = "not_considered"
    notify(
        application.applicant,
        "application_not_considered",
        link=link_for_applicant(application),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        info=info,
        reasons=reasons,
        objection_weeks=ruleset_of(application).objection_period_weeks,
        objection_deadline=add_period(
            local_today(), weeks=ruleset_of(application).objection_period_weeks
        ),
    )


def extend_deadline(application: Application, actor: User, weeks: int, reason: str) -> None:
    """Once, by at most the ruleset's maximum, before the period ends (Awb 4:14)."""
    ruleset = ruleset_of(application)
    if application.extension_weeks:
        raise IntakeRefused("already_extended")
    if not 1 <= weeks <= ruleset.max_extension_weeks:
        raise IntakeRefused("extension_too_long")
    if application.decision_deadline is None or local_today() > application.decision_deadline:
        raise IntakeRefused("period_ended")
    workflow.transition(
        application,
        "extend_deadline",
        actor,
        reason=reason,
        extension_weeks=weeks,
        extension_reason=reason,
        decision_deadline=recomputed_deadline(
            application, suspended_days=application.suspended_days, extension_weeks=weeks
        ),
    )
    notify(
        application.applicant,
        "application_deadline_extended",
        link=link_for_applicant(application),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        weeks=weeks,
        reason=reason,
    )
