"""Account pages. Views are thin: validate, call a service, commit once, respond."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from portal.accounts import services, tokens
from portal.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
)
from portal.districts.services import normalise_postcode
from portal.extensions import db
from portal.timeutil import to_local
from portal.web import redirect_after_post, render, start_page_for

bp = Blueprint("accounts", __name__)
KEPT_AT_LOGIN = ("locale", "unsaved_draft")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/account-maken", methods=["GET", "POST"])
def register() -> Response:
    """Register as a resident: name, e-mail, password, address, 18+."""
    if current_user.is_authenticated:
        return redirect(start_page_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                postcode=normalise_postcode(form.postcode.data),
                house_number=form.house_number.data,
                district=form.district,
                locale=session.get("locale", "nl"),
            )
        except services.EmailTaken:
            form.email.errors.append(
                _(
                    "Er is al een account met dit e-mailadres. Log in, of vraag een nieuw "
                    "wachtwoord aan als u het bent vergeten."
                )
            )
        else:
            db.session.commit()
            session["registered_email"] = form.email.data
            return redirect_after_post(url_for("accounts.check_your_mail"))
    status = 422 if form.is_submitted() and form.errors else 200
    return render("accounts/register.html", form=form, status=status)


@bp.route("/account-maken/controleer-uw-mail")
def check_your_mail() -> Response:
    """After registering: where the verification e-mail went, and how to get a new one."""
    return render(
        "accounts/check_mail.html",
        email=session.get("registered_email"),
        form=ResendVerificationForm(email=session.get("registered_email")),
    )


@bp.route("/account-maken/opnieuw-sturen", methods=["POST"])
def resend_verification() -> Response:
    """Send a new verification link. The answer is the same whether the address exists."""
    form = ResendVerificationForm()
    if form.validate_on_submit():
        user = services.find_by_email(form.email.data)
        if user is not None and not user.is_verified:
            services.send_verification(user)
            db.session.commit()
        session["registered_email"] = form.email.data
        flash(
            _("Als dit adres bij ons bekend is en nog niet bevestigd, sturen wij een nieuwe link."),
            "info",
        )
    return redirect_after_post(url_for("accounts.check_your_mail"))


@bp.route("/e-mail-bevestigen/<token>")
def verify_email(token: str) -> Response:
    """Open the signed link from the e-mail and confirm the address."""
    try:
        user = services.verify_email(token)
    except tokens.TokenExpired:
        return render(
            "accounts/link_problem.html",
            status=400,
            expired=True,
            form=ResendVerificationForm(),
        )
    except tokens.TokenInvalid:
        return render(
            "accounts/link_problem.html",
            status=400,
            expired=False,
            form=ResendVerificationForm(),
        )
    db.session.commit()
    flash(_("Uw e-mailadres is bevestigd."), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.account"))
    return redirect(url_for("accounts.login"))


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Response:
    """Log in with e-mail and password; limited per account and per address."""
    if current_user.is_authenticated:
        return redirect(start_page_for(current_user))
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        address = request.remote_addr or "-"
        throttle = services.throttle_for(form.email.data, address)
        if throttle is not None:
            moment = to_local(throttle.retry_at).strftime("%H:%M")
            error = TooManyRequests(
                _(
                    "U heeft te vaak een verkeerd wachtwoord ingevuld. Voor uw veiligheid kunt u "
                    "pas om %(time)s weer inloggen.",
                    time=moment,
                ),
                retry_after=throttle.retry_after_seconds,
            )
            raise error
        try:
            user = services.authenticate(form.email.data, form.password.data, address)
        except services.NotVerified:
            db.session.commit()
            form.email.errors.append(
                _(
                    "U heeft uw e-mailadres nog niet bevestigd. Klik op de link in de e-mail die "
                    "wij u stuurden, of vraag hieronder een nieuwe aan."
                )
            )
            return render(
                "accounts/login.html",
                form=form,
                unverified=True,
                resend_form=ResendVerificationForm(email=form.email.data),
                status=422,
            )
        db.session.commit()
        if user is None:
            form.password.errors.append(
                _("Het e-mailadres of het wachtwoord klopt niet. Probeer het opnieuw.")
            )
        else:
            next_url = _safe_next(form.next.data)
            # A fresh session at login: nothing from before it carries over (session fixation),
            # except the language and a draft that was typed while the session had expired.
            kept = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
            session.clear()
            session.update(kept)
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without use
            login_user(user)
            return redirect_after_post(next_url or start_page_for(user))
    status = 422 if form.is_submitted() and form.errors else 200
    return render("accounts/login.html", form=form, status=status, unverified=False)


@bp.route("/uitloggen", methods=["POST"])
def logout() -> Response:
    """Log out and forget the session."""
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("U bent uitgelogd."), "info")
    return redirect_after_post(url_for("public.home"))


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password() -> Response:
    """Ask for a reset link. The answer never reveals whether an account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render("accounts/forgot_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() and form.errors else 200
    return render("accounts/forgot.html", form=form, status=status)


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    """Choose a new password from the signed link."""
    try:
        user = services.user_for_reset_token(token)
    except (tokens.TokenExpired, tokens.TokenInvalid) as error:
        return render(
            "accounts/reset_problem.html",
            status=400,
            expired=isinstance(error, tokens.TokenExpired),
        )
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data, action="account.password_reset")
        db.session.commit()
        logout_user()
        flash(_("Uw nieuwe wachtwoord is opgeslagen. U kunt nu inloggen."), "success")
        return redirect_after_post(url_for("accounts.login"))
    status = 422 if form.is_submitted() and form.errors else 200
    return render("accounts/reset.html", form=form, token=token, status=status)


@bp.route("/mijn-account")
@login_required
def account() -> Response:
    """Account details, with forms to change the password and the e-mail address."""
    return render(
        "accounts/account.html",
        password_form=ChangePasswordForm(prefix="password"),
        email_form=ChangeEmailForm(prefix="email"),
    )


@bp.route("/mijn-account/wachtwoord", methods=["POST"])
@login_required
def change_password() -> Response:
    """Change the password; other sessions end, this one continues."""
    form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        if not services.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("Uw huidige wachtwoord klopt niet."))
        else:
            services.set_password(
                current_user, form.password.data, action="account.password_changed"
            )
            db.session.commit()
            login_user(current_user._get_current_object())  # this session continues, new token
            flash(_("Uw wachtwoord is gewijzigd."), "success")
            return redirect_after_post(url_for("accounts.account"))
    return render(
        "accounts/account.html",
        password_form=form,
        email_form=ChangeEmailForm(prefix="email"),
        status=422,
    )


@bp.route("/mijn-account/e-mailadres", methods=["POST"])
@login_required
def change_email() -> Response:
    """Ask to change the e-mail address; it changes once the new address is confirmed."""
    form = ChangeEmailForm(prefix="email")
    if form.validate_on_submit():
        if not services.check_password(current_user, form.current_password.data):
            form.current_password.errors.append(_("Uw huidige wachtwoord klopt niet."))
        elif form.new_email.data == current_user.email:
            form.new_email.errors.append(_("Dit is al uw e-mailadres."))
        else:
            try:
                services.request_email_change(current_user, form.new_email.data)
            except services.EmailTaken:
                form.new_email.errors.append(_("Er is al een account met dit e-mailadres."))
            else:
                db.session.commit()
                flash(
                    _(
                        "Wij hebben een link gestuurd naar %(email)s. Uw e-mailadres verandert "
                        "zodra u op die link klikt.",
                        email=form.new_email.data,
                    ),
                    "success",
                )
                return redirect_after_post(url_for("accounts.account"))
    return render(
        "accounts/account.html",
        password_form=ChangePasswordForm(prefix="password"),
        email_form=form,
        status=422,
    )
