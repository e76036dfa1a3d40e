"""Draagvlak: the applicant shares a link; neighbours from the same district endorse the plan,
signed in or with name, address and a confirmed e-mail address."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, or_, select

from portal.accounts.models import User
from portal.applications import bp, permissions, services
from portal.applications.editing import load_application, own_draft_or_redirect
from portal.applications.forms import EndorseForm, InviteForm
from portal.applications.labels import KADER_LABELS
from portal.applications.messages import endorsement_refusal
from portal.applications.models import Application, Endorsement, household_key
from portal.districts.services import is_valid_postcode, normalise_postcode
from portal.extensions import db
from portal.rulesets.services import ruleset_in_force
from portal.web import redirect_after_post, render, roles_required

MAX_INVITES = 20


def by_token(token: str) -> Application:
    application = db.session.scalar(
        select(Application).where(Application.endorsement_token == token)
    )
    if application is None:
        abort(404)
    return application


def endorsement_of(application: Application, user: User) -> Endorsement | None:
    """The endorsement that already speaks for this user: their own, or one from their household
    (the same key ``services.endorse`` refuses a second endorsement on). One query."""
    mine = Endorsement.user_id == user.id
    if user.postcode and user.house_number:
        household = household_key(normalise_postcode(user.postcode), user.house_number)
        mine = or_(mine, Endorsement.household == household)
    # Their own endorsement first, should one from their (new) address exist as well.
    return db.session.scalar(
        select(Endorsement)
        .where(Endorsement.application_id == application.id, mine)
        .order_by(case((Endorsement.user_id == user.id, 0), else_=1), Endorsement.id)
        .limit(1)
    )


def given_by(endorsement: Endorsement, user: User) -> bool:
    """Whether the user gave it themselves: signed in, or before with their own e-mail address."""
    return endorsement.user_id == user.id or (
        endorsement.email is not None and endorsement.email == user.email.lower()
    )


@bp.route("/steun/<token>", methods=["GET", "POST"])
def endorse(token: str) -> Response:
    """The page a neighbour opens from the shared link: the plan in short, and "I support it"."""
    application = by_token(token)
    form = EndorseForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            if current_user.is_authenticated:
                services.endorse(application, user=current_user)
            else:
                missing = False
                if not form.name.data:
                    form.name.errors.append(_("Vul uw naam in."))
                    missing = True
                if not is_valid_postcode(normalise_postcode(form.postcode.data)):
                    form.postcode.errors.append(_("Vul een postcode in zoals 7511 AB."))
                    missing = True
                if not form.house_number.data:
                    form.house_number.errors.append(_("Vul uw huisnummer in."))
                    missing = True
                if "@" not in (form.email.data or ""):
                    form.email.errors.append(
                        _("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.")
                    )
                    missing = True
                if missing:
                    raise services.EndorsementRefused("form")
                services.endorse(
                    application,
                    name=form.name.data,
                    postcode=form.postcode.data,
                    house_number=form.house_number.data,
                    email=form.email.data,
                    # The language the visitor reads the site in (chosen, else Dutch).
                    locale=str(get_locale() or "nl"),
                )
        except services.EndorsementRefused as refused:
            db.session.rollback()
            if refused.code != "form":
                flash(endorsement_refusal(refused.code), "error")
            status = 422
        else:
            db.session.commit()
            if current_user.is_authenticated:
                flash(_("Dank u wel! Uw steun is geteld."), "success")
            else:
                flash(
                    _(
                        "Bijna klaar: klik op de link in de e-mail die wij u stuurden. "
                        "Dan telt uw steun."
                    ),
                    "success",
                )
            return redirect_after_post(url_for("applications.endorse", token=token))
    own_application = permissions.is_applicant(current_user, application)
    existing = (
        endorsement_of(application, current_user)
        if current_user.is_authenticated and application.is_draft and not own_application
        else None
    )
    return render(
        "applications/endorse.html",
        status=status,
        application=application,
        form=form,
        own_application=own_application,
        existing=existing,
        existing_is_mine=existing is not None and given_by(existing, current_user),
        kader_labels=KADER_LABELS,
        counted=services.counted_endorsements(application),
        ruleset=ruleset_in_force(),
    )


@bp.route("/steun/bevestigen/<token>")
def confirm_endorsement(token: str) -> Response:
    """The link in the e-mail to a neighbour without an account: their endorsement counts."""
    endorsement = services.confirm_endorsement(token)
    if endorsement is None:
        abort(404)
    db.session.commit()
    flash(_("Dank u wel! Uw steun is bevestigd en geteld."), "success")
    return redirect_after_post(
        url_for("applications.endorse", token=endorsement.application.endorsement_token)
    )


@bp.route("/aanvragen/<int:application_id>/draagvlak/uitnodigen", methods=["POST"])
@roles_required("resident")
def invite(application_id: int) -> Response:
    """Send the link to neighbours by e-mail."""
    loaded = own_draft_or_redirect(application_id)
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    form = InviteForm()
    if form.validate_on_submit():
        addresses = form.addresses()
        bad = [a for a in addresses if "@" not in a or "." not in a.split("@")[-1]]
        if not addresses:
            flash(_("Vul minstens één e-mailadres in."), "error")
        elif bad:
            flash(_("Deze adressen kloppen niet: %(list)s", list=", ".join(bad)), "error")
        elif len(addresses) > MAX_INVITES:
            flash(_("U kunt %(n)s buren tegelijk uitnodigen.", n=MAX_INVITES), "error")
        elif services.invites_today(application) + len(addresses) > services.MAX_INVITES_PER_DAY:
            flash(
                _(
                    "U kunt %(n)s uitnodigingen per dag versturen. Deel anders de link.",
                    n=services.MAX_INVITES_PER_DAY,
                ),
                "error",
            )
        else:
            services.invite(application, addresses, current_user)
            db.session.commit()
            flash(_("Wij hebben %(n)s uitnodigingen gestuurd.", n=len(addresses)), "success")
    return redirect_after_post(
        url_for("applications.edit", application_id=application.id, section="draagvlak")
    )


@bp.route("/aanvragen/<int:application_id>/draagvlak/teller")
@roles_required("resident")
def endorsement_count(application_id: int) -> Response:
    """The count against the threshold and who endorsed; htmx polls it so the applicant sees
    both grow."""
    application = load_application(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    return render(
        "applications/endorsement_count.html",
        "applications/_endorsement_poll.html",
        application=application,
        counted=services.counted_endorsements(application),
        ruleset=ruleset_in_force(),
    )


@bp.route(
    "/aanvragen/<int:application_id>/draagvlak/<int:endorsement_id>/verwijderen",
    methods=["GET", "POST"],
)
@roles_required("resident")
def remove_endorsement(application_id: int, endorsement_id: int) -> Response:
    """The applicant removes an endorsement, after a confirmation."""
    loaded = own_draft_or_redirect(application_id)
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    endorsement = db.session.scalar(
        select(Endorsement).where(
            Endorsement.id == endorsement_id, Endorsement.application_id == application.id
        )
    )
    if endorsement is None:
        abort(404)
    if request.method == "POST":
        services.remove_endorsement(application, endorsement, current_user)
        db.session.commit()
        flash(_("De steunbetuiging is verwijderd."), "success")
        return redirect_after_post(
            url_for("applications.edit", application_id=application.id, section="draagvlak")
        )
    return render(
        "applications/confirm_remove_endorsement.html",
        application=application,
        endorsement=endorsement,
    )
