"""Forms of the case officer's intake and of the applicant's answer to a request."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.accounts.forms import strip
from portal.applications.forms import MoneyField, MultiCheckboxField
from portal.applications.labels import (
    ATTACHMENT_KIND_LABELS,
    OBJECTION_OUTCOME_LABELS,
    REFUSAL_GROUND_LABELS,
)


class PrefixedForm(FlaskForm):
    """A form that shares a page with others: its fields get ids and names of their own."""

    prefix_name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)


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


class AdviceRequestForm(PrefixedForm):
    prefix_name = "advies"

    council = SelectField(_l("Welk wijkorgaan?"), coerce=int)
    due_date = DateField(
        _l("Advies graag uiterlijk op"),
        format="%Y-%m-%d",
        validators=[InputRequired(_l("Vul een datum in, bijvoorbeeld 2026-12-15."))],
    )
    note = TextAreaField(
        _l("Toelichting voor het wijkorgaan"),
        filters=[strip],
        description="optional",
        validators=[Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens."))],
    )


REASONS = [
    DataRequired(_l("Schrijf de redenen op. Die komen in de brief.")),
    Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
]


class IntentForm(PrefixedForm):
    prefix_name = "voornemen"

    kind = RadioField(
        _l("Wat bent u van plan?"),
        choices=[
            ("refuse", _l("Afwijzen")),
            ("lower", _l("Minder toekennen dan gevraagd")),
        ],
        validators=[InputRequired(_l("Kies wat u van plan bent."))],
    )
    amount = MoneyField(_l("Bedrag dat u wilt toekennen (bij minder toekennen)"))
    grounds = MultiCheckboxField(
        _l("Gronden"), choices=list(REFUSAL_GROUND_LABELS.items()), validate_choice=True
    )
    reasons = TextAreaField(_l("Redenen"), filters=[strip], validators=REASONS)

    def validate_amount(self, field: MoneyField) -> None:
        if self.kind.data == "lower" and not field.cents:
            raise ValidationError(_l("Vul het bedrag in dat u wilt toekennen."))

    def validate_grounds(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Kies minstens één grond."))


class DecisionForm(FlaskForm):
    outcome = RadioField(
        _l("Besluit"),
        choices=[("grant", _l("Toekennen")), ("refuse", _l("Afwijzen"))],
        validators=[InputRequired(_l("Kies: toekennen of afwijzen."))],
    )
    amount = MoneyField(_l("Bedrag dat u toekent"))
    conditions = TextAreaField(
        _l("Voorwaarden"),
        filters=[strip],
        description="optional",
        validators=[Length(max=5000, message=_l("Gebruik hoogstens 5000 tekens."))],
    )
    grounds = MultiCheckboxField(
        _l("Gronden (bij afwijzen)"),
        choices=list(REFUSAL_GROUND_LABELS.items()),
        validate_choice=True,
    )
    reasons = TextAreaField(_l("Redenen"), filters=[strip], validators=REASONS)
    view_answer = TextAreaField(_l("Uw antwoord op de reactie van de aanvrager"), filters=[strip])
    advice_answer = TextAreaField(
        _l("Waarom u afwijkt van het advies van het wijkorgaan"), filters=[strip]
    )
    without_advice = TextAreaField(
        _l("Waarom u besluit zonder het advies van het wijkorgaan"), filters=[strip]
    )

    def validate_amount(self, field: MoneyField) -> None:
        if self.outcome.data == "grant" and not field.cents:
            raise ValidationError(_l("Vul het bedrag in dat u toekent."))

    def validate_grounds(self, field: MultiCheckboxField) -> None:
        if self.outcome.data == "refuse" and not field.data:
            raise ValidationError(_l("Kies minstens één grond."))


class ApproveForm(FlaskForm):
    """Only the CSRF token: the second signature is the click."""


class ReturnForm(PrefixedForm):
    prefix_name = "terug"

    reason = TextAreaField(
        _l("Waarom stuurt u het voorstel terug?"),
        filters=[strip],
        validators=[DataRequired(_l("Schrijf op waarom u het voorstel terugstuurt."))],
    )


class ViewForm(FlaskForm):
    view = TextAreaField(
        _l("Uw reactie"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf uw reactie op.")),
            Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
        ],
    )


class ObjectionForm(FlaskForm):
    reasons = TextAreaField(
        _l("Waarom bent u het niet eens met het besluit?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf op waarom u het niet eens bent met het besluit.")),
            Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
        ],
    )
    files = MultipleFileField(_l("Bestanden meesturen"), description="optional")
    kind = SelectField(
        _l("Wat voor bestanden zijn het?"), choices=list(ATTACHMENT_KIND_LABELS.items())
    )


class HearingForm(FlaskForm):
    held_on = DateField(
        _l("Datum van de hoorzitting"),
        format="%Y-%m-%d",
        validators=[InputRequired(_l("Vul een datum in, bijvoorbeeld 2026-12-15."))],
    )
    notes = TextAreaField(
        _l("Verslag"),
        filters=[strip],
        validators=[DataRequired(_l("Schrijf kort op wat er is besproken."))],
    )


class ObjectionDecisionForm(PrefixedForm):
    prefix_name = "bezwaar"

    outcome = RadioField(
        _l("Uitkomst"),
        choices=list(OBJECTION_OUTCOME_LABELS.items()),
        validators=[InputRequired(_l("Kies de uitkomst."))],
    )
    reasons = TextAreaField(_l("Redenen"), filters=[strip], validators=REASONS)


class ReportForm(FlaskForm):
    """The accounting; the actual cost per budget line comes as ``actual-<n>`` fields."""

    what_happened = TextAreaField(
        _l("Wat is er gebeurd?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Vertel kort wat er is gebeurd.")),
            Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
        ],
    )
    participants = IntegerField(
        _l("Hoeveel mensen deden mee?"),
        description="optional",
        validators=[
            Optional(),
            NumberRange(min=0, max=100000, message=_l("Vul een aantal in.")),
        ],
    )
    went_well = TextAreaField(_l("Wat ging goed?"), filters=[strip], description="optional")
    do_differently = TextAreaField(
        _l("Wat zou u een volgende keer anders doen?"), filters=[strip], description="optional"
    )
    would_recommend = RadioField(
        _l("Zou u dit andere buren aanraden?"),
        choices=[("ja", _l("Ja")), ("nee", _l("Nee"))],
        validators=[Optional()],
    )
    files = MultipleFileField(_l("Bonnen, facturen en foto's"))
    kind = SelectField(
        _l("Wat voor bestanden zijn het?"),
        choices=[("receipt", _l("Bon of factuur")), ("photo", _l("Foto"))],
    )


class SettleForm(PrefixedForm):
    prefix_name = "vaststellen"

    amount = MoneyField(_l("Vast te stellen bedrag"))
    reasons = TextAreaField(
        _l("Redenen (nodig bij een lager bedrag)"), filters=[strip], description="optional"
    )
