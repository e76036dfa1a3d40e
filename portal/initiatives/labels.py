"""Names people see for the codes of initiatives: states, kinds of help, themes, and what is
still missing before an initiative can be submitted."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.applications.labels import KADER_LABELS

# The themes of an initiative are the seven kaders of the action plan.
THEME_LABELS = KADER_LABELS

STATE_LABELS = {
    "draft": _l("Concept"),
    "submitted": _l("Ingediend, wordt bekeken"),
    "changes_requested": _l("Aanpassing gevraagd"),
    "published": _l("Gepubliceerd"),
    "in_conversation": _l("In gesprek"),
    "running": _l("Loopt"),
    "realised": _l("Gerealiseerd"),
    "stopped": _l("Gestopt"),
}

HELP_LABELS = {
    "volunteers": _l("Vrijwilligers"),
    "space": _l("Een ruimte"),
    "materials": _l("Materialen of spullen"),
    "expertise": _l("Kennis of advies"),
    "money": _l("Geld"),
}

# What the initiator reads about each state on their own pages.
STATE_EXPLANATIONS = {
    "draft": _l("Alleen u ziet dit concept. Maak het af en dien het in."),
    "submitted": _l(
        "De gemeente bekijkt uw initiatief. Daarna komt het online, of vragen wij u iets aan te "
        "passen."
    ),
    "changes_requested": _l(
        "De gemeente vraagt u iets aan te passen. Pas het aan en dien het opnieuw in."
    ),
    "published": _l("Uw initiatief staat online. Iedereen kan het zien, steunen en hulp bieden."),
    "in_conversation": _l("Uw initiatief staat online. U bent in gesprek met de gemeente."),
    "running": _l("Uw initiatief staat online en is begonnen."),
    "realised": _l("Uw initiatief is gelukt. Het blijft online staan."),
    "stopped": _l("Uw initiatief is gestopt. Het blijft online staan."),
}

# What must be filled in before submitting: code -> (field id on the edit form, message).
MISSING_LABELS = {
    "title": ("title", _l("Geef uw initiatief een naam.")),
    "pitch": ("pitch", _l("Schrijf in één zin waar uw initiatief over gaat.")),
    "description": ("description", _l("Vertel meer over uw initiatief.")),
    "themes": ("themes", _l("Kies minstens één thema.")),
    "place": ("districts", _l("Kies een of meer wijken, of kies 'In heel Enschede'.")),
}

# Public milestones of a wijkbudget application made from the initiative (the timeline).
MILESTONE_LABELS = {
    "application_submitted": _l("Er is wijkbudget aangevraagd"),
    "granted": _l("Het wijkbudget is toegekend"),
}
