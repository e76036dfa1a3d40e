"""Every kind of notification: who gets it (for the preferences page), and whether it is a legal
notice that always goes out at once.

Legal notices are the messages the Awb attaches consequences to (an information request and its
deadline, a decision, an intent and its view period, the receipt of an application or an
objection, a settlement) and the account's security messages. Everything else the recipient may
take immediately, in a daily digest, or only in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Delivery(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    INBOX = "inbox"


DELIVERY_LABELS = {
    Delivery.IMMEDIATE: _l("Meteen per e-mail"),
    Delivery.DIGEST: _l("Eén keer per dag, in een overzicht"),
    Delivery.INBOX: _l("Alleen in Mijn berichten"),
}


class Audience(StrEnum):
    APPLICANT = "applicant"
    COUNCIL = "council"
    INITIATIVES = "initiatives"
    CASE_OFFICER = "case_officer"


AUDIENCE_LABELS = {
    Audience.APPLICANT: _l("Over uw eigen aanvragen"),
    Audience.INITIATIVES: _l("Over initiatieven (Kracht van de stad)"),
    Audience.COUNCIL: _l("Voor uw wijkorgaan"),
    Audience.CASE_OFFICER: _l("Voor behandelaars"),
}


@dataclass(frozen=True)
class Kind:
    audience: Audience | None  # None: not a choice (account security, mail to non-users)
    label: object
    mandatory: bool = False


KINDS: dict[str, Kind] = {
    # To the applicant.
    "application_submitted": Kind(Audience.APPLICANT, _l("Ontvangstbevestiging"), True),
    "application_withdrawn": Kind(Audience.APPLICANT, _l("U hebt een aanvraag ingetrokken")),
    "application_info_requested": Kind(Audience.APPLICANT, _l("Vraag om aanvulling"), True),
    "info_request_reminder": Kind(
        Audience.APPLICANT, _l("Herinnering: de termijn voor uw aanvulling loopt af")
    ),
    "application_not_considered": Kind(Audience.APPLICANT, _l("Aanvraag buiten behandeling"), True),
    "application_deadline_extended": Kind(Audience.APPLICANT, _l("Beslistermijn verlengd"), True),
    "intent_sent": Kind(Audience.APPLICANT, _l("Voornemen tot afwijzen"), True),
    "decision_sent": Kind(Audience.APPLICANT, _l("Besluit op uw aanvraag"), True),
    "objection_received": Kind(Audience.APPLICANT, _l("Ontvangst van uw bezwaar"), True),
    "objection_decided": Kind(Audience.APPLICANT, _l("Beslissing op bezwaar"), True),
    "payment_sent": Kind(Audience.APPLICANT, _l("Betaling onderweg")),
    "accounting_reminder": Kind(
        Audience.APPLICANT, _l("Herinnering: verantwoording binnenkort nodig")
    ),
    "accounting_overdue": Kind(Audience.APPLICANT, _l("Herinnering: verantwoording te laat")),
    "settlement_intended": Kind(Audience.APPLICANT, _l("Voornemen tot lager vaststellen"), True),
    "settled": Kind(Audience.APPLICANT, _l("Vaststelling van de subsidie"), True),
    # To council members.
    "advice_requested": Kind(Audience.COUNCIL, _l("Vraag om advies")),
    "advice_reminder": Kind(Audience.COUNCIL, _l("Herinnering: advies binnen 3 dagen nodig")),
    # To case officers.
    "application_info_supplied": Kind(Audience.CASE_OFFICER, _l("Aanvulling ontvangen")),
    "advice_given": Kind(Audience.CASE_OFFICER, _l("Advies van het wijkorgaan ontvangen")),
    "view_given": Kind(Audience.CASE_OFFICER, _l("Zienswijze ontvangen")),
    "grant_returned": Kind(Audience.CASE_OFFICER, _l("Besluit teruggegeven door tweede lezer")),
    "report_submitted": Kind(Audience.CASE_OFFICER, _l("Verantwoording ontvangen")),
    "decision_due_soon": Kind(Audience.CASE_OFFICER, _l("Beslistermijn loopt binnen 7 dagen af")),
    "decision_overdue": Kind(Audience.CASE_OFFICER, _l("Beslistermijn verstreken")),
    # Initiatives: to the initiator, to people who support or offered help, to commenters.
    "initiative_published": Kind(Audience.INITIATIVES, _l("Uw initiatief staat online")),
    "initiative_changes_requested": Kind(
        Audience.INITIATIVES, _l("De gemeente vraagt iets aan te passen aan uw initiatief")
    ),
    "initiative_supported": Kind(Audience.INITIATIVES, _l("Iemand steunt uw initiatief")),
    "initiative_help_offered": Kind(Audience.INITIATIVES, _l("Iemand biedt hulp aan")),
    "initiative_commented": Kind(Audience.INITIATIVES, _l("Een reactie op uw initiatief")),
    "initiative_status_changed": Kind(
        Audience.INITIATIVES, _l("Nieuws van een initiatief dat u steunt")
    ),
    "initiative_message": Kind(Audience.INITIATIVES, _l("Een bericht over een initiatief")),
    "initiative_comment_hidden": Kind(Audience.INITIATIVES, _l("Uw reactie is verborgen")),
    "initiative_comment_restored": Kind(Audience.INITIATIVES, _l("Uw reactie is weer zichtbaar")),
    # Initiatives: to the staff.
    "initiative_submitted": Kind(Audience.CASE_OFFICER, _l("Nieuw initiatief om te bekijken")),
    "initiative_guide_assigned": Kind(
        Audience.CASE_OFFICER, _l("U bent begeleider van een initiatief")
    ),
    "initiative_comment_reported": Kind(Audience.CASE_OFFICER, _l("Een reactie is gemeld")),
    # Not a choice: the account's security, and mail to people without an account.
    "account_verify_email": Kind(None, _l("E-mailadres bevestigen"), True),
    "account_reset_password": Kind(None, _l("Wachtwoord herstellen"), True),
    "account_password_changed": Kind(None, _l("Wachtwoord gewijzigd"), True),
    "account_confirm_new_email": Kind(None, _l("Nieuw e-mailadres bevestigen"), True),
    "endorsement_invite": Kind(None, _l("Uitnodiging om te steunen"), True),
    "endorsement_confirm": Kind(None, _l("Steun bevestigen"), True),
    "digest": Kind(None, _l("Dagelijks overzicht"), True),
}


def is_mandatory(kind: str) -> bool:
    known = KINDS.get(kind)
    return known is None or known.mandatory


def choosable(audiences: set[Audience]) -> list[tuple[Audience, list[tuple[str, Kind]]]]:
    """The kinds a user may choose for, grouped by audience, in the catalogue's order."""
    groups = []
    for audience in Audience:
        if audience not in audiences:
            continue
        kinds = [
            (name, kind)
            for name, kind in KINDS.items()
            if kind.audience == audience and not kind.mandatory
        ]
        groups.append((audience, kinds))
    return groups


def mandatory_for(audiences: set[Audience]) -> list[Kind]:
    return [kind for kind in KINDS.values() if kind.audience in audiences and kind.mandatory]
