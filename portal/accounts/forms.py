"""Account forms. Messages are plain Dutch (B1) and translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal.accounts.passwords import MIN_LENGTH, is_common
from portal.districts.services import district_for_postcode, is_valid_postcode, normalise_postcode


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def lower_strip(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


class StrongPassword:
    """At least MIN_LENGTH characters and not on the list of common passwords."""

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        password = field.data or ""
        if len(password) < MIN_LENGTH:
            raise ValidationError(
                _l("Kies een wachtwoord van minstens %(n)s tekens.", n=MIN_LENGTH)
            )
        if is_common(password):
            raise ValidationError(
                _l("Dit wachtwoord wordt veel gebruikt en is makkelijk te raden. Kies een ander.")
            )
        email = getattr(form, "email", None)
        if email is not None and email.data and password.lower() == str(email.data).lower():
            raise ValidationError(_l("Uw wachtwoord mag niet gelijk zijn aan uw e-mailadres."))


EMAIL_REQUIRED = DataRequired(message=_l("Vul uw e-mailadres in."))
EMAIL_VALID = Email(message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."))


class RegisterForm(FlaskForm):
    name = StringField(
        _l("Uw naam"),
        filters=[strip],
        validators=[DataRequired(message=_l("Vul uw naam in.")), Length(max=120)],
    )
    email = EmailField(
        _l("E-mailadres"),
        filters=[lower_strip],
        validators=[EMAIL_REQUIRED, EMAIL_VALID, Length(max=254)],
    )
    password = PasswordField(
        _l("Wachtwoord"),
        validators=[DataRequired(message=_l("Kies een wachtwoord.")), StrongPassword()],
    )
    password_confirm = PasswordField(
        _l("Herhaal het wachtwoord"),
        validators=[
            DataRequired(message=_l("Vul het wachtwoord nog een keer in.")),
            EqualTo("password", message=_l("De twee wachtwoorden zijn niet gelijk.")),
        ],
    )
    postcode = StringField(
        _l("Postcode"),
        filters=[strip],
        validators=[DataRequired(message=_l("Vul uw postcode in."))],
    )
    house_number = StringField(
        _l("Huisnummer"),
        filters=[strip],
        validators=[DataRequired(message=_l("Vul uw huisnummer in.")), Length(max=10)],
    )
    adult = BooleanField(
        _l("Ik ben 18 jaar of ouder"),
        validators=[
            DataRequired(message=_l("U moet 18 jaar of ouder zijn om een account te maken."))
        ],
    )

    def validate_postcode(self, field: StringField) -> None:
        postcode = normalise_postcode(field.data)
        if not is_valid_postcode(postcode):
            raise ValidationError(_l("Vul een postcode in zoals 7511 AB."))
        self.district = district_for_postcode(postcode)
        if self.district is None:
            raise ValidationError(
                _l(
                    "Deze postcode ligt niet in de gemeente Enschede. Wijkkracht is alleen voor "
                    "inwoners van Enschede."
                )
            )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), filters=[lower_strip], validators=[EMAIL_REQUIRED])
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(message=_l("Vul uw wachtwoord in."))]
    )
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"), filters=[lower_strip], validators=[EMAIL_REQUIRED, EMAIL_VALID]
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nieuw wachtwoord"),
        validators=[DataRequired(message=_l("Kies een wachtwoord.")), StrongPassword()],
    )
    password_confirm = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[
            DataRequired(message=_l("Vul het wachtwoord nog een keer in.")),
            EqualTo("password", message=_l("De twee wachtwoorden zijn niet gelijk.")),
        ],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(message=_l("Vul uw huidige wachtwoord in."))],
    )


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(
        _l("Nieuw e-mailadres"),
        filters=[lower_strip],
        validators=[EMAIL_REQUIRED, EMAIL_VALID, Length(max=254)],
    )
    current_password = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(message=_l("Vul uw huidige wachtwoord in."))],
    )


class ResendVerificationForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"), filters=[lower_strip], validators=[EMAIL_REQUIRED, EMAIL_VALID]
    )
