"""Forms for taking part in an initiative: comment, offer help, write to the initiator, report
a comment. Every text has a maximum length with a plain Dutch message; control characters that
no one types (and that PostgreSQL or XML refuse) are dropped."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.initiatives.labels import HELP_LABELS

# Marks a field that may stay empty; the label then says so (see _macros.field).
OPTIONAL = "optional"
MESSAGE_LENGTH = 2000
TIME_LENGTH = 200
REASON_LENGTH = 1000
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str | None:
    """Stripped, with Windows line breaks made plain and control characters removed."""
    if not isinstance(value, str):
        return value
    return CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n")).strip()


def at_most(length: int) -> Length:
    return Length(
        max=length,
        message=_l(
            "Gebruik hoogstens %(max)s tekens. U gebruikte er nu meer.",
            max=f"{length:,}".replace(",", "."),
        ),
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Uw reactie"),
        filters=[clean_text],
        validators=[DataRequired(_l("Schrijf eerst uw reactie.")), at_most(MESSAGE_LENGTH)],
    )


def known_choice(form: Any, field: RadioField) -> None:
    if field.data not in {value for value, _label in field.choices or []}:
        raise ValidationError(_l("Kies een van de soorten hulp in de lijst."))


class OfferHelpForm(FlaskForm):
    kind = RadioField(
        _l("Wat voor hulp biedt u aan?"),
        # Checked by known_choice, with a Dutch message instead of WTForms' own.
        validate_choice=False,
        validators=[DataRequired(_l("Kies wat voor hulp u aanbiedt.")), known_choice],
    )
    what = TextAreaField(
        _l("Wat kunt u doen of geven?"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Schrijf op wat u kunt doen of geven.")),
            at_most(MESSAGE_LENGTH),
        ],
    )
    time_available = StringField(
        _l("Hoeveel tijd heeft u?"),
        description=OPTIONAL,
        filters=[clean_text],
        validators=[at_most(TIME_LENGTH)],
    )

    def __init__(self, kinds: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, HELP_LABELS[kind]) for kind in kinds]


class ContactForm(FlaskForm):
    message = TextAreaField(
        _l("Uw bericht"),
        filters=[clean_text],
        validators=[DataRequired(_l("Schrijf eerst uw bericht.")), at_most(MESSAGE_LENGTH)],
    )


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom meldt u deze reactie?"),
        description=OPTIONAL,
        filters=[clean_text],
        validators=[at_most(REASON_LENGTH)],
    )
