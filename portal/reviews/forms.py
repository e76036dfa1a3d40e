"""Forms of the case officer's intake and of the applicant's answer to a request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.accounts.forms import strip
from portal.applications.labels import ATTACHMENT_KIND_LABELS


class AcceptForm(FlaskForm):
    """Only the CSRF token: accepting needs no more than the click."""


class InfoRequestForm(FlaskForm):
    questions = TextAreaField(
        _l("Wat heeft u nog nodig van de aanvrager?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf op welke informatie ontbreekt.")),
            Length(max=5000, message=_l("Gebruik hoogstens 5000 tekens.")),
        ],
    )
    due_date = DateField(
        _l("Uiterlijk ontvangen op"),
        format="%Y-%m-%d",
        validators=[InputRequired(_l("Vul een datum in, bijvoorbeeld 2026-12-15."))],
    )


class PutAsideForm(FlaskForm):
    reasons = TextAreaField(
        _l("Toelichting in de brief"),
        filters=[strip],
        validators=[
            DataRequired(_l("Leg uit waarom de aanvraag niet wordt behandeld.")),
            Length(max=5000, message=_l("Gebruik hoogstens 5000 tekens.")),
        ],
    )


class ExtendForm(FlaskForm):
    weeks = IntegerField(
        _l("Met hoeveel weken?"),
        validators=[
            InputRequired(_l("Vul een aantal weken in.")),
            NumberRange(min=1, max=52, message=_l("Vul een aantal weken in.")),
        ],
    )
    reason = TextAreaField(
        _l("Reden (de aanvrager krijgt die te lezen)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf op waarom het besluit later komt.")),
            Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens.")),
        ],
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Uw antwoord"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf uw antwoord op de vragen van de gemeente.")),
            Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
        ],
    )
    files = MultipleFileField(_l("Bestanden meesturen"), description="optional")
    kind = SelectField(
        _l("Wat voor bestanden zijn het?"), choices=list(ATTACHMENT_KIND_LABELS.items())
    )
