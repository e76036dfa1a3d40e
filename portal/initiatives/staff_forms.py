"""Forms of the staff side of initiatives: the check before publication, status changes (also
used by the initiator) and moderation of comments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.accounts.forms import strip

CHANGES_MAX = 5000
NOTE_MAX = 1000
REASON_MAX = 2000


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no "//" or backslash tricks."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return None
    return target


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the click is the decision (publish, dismiss reports, unblock)."""


class RequestChangesForm(FlaskForm):
    message = TextAreaField(
        _l("Wat moet de initiatiefnemer aanpassen?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Schrijf op wat de initiatiefnemer moet aanpassen.")),
            Length(max=CHANGES_MAX, message=_l("Gebruik hoogstens 5000 tekens.")),
        ],
    )


def _to_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class AssignGuideForm(FlaskForm):
    guide = SelectField(
        _l("Begeleider"),
        coerce=_to_id,
        validate_choice=False,
        validators=[InputRequired(_l("Kies een begeleider uit de lijst."))],
    )

    def set_choices(self, candidates: list[Any]) -> None:
        self.guide.choices = [(0, _l("Kies een begeleider"))] + [
            (user.id, user.name) for user in candidates
        ]

    def validate_guide(self, field: Any) -> None:
        known = {value for value, _label in field.choices if value}
        if field.data not in known:
            raise ValidationError(_l("Kies een begeleider uit de lijst."))


class StatusForm(FlaskForm):
    """The initiator's and the staff's status change after publication."""

    action = RadioField(
        _l("Wat is de nieuwe status?"),
        choices=[
            ("start_conversation", _l("In gesprek")),
            ("start_running", _l("Loopt")),
            ("realise", _l("Gerealiseerd")),
            ("stop", _l("Gestopt")),
        ],
        validate_choice=False,
        validators=[InputRequired(_l("Kies de nieuwe status."))],
        # The ids the status partial uses (it is included on pages with other forms).
        id="status-action",
    )
    note = TextAreaField(
        _l("Bericht op de tijdlijn"),
        filters=[strip],
        description="optional",
        id="status-note",
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("Gebruik hoogstens 1000 tekens.")),
        ],
    )
    confirm_stop = BooleanField(_l("Ja, ik wil dit initiatief stoppen"), id="status-confirm")
    next = HiddenField()

    def validate_action(self, field: Any) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Kies de nieuwe status."))

    def validate_confirm_stop(self, field: Any) -> None:
        if self.action.data == "stop" and not field.data:
            raise ValidationError(
                _l("Vink aan dat u het initiatief wilt stoppen. Dit kunt u niet terugdraaien.")
            )


def reason_validators() -> list[Any]:
    return [
        DataRequired(_l("Schrijf de reden op.")),
        Length(max=REASON_MAX, message=_l("Gebruik hoogstens 2000 tekens.")),
    ]


class HideCommentForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom verbergt u deze reactie?"), filters=[strip], validators=reason_validators()
    )


class RestoreCommentForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom zet u deze reactie terug?"), filters=[strip], validators=reason_validators()
    )


class BlockUserForm(FlaskForm):
    reason = TextAreaField(
        _l("Waarom mag deze persoon niet meer reageren?"),
        filters=[strip],
        validators=reason_validators(),
    )
