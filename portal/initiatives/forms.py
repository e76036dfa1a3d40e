"""The initiator's forms: the initiative itself, its photos, news for the timeline and answers
to offers of help and messages. Drafts keep whatever was typed, so the fields are lenient while
editing; what must be filled in is checked at submission (``drafting.missing_for_submission``).

Every text passes ``clean_text`` or ``clean_line``: control characters and the Unicode
direction overrides (which can make text read backwards, U+202E) are removed before anything is
stored. Everything is shown autoescaped, so markup stays plain text."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.applications.forms import OPTIONAL
from portal.initiatives.labels import HELP_LABELS, THEME_LABELS

TITLE_MAX = 120
PITCH_MAX = 200
DESCRIPTION_MAX = 5000
CONTACT_MAX = 1000
ALT_MAX = 200
UPDATE_MAX = 2000
REPLY_MAX = 2000
UPDATE_PHOTOS = 3

# Direction marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A-U+202E,
# U+2066-U+2069): harmless in a name, but they let text pretend to be something else.
_DIRECTION_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# C0 and C1 control characters, except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: Any) -> Any:
    """Text of several lines: line ends made plain, control and direction characters removed,
    surrounding space stripped."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _DIRECTION_CONTROLS.sub("", _CONTROL.sub("", value))
    return value.strip()


def clean_line(value: Any) -> Any:
    """One line: like ``clean_text``, and every run of white space (line ends too) becomes one
    space."""
    value = clean_text(value)
    if not isinstance(value, str):
        return value
    return " ".join(value.split())


def max_length(maximum: int) -> Length:
    return Length(
        max=maximum,
        message=_l("Dit mag hoogstens %(max)s tekens zijn. Maak het korter.", max=maximum),
    )


class Checkboxes(SelectMultipleField):
    """Several choices as checkboxes; a value that is not on the list gets a Dutch message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        known = {str(value) for value, _label in self.choices or []}
        if any(str(value) not in known for value in self.data or []):
            raise ValidationError(_l("Kies alleen uit de lijst."))


class NewInitiativeForm(FlaskForm):
    creation_key = HiddenField()


class InitiativeForm(FlaskForm):
    title = StringField(
        _l("Naam van uw initiatief"), filters=[clean_line], validators=[max_length(TITLE_MAX)]
    )
    pitch = StringField(
        _l("Uw initiatief in één zin"), filters=[clean_line], validators=[max_length(PITCH_MAX)]
    )
    description = TextAreaField(
        _l("Vertel meer over uw initiatief"),
        filters=[clean_text],
        validators=[max_length(DESCRIPTION_MAX)],
    )
    citywide = BooleanField(_l("In heel Enschede"))
    districts = Checkboxes(_l("Wijken"))
    themes = Checkboxes(_l("Thema's"), choices=list(THEME_LABELS.items()))
    help_wanted = Checkboxes(
        _l("Welke hulp zoekt u?"), choices=list(HELP_LABELS.items()), description=OPTIONAL
    )
    contact_note = TextAreaField(
        _l("Hoe kunnen mensen met u in contact komen?"),
        filters=[clean_text],
        validators=[max_length(CONTACT_MAX)],
        description=OPTIONAL,
    )


class PhotoForm(FlaskForm):
    photo = FileField(_l("Foto"))
    description = StringField(
        _l("Wat staat er op de foto?"), filters=[clean_line], validators=[max_length(ALT_MAX)]
    )

    def validate_description(self, field: StringField) -> None:
        if not field.data:
            raise ValidationError(_l("Beschrijf in een paar woorden wat er op de foto staat."))


class UpdateForm(FlaskForm):
    body = TextAreaField(
        _l("Uw nieuws"),
        filters=[clean_text],
        validators=[DataRequired(message=_l("Schrijf uw nieuws.")), max_length(UPDATE_MAX)],
    )
    photo_1 = FileField(_l("Foto 1"), description=OPTIONAL)
    description_1 = StringField(
        _l("Wat staat er op foto 1?"), filters=[clean_line], validators=[max_length(ALT_MAX)]
    )
    photo_2 = FileField(_l("Foto 2"), description=OPTIONAL)
    description_2 = StringField(
        _l("Wat staat er op foto 2?"), filters=[clean_line], validators=[max_length(ALT_MAX)]
    )
    photo_3 = FileField(_l("Foto 3"), description=OPTIONAL)
    description_3 = StringField(
        _l("Wat staat er op foto 3?"), filters=[clean_line], validators=[max_length(ALT_MAX)]
    )

    def chosen_photos(self) -> list[tuple[Any, Any, StringField]]:
        """(file field, file, description field) for each photo slot that has a file."""
        chosen = []
        for number in range(1, UPDATE_PHOTOS + 1):
            field = self[f"photo_{number}"]
            file = field.data
            if file and getattr(file, "filename", ""):
                chosen.append((field, file, self[f"description_{number}"]))
        return chosen

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for _field, _file, description in self.chosen_photos():
            if not description.data and not description.errors:
                description.errors = [
                    *description.errors,
                    _l("Beschrijf in een paar woorden wat er op de foto staat."),
                ]
                valid = False
        return valid


class ReplyForm(FlaskForm):
    # "offer-<id>" or "message-<id>": the offer of help or the message this answers.
    answers = HiddenField()
    body = TextAreaField(
        _l("Uw antwoord"),
        filters=[clean_text],
        validators=[DataRequired(message=_l("Schrijf uw antwoord.")), max_length(REPLY_MAX)],
    )

    def target(self) -> tuple[str, int] | None:
        found = re.fullmatch(r"(offer|message)-(\d{1,12})", self.answers.data or "")
        return (found.group(1), int(found.group(2))) if found else None
