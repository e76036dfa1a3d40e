"""The verbs of a wijkbudget application: make and save a draft, check eligibility, submit,
withdraw, gather endorsements. They flush, audit and record notifications; never commit.

Services speak in codes; the words people read live in ``messages.py`` and the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.accounts.models import User
from portal.applications import workflow
from portal.applications.models import (
    Application,
    BudgetLine,
    Endorsement,
    ReferenceCounter,
    State,
    household_key,
)
from portal.audit.services import record
from portal.deadlines import decision_deadline
from portal.districts.models import DistrictBudget
from portal.districts.services import district_for_postcode, normalise_postcode
from portal.extensions import db
from portal.notifications.services import absolute_url, notify
from portal.rulesets.models import Ruleset
from portal.rulesets.services import ruleset_in_force
from portal.timeutil import local_today, utcnow


@dataclass(frozen=True)
class Problem:
    """One unmet rule: a code, the field it concerns, the section it is in, and details."""

    code: str
    field: str
    section: str
    params: dict[str, Any] = field(default_factory=dict)


class NotEligible(workflow.WorkflowError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


class EndorsementRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- drafts ----------------------------------------------------------------------------------


def create_draft(applicant: User, creation_key: str) -> Application:
    """A new draft for the applicant's district; the same key returns the same draft."""
    existing = db.session.scalar(
        select(Application).where(
            Application.applicant_id == applicant.id, Application.creation_key == creation_key
        )
    )
    if existing is not None:
        return existing
    application = Application(
        applicant_id=applicant.id,
        district_id=applicant.district_id,
        creation_key=creation_key,
        kaders=[],
        account_holder=applicant.name,
    )
    db.session.add(application)
    db.session.flush()
    record(
        actor_id=applicant.id,
        action="application.created",
        object_type="application",
        object_id=application.id,
        to_state=State.DRAFT,
    )
    return application


def discard_draft(application: Application, actor: User) -> None:
    record(
        actor_id=actor.id,
        action="application.discarded",
        object_type="application",
        object_id=application.id,
        from_state=application.state,
    )
    db.session.delete(application)


def set_lines(application: Application, rows: list[dict[str, Any]]) -> None:
    """Replace the budget lines with ``rows`` (description, category, quantity, unit price)."""
    application.lines.clear()
    db.session.flush()
    for position, row in enumerate(rows):
        application.lines.append(
            BudgetLine(
                position=position,
                description=(row.get("description") or "")[:200],
                category=row.get("category") or "",
                quantity=max(0, int(row.get("quantity") or 0)),
                unit_price_cents=max(0, int(row.get("unit_price_cents") or 0)),
            )
        )
    recompute_totals(application)


def recompute_totals(application: Application) -> None:
    """The server always computes: total of the lines, minus other funding, is the request."""
    application.total_cents = sum(
        line.quantity * line.unit_price_cents for line in application.lines
    )
    application.requested_cents = application.total_cents - (application.other_funding_cents or 0)


def normalise_iban(raw: str | None) -> str | None:
    """The IBAN in its compact form, or None when it is not a valid IBAN."""
    if not raw:
        return None
    try:
        return str(IBAN(raw).compact)
    except SchwiftyException:
        return None


def valid_kvk(raw: str | None) -> bool:
    value = (raw or "").strip()
    return len(value) == 8 and value.isdigit() and value != "00000000"


# --- eligibility -------------------------------------------------------------------------------


def eligibility(application: Application, ruleset: Ruleset | None, today: date) -> list[Problem]:
    """Every rule of the ruleset in force, checked; an empty list means it may be submitted."""
    problems: list[Problem] = []

    def problem(code: str, field_name: str, section: str, **params: Any) -> None:
        problems.append(Problem(code, field_name, section, params))

    if ruleset is None:
        problem("no_ruleset", "title", "activiteit")
        return problems
    # The activity
    if application.for_organisation:
        if not (application.organisation_name or "").strip():
            problem("organisation_name_missing", "organisation_name", "activiteit")
        if not valid_kvk(application.kvk_number):
            problem("kvk_invalid", "kvk_number", "activiteit")
        organisation_district = district_for_postcode(application.organisation_postcode or "")
        if organisation_district is None or organisation_district.id != application.district_id:
            problem("organisation_outside_district", "organisation_postcode", "activiteit")
        if not (application.applicant_role or "").strip():
            problem("applicant_role_missing", "applicant_role", "activiteit")
    if not (application.title or "").strip():
        problem("title_missing", "title", "activiteit")
    if not (application.description or "").strip():
        problem("description_missing", "description", "activiteit")
    if not [k for k in application.kaders or [] if k in ruleset.kaders]:
        problem("kader_missing", "kaders", "activiteit")
    if application.start_date is None:
        problem("start_missing", "start_date", "activiteit")
    else:
        earliest = today + timedelta(weeks=ruleset.lead_time_weeks)
        if application.start_date < earliest:
            problem(
                "lead_time",
                "start_date",
                "activiteit",
                weeks=ruleset.lead_time_weeks,
                earliest=earliest,
            )
    if application.end_date is None:
        problem("end_missing", "end_date", "activiteit")
    elif application.start_date and application.end_date < application.start_date:
        problem("end_before_start", "end_date", "activiteit")
    if not (application.location or "").strip():
        problem("location_missing", "location", "activiteit")
    # Who applies, and where
    applicant = application.applicant
    if applicant.district_id != application.district_id:
        problem("district_mismatch", "district", "indienen")
    # The budget
    if not application.lines:
        problem("lines_missing", "lines", "begroting")
    for index, line in enumerate(application.lines):
        if not line.description.strip() or line.quantity <= 0 or line.unit_price_cents <= 0:
            problem("line_incomplete", f"lines-{index}-description", "begroting", line=index + 1)
        if not line.category:
            problem("category_missing", f"lines-{index}-category", "begroting", line=index + 1)
        elif line.category in ruleset.excluded_categories:
            problem(
                "excluded_category",
                f"lines-{index}-category",
                "begroting",
                line=index + 1,
                category=line.category,
            )
    if application.lines:
        if application.requested_cents < ruleset.min_amount_cents:
            problem("amount_too_low", "requested", "begroting", minimum=ruleset.min_amount_cents)
        elif application.requested_cents > ruleset.max_amount_cents:
            problem("amount_too_high", "requested", "begroting", maximum=ruleset.max_amount_cents)
    # Payment
    if not application.iban:
        problem("iban_missing", "iban", "betaling")
    elif normalise_iban(application.iban) is None:
        problem("iban_invalid", "iban", "betaling")
    if not (application.account_holder or "").strip():
        problem("holder_missing", "account_holder", "betaling")
    # Draagvlak
    have = counted_endorsements(application)
    if have < ruleset.min_endorsements:
        problem("draagvlak", "draagvlak", "draagvlak", have=have, need=ruleset.min_endorsements)
    # Declaration
    if not application.declaration:
        problem("declaration", "declaration", "indienen")
    return problems


def counted_endorsements(application: Application) -> int:
    return int(
        db.session.scalar(
            select(func.count(Endorsement.id)).where(
                Endorsement.application_id == application.id,
                Endorsement.confirmed_at.is_not(None),
            )
        )
        or 0
    )


def counted_endorsements_column() -> Any:
    """``counted_endorsements`` as a column of a query of applications: a page that shows the
    number reads it with the application, in one query."""
    return (
        select(func.count(Endorsement.id))
        .where(
            Endorsement.application_id == Application.id,
            Endorsement.confirmed_at.is_not(None),
        )
        .correlate(Application)
        .scalar_subquery()
    )


def district_remaining_cents(application: Application, year: int) -> int | None:
    """What is left of the district's budget this year (information; the ledger decides)."""
    budget = db.session.scalar(
        select(DistrictBudget).where(
            DistrictBudget.district_id == application.district_id, DistrictBudget.year == year
        )
    )
    return budget.remaining_cents if budget is not None else None


# --- submission --------------------------------------------------------------------------------


def allocate_reference(year: int) -> str:
    """The next ``WB-<year>-<nnnn>``. The counter row is locked until the transaction ends, so
    concurrent submissions get consecutive numbers, and a rolled-back one gives its number back."""
    increment = (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    )
    number = db.session.execute(increment).scalar()
    if number is None:
        dialect = db.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            insert(ReferenceCounter)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = db.session.execute(increment).scalar()
    return f"WB-{year}-{int(number):04d}"


def submit(application: Application, actor: User) -> None:
    """Check every rule, then submit: reference, ruleset, deadline, audit, receipt."""
    today = local_today()
    ruleset = ruleset_in_force(today)
    if not workflow.TRANSITIONS["submit"].allowed(actor, application):
        raise workflow.NotAllowed("submit")
    if application.state != State.DRAFT:
        raise workflow.InvalidTransition("submit")
    recompute_totals(application)
    db.session.flush()
    problems = eligibility(application, ruleset, today)
    if problems:
        raise NotEligible(problems)
    assert ruleset is not None
    # First claim the draft (a second, racing submit stops here), then number it.
    workflow.transition(
        application,
        "submit",
        actor,
        submitted_at=utcnow(),
        ruleset_id=ruleset.id,
        decision_deadline=decision_deadline(today, weeks=ruleset.decision_period_weeks),
    )
    reference = allocate_reference(today.year)
    db.session.execute(
        update(Application)
        .where(Application.id == application.id)
        .values(reference=reference)
        .execution_options(synchronize_session=False)
    )
    application.reference = reference
    db.session.flush()
    # Made from an initiative: a public milestone on its timeline (nothing private).
    from portal.initiatives.services import record_milestone

    record_milestone(application.initiative_id, "application_submitted")
    notify(
        application.applicant,
        "application_submitted",
        link=absolute_url("applications.detail", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        ruleset=ruleset,
    )


def withdraw(application: Application, actor: User, reason: str | None) -> None:
    workflow.transition(application, "withdraw", actor, reason=reason, closed_at=utcnow())
    if application.open_info_request is not None:
        application.open_info_request.outcome = "withdrawn"
    notify(
        application.applicant,
        "application_withdrawn",
        link=absolute_url("applications.detail", application_id=application.id),
        object_type="application",
        object_id=application.id,
        application=application,
    )


# --- draagvlak ---------------------------------------------------------------------------------


def endorse(
    application: Application,
    *,
    user: User | None = None,
    name: str = "",
    postcode: str = "",
    house_number: str = "",
    email: str = "",
    locale: str = "nl",
) -> Endorsement:
    """Record an endorsement. A signed-in neighbour's counts at once; someone without an account
    confirms it from the e-mail we send. Raises EndorsementRefused with a reason code."""
    if application.state != State.DRAFT:
        raise EndorsementRefused("closed")
    if user is not None:
        if user.id == application.applicant_id:
            raise EndorsementRefused("own_application")
        name, postcode, house_number, email = (
            user.name,
            user.postcode or "",
            user.house_number or "",
            user.email,
        )
    postcode = normalise_postcode(postcode)
    district = district_for_postcode(postcode)
    if district is None or district.id != application.district_id:
        raise EndorsementRefused("other_district")
    if user is None and unconfirmed_recently(application) >= MAX_UNCONFIRMED_PER_HOUR:
        # The form mails strangers' addresses: limit it, so it cannot be used to send spam.
        raise EndorsementRefused("too_many")
    household = household_key(postcode, house_number)
    applicant = application.applicant
    if household == household_key(applicant.postcode or "", applicant.house_number or ""):
        raise EndorsementRefused("own_household")
    exists = db.session.scalar(
        select(Endorsement.id).where(
            Endorsement.application_id == application.id, Endorsement.household == household
        )
    )
    if exists is not None:
        raise EndorsementRefused("household_done")
    endorsement = Endorsement(
        application_id=application.id,
        user_id=user.id if user else None,
        name=name.strip()[:120],
        email=(email or "").strip().lower() or None,
        postcode=postcode,
        house_number=house_number.strip().upper()[:10],
        household=household,
        district_id=district.id,
        confirmed_at=utcnow() if user is not None else None,
    )
    db.session.add(endorsement)
    db.session.flush()
    record(
        actor_id=user.id if user else None,
        action="endorsement.added",
        object_type="application",
        object_id=application.id,
        reason=household,
    )
    if user is None:
        notify(
            None,
            "endorsement_confirm",
            recipient=endorsement.email,
            locale=locale,
            link=absolute_url("applications.confirm_endorsement", token=endorsement.confirm_token),
            object_type="application",
            object_id=application.id,
            name=endorsement.name,
            application=application,
        )
    return endorsement


MAX_UNCONFIRMED_PER_HOUR = 30
MAX_INVITES_PER_DAY = 60


def unconfirmed_recently(application: Application) -> int:
    return int(
        db.session.scalar(
            select(func.count(Endorsement.id)).where(
                Endorsement.application_id == application.id,
                Endorsement.confirmed_at.is_(None),
                Endorsement.created_at > utcnow() - timedelta(hours=1),
            )
        )
        or 0
    )


def invites_today(application: Application) -> int:
    from portal.notifications.models import Notification

    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.kind == "endorsement_invite",
                Notification.object_type == "application",
                Notification.object_id == application.id,
                Notification.created_at > utcnow() - timedelta(days=1),
            )
        )
        or 0
    )


def confirm_endorsement(token: str) -> Endorsement | None:
    endorsement = db.session.scalar(select(Endorsement).where(Endorsement.confirm_token == token))
    if endorsement is None:
        return None
    if endorsement.confirmed_at is None:
        endorsement.confirmed_at = utcnow()
        record(
            actor_id=None,
            action="endorsement.confirmed",
            object_type="application",
            object_id=endorsement.application_id,
            reason=endorsement.household,
        )
    return endorsement


def remove_endorsement(application: Application, endorsement: Endorsement, actor: User) -> None:
    record(
        actor_id=actor.id,
        action="endorsement.removed",
        object_type="application",
        object_id=application.id,
        reason=endorsement.household,
    )
    db.session.delete(endorsement)


def invite(application: Application, emails: list[str], actor: User) -> int:
    for address in emails:
        notify(
            None,
            "endorsement_invite",
            recipient=address,
            locale=actor.locale,
            link=absolute_url("applications.endorse", token=application.endorsement_token),
            object_type="application",
            object_id=application.id,
            application=application,
            inviter=actor.name,
        )
    record(
        actor_id=actor.id,
        action="endorsement.invited",
        object_type="application",
        object_id=application.id,
        reason=str(len(emails)),
    )
    return len(emails)
