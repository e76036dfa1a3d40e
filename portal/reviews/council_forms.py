"""Forms of the wijkorgaan: an internal comment, a declared conflict of interest, the advice."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, ValidationError

from portal.accounts.forms import strip
from portal.applications.forms import OPTIONAL, MoneyField
from portal.applications.labels import ADVICE_LABELS
from portal.web import format_money


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Uw reactie"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf uw reactie.")),
            Length(max=5000, message=_l("Gebruik hoogstens 5000 tekens.")),
        ],
    )


class ConflictForm(FlaskForm):
    reason = TextAreaField(
        _l("Wat is uw belang?"),
        filters=[strip],
        validators=[Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens."))],
        description=OPTIONAL,
    )


class AdviceForm(FlaskForm):
    """The chair's or secretary's advice. ``requested_cents`` caps the proposed amount: the
    municipality grants the amount asked or less."""

    outcome = RadioField(
        _l("Wat is het advies van het wijkorgaan?"),
        choices=list(ADVICE_LABELS.items()),
        # One clear message for an empty choice, instead of WTForms' "Not a valid choice".
        validate_choice=False,
        validators=[
            InputRequired(_l("Kies een advies.")),
            AnyOf(list(ADVICE_LABELS), message=_l("Kies een advies.")),
        ],
    )
    reasons = TextAreaField(
        _l("Waarom geeft het wijkorgaan dit advies?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf op waarom het wijkorgaan dit advies geeft.")),
            Length(max=10000, message=_l("Gebruik hoogstens 10.000 tekens.")),
        ],
    )
    conditions = TextAreaField(
        _l("Voorwaarden"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Gebruik hoogstens 5000 tekens."))],
    )
    proposed = MoneyField(_l("Voorgesteld bedrag (€)"), description=OPTIONAL)

    def __init__(self, *args: Any, requested_cents: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requested_cents = requested_cents

    def validate_conditions(self, field: TextAreaField) -> None:
        if self.outcome.data == "conditional" and not field.data:
            raise ValidationError(_l("Schrijf op onder welke voorwaarden het advies positief is."))

    def validate_proposed(self, field: MoneyField) -> None:
        cents = self.proposed_cents
        if cents is not None and self.requested_cents is not None and cents > self.requested_cents:
            raise ValidationError(
                _l(
                    "Het voorgestelde bedrag kan niet hoger zijn dan het gevraagde bedrag "
                    "(%(amount)s).",
                    amount=format_money(self.requested_cents),
                )
            )

    @property
    def proposed_cents(self) -> int | None:
        """None when nothing was typed (0 typed is a proposal of nothing)."""
        if not (self.proposed.data or "").strip():
            return None
        return self.proposed.cents
