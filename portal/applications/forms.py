"""Application forms, one per section. Drafts keep whatever was typed, so fields are lenient
while editing; the rules are checked at submission (see services.eligibility)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.forms import lower_strip, strip
from portal.applications.labels import (
    ALLOWED_CATEGORY_LABELS,
    ATTACHMENT_KIND_LABELS,
    EXCLUDED_CATEGORY_LABELS,
    KADER_LABELS,
)

# Marks a field that may stay empty, also at submission; the label then says so.
OPTIONAL = "optional"
MONEY_PATTERN = re.compile(r"^(?:€\s*)?(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")


def parse_money(raw: str | None) -> int | None:
    """``1.234,56`` / ``1234,5`` / ``12`` / ``€ 12,50`` → cents; ``12.50`` is read as 12,50."""
    value = (raw or "").strip().replace(" ", "")
    if not value:
        return 0
    if re.fullmatch(r"\d+\.\d{1,2}", value):  # a decimal point typed as in English
        value = value.replace(".", ",")
    found = MONEY_PATTERN.match(value)
    if not found:
        return None
    euros = int(found.group(1).replace(".", ""))
    cents = int((found.group(2) or "0").ljust(2, "0"))
    return euros * 100 + cents


def cents_to_input(cents: int | None) -> str:
    if not cents:
        return ""
    euros, rest = divmod(cents, 100)
    return f"{euros},{rest:02d}"


class MoneyField(StringField):
    """Euros as people type them; ``cents`` holds the parsed value (None when unreadable)."""

    cents: int | None = 0

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.cents = parse_money(self.data)

    def process_data(self, value: Any) -> None:
        if isinstance(value, int):
            self.cents = value
            self.data = cents_to_input(value)
        else:
            super().process_data(value)
            self.cents = parse_money(self.data)

    def pre_validate(self, form: Any) -> None:
        if self.cents is None:
            raise ValidationError(_l("Vul een bedrag in euro's in, bijvoorbeeld 125,50."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActivityForm(FlaskForm):
    for_organisation = BooleanField(_l("Ik vraag dit aan namens een organisatie"))
    organisation_name = StringField(
        _l("Naam van de organisatie"), filters=[strip], validators=[Length(max=200)]
    )
    kvk_number = StringField(_l("KvK-nummer"), filters=[strip], validators=[Length(max=8)])
    organisation_postcode = StringField(
        _l("Postcode van de organisatie"), filters=[strip], validators=[Length(max=8)]
    )
    applicant_role = StringField(
        _l("Uw rol in de organisatie"), filters=[strip], validators=[Length(max=120)]
    )
    title = StringField(_l("Naam van uw plan"), filters=[strip], validators=[Length(max=200)])
    description = TextAreaField(
        _l("Wat wilt u doen?"), filters=[strip], validators=[Length(max=5000)]
    )
    kaders = MultiCheckboxField(
        _l("Waar draagt uw plan aan bij?"), choices=list(KADER_LABELS.items()), validate_choice=True
    )
    start_date = DateField(_l("Begindatum"), validators=[Optional()], format="%Y-%m-%d")
    end_date = DateField(_l("Einddatum"), validators=[Optional()], format="%Y-%m-%d")
    location = StringField(_l("Waar is het?"), filters=[strip], validators=[Length(max=300)])
    expected_participants = IntegerField(
        _l("Hoeveel mensen doen mee?"),
        validators=[Optional(), NumberRange(min=0, max=100_000)],
        description=OPTIONAL,
    )
    volunteers = IntegerField(
        _l("Hoeveel vrijwilligers helpen?"),
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        description=OPTIONAL,
    )
    own_contribution = TextAreaField(
        _l("Wat doet u zelf? (tijd, spullen)"),
        filters=[strip],
        validators=[Length(max=2000)],
        description=OPTIONAL,
    )


class LineForm(Form):
    description = StringField(_l("Omschrijving"), filters=[strip], validators=[Length(max=200)])
    category = SelectField(
        _l("Soort kosten"),
        # Grouped choices render as <optgroup>; WTForms wants them as a mapping.
        choices={
            "": [("", _l("Kies een soort"))],
            _l("Kosten die kunnen"): list(ALLOWED_CATEGORY_LABELS.items()),
            _l("Kosten die niet kunnen"): list(EXCLUDED_CATEGORY_LABELS.items()),
        },
        validate_choice=True,
    )
    quantity = IntegerField(_l("Aantal"), validators=[Optional(), NumberRange(min=0, max=100_000)])
    unit_price = MoneyField(_l("Prijs per stuk (€)"))


class BudgetForm(FlaskForm):
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=50)
    other_funding = MoneyField(_l("Geld van anderen (€)"), description=OPTIONAL)
    other_funding_description = TextAreaField(
        _l("Van wie krijgt u nog meer geld?"),
        filters=[strip],
        validators=[Length(max=2000)],
        description=OPTIONAL,
    )


class PaymentForm(FlaskForm):
    iban = StringField(_l("Rekeningnummer (IBAN)"), filters=[strip], validators=[Length(max=42)])
    account_holder = StringField(_l("Op naam van"), filters=[strip], validators=[Length(max=120)])


class AttachmentForm(FlaskForm):
    file = FileField(_l("Bestand"))
    kind = SelectField(_l("Wat voor bestand is het?"), choices=list(ATTACHMENT_KIND_LABELS.items()))


class SubmitForm(FlaskForm):
    declaration = BooleanField(_l("Ik verklaar dat ik alles naar waarheid heb ingevuld"))


class InviteForm(FlaskForm):
    emails = TextAreaField(
        _l("E-mailadressen van buren"),
        validators=[Length(max=3000)],
    )

    def addresses(self) -> list[str]:
        parts = re.split(r"[\s,;]+", self.emails.data or "")
        return [p.strip().lower() for p in parts if p.strip()]


class EndorseForm(FlaskForm):
    name = StringField(_l("Uw naam"), filters=[strip], validators=[Length(max=120)])
    postcode = StringField(_l("Postcode"), filters=[strip], validators=[Length(max=8)])
    house_number = StringField(_l("Huisnummer"), filters=[strip], validators=[Length(max=10)])
    email = StringField(_l("E-mailadres"), filters=[lower_strip], validators=[Length(max=254)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom trekt u de aanvraag in?"), filters=[strip], validators=[Length(max=2000)]
    )


class NewApplicationForm(FlaskForm):
    creation_key = HiddenField()
