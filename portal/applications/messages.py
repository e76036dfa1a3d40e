"""The words for eligibility problems and refusals (services only return codes)."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _

from portal.applications.labels import EXCLUDED_REASONS
from portal.applications.services import Problem
from portal.web import format_money


def problem_message(problem: Problem) -> str:
    p = problem.params
    code = problem.code
    if code == "no_ruleset":
        return _("Er is nu geen regeling van kracht. Neem contact op met de gemeente.")
    if code == "organisation_name_missing":
        return _("Vul de naam van de organisatie in.")
    if code == "kvk_invalid":
        return _("Vul een KvK-nummer van 8 cijfers in.")
    if code == "organisation_outside_district":
        return _(
            "De organisatie moet in dezelfde wijk gevestigd zijn. "
            "Vul de postcode van de organisatie in."
        )
    if code == "applicant_role_missing":
        return _("Vul in wat uw rol is in de organisatie.")
    if code == "title_missing":
        return _("Geef uw plan een naam.")
    if code == "description_missing":
        return _("Vertel wat u wilt doen.")
    if code == "kader_missing":
        return _("Kies minstens één doel waar uw plan aan bijdraagt.")
    if code == "start_missing":
        return _("Vul in wanneer de activiteit begint.")
    if code == "lead_time":
        return _(
            "Vraag minstens %(weeks)s weken van tevoren aan. De activiteit kan op zijn vroegst "
            "beginnen op %(date)s.",
            weeks=p["weeks"],
            date=format_date(p["earliest"], "d MMMM y"),
        )
    if code == "end_missing":
        return _("Vul in wanneer de activiteit eindigt.")
    if code == "end_before_start":
        return _("De einddatum ligt voor de begindatum.")
    if code == "location_missing":
        return _("Vul in waar de activiteit is.")
    if code == "district_mismatch":
        return _("U kunt alleen geld aanvragen voor de wijk waar u woont.")
    if code == "lines_missing":
        return _("Zet minstens één kostenpost in de begroting.")
    if code == "line_incomplete":
        return _(
            "Regel %(line)s: vul een omschrijving, een aantal en een prijs in.", line=p["line"]
        )
    if code == "category_missing":
        return _("Regel %(line)s: kies een soort kosten.", line=p["line"])
    if code == "excluded_category":
        return _(
            "Regel %(line)s: %(reason)s", line=p["line"], reason=EXCLUDED_REASONS[p["category"]]
        )
    if code == "amount_too_low":
        return _(
            "U vraagt te weinig aan. Het minimum is %(amount)s.", amount=format_money(p["minimum"])
        )
    if code == "amount_too_high":
        return _(
            "U vraagt te veel aan. Het maximum is %(amount)s.", amount=format_money(p["maximum"])
        )
    if code == "iban_missing":
        return _("Vul het rekeningnummer (IBAN) in.")
    if code == "iban_invalid":
        return _("Dit rekeningnummer klopt niet. Een IBAN ziet eruit als NL91 ABNA 0417 1643 00.")
    if code == "holder_missing":
        return _("Vul in op wiens naam de rekening staat.")
    if code == "draagvlak":
        return _(
            "U heeft %(have)s van de %(need)s steunbetuigingen uit uw wijk. Vraag uw buren om "
            "uw plan te steunen.",
            have=p["have"],
            need=p["need"],
        )
    if code == "declaration":
        return _("Verklaar dat u alles naar waarheid heeft ingevuld.")
    return code


def endorsement_refusal(code: str) -> str:
    if code == "closed":
        return _("Deze aanvraag is al ingediend. Steunen kan niet meer.")
    if code == "own_application":
        return _("Dit is uw eigen aanvraag. Uw steun telt hier niet.")
    if code == "own_household":
        return _("U woont op hetzelfde adres als de aanvrager. Uw steun telt hier niet.")
    if code == "other_district":
        return _("U woont niet in deze wijk. Alleen buren uit dezelfde wijk kunnen steunen.")
    if code == "too_many":
        return _(
            "Er zijn net veel steunbetuigingen binnengekomen. Probeer het over een uur opnieuw."
        )
    if code == "household_done":
        return _("Van dit adres heeft al iemand gesteund. Per huishouden telt één steunbetuiging.")
    return code
