"""Names people see for codes stored in the database (kaders, cost categories, states)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KADER_LABELS = {
    "arbeidsparticipatie": _l("Meer mensen aan het werk"),
    "schone_hele_leefomgeving": _l("Een schone en hele buurt"),
    "veiligheidsgevoel": _l("Je veilig voelen in de buurt"),
    "wijkdiensten_hulpbehoevenden": _l("Hulp voor buren die dat nodig hebben"),
    "duurzaam_gedrag": _l("Duurzaam leven"),
    "leefbaarheid": _l("Prettig wonen in de wijk"),
    "sociale_samenhang": _l("Buren die elkaar kennen en helpen"),
}

# Categories a resident can choose. The excluded ones are in the list on purpose, so that a
# line can be refused with the reason instead of being forced into a wrong category.
ALLOWED_CATEGORY_LABELS = {
    "materialen": _l("Materialen en gereedschap"),
    "huur_ruimte": _l("Huur van een ruimte"),
    "huur_spullen": _l("Huur van spullen (tent, geluid, springkussen)"),
    "eten_drinken": _l("Eten en drinken (zonder alcohol)"),
    "drukwerk": _l("Drukwerk en bekendmaking"),
    "begeleiding": _l("Professionele begeleiding of workshop"),
    "verzekering": _l("Verzekering en vergunningen"),
    "overig": _l("Overige kosten"),
}
EXCLUDED_CATEGORY_LABELS = {
    "winstoogmerk": _l("Activiteit met winstoogmerk"),
    "politiek_religieus": _l("Politieke of religieuze activiteit"),
    "prive_belang": _l("Privébelang van één persoon of bedrijf"),
    "vergoeding_vrijwilligers": _l("Salaris of vergoeding voor vrijwilligers"),
    "alcohol": _l("Alcohol"),
    "structurele_kosten": _l("Vaste kosten die elk jaar terugkomen"),
    "reguliere_taken": _l("Taken van de gemeente of de woningcorporatie"),
}
EXCLUDED_REASONS = {
    "winstoogmerk": _l("Het wijkbudget betaalt geen activiteiten waar iemand winst op maakt."),
    "politiek_religieus": _l("Het wijkbudget betaalt geen politieke of religieuze activiteiten."),
    "prive_belang": _l("Het wijkbudget is voor de hele buurt, niet voor één persoon of bedrijf."),
    "vergoeding_vrijwilligers": _l(
        "Het wijkbudget betaalt geen salaris of vergoeding aan vrijwilligers."
    ),
    "alcohol": _l("Het wijkbudget betaalt geen alcohol."),
    "structurele_kosten": _l("Het wijkbudget betaalt geen vaste kosten die elk jaar terugkomen."),
    "reguliere_taken": _l(
        "Dit is een taak van de gemeente of de woningcorporatie. Die betalen het zelf."
    ),
}
CATEGORY_LABELS = {**ALLOWED_CATEGORY_LABELS, **EXCLUDED_CATEGORY_LABELS}

STATE_LABELS = {
    "draft": _l("Concept"),
    "submitted": _l("Ingediend"),
    "info_requested": _l("Aanvulling gevraagd"),
    "in_review": _l("In behandeling"),
    "awaiting_advice": _l("Advies wijkorgaan gevraagd"),
    "advised": _l("Advies ontvangen"),
    "intent_sent": _l("Voornemen verstuurd"),
    "awaiting_approval": _l("Wacht op tweede behandelaar"),
    "not_considered": _l("Niet in behandeling genomen"),
    "granted": _l("Toegekend"),
    "accounted": _l("Verantwoording ontvangen"),
    "refused": _l("Afgewezen"),
    "withdrawn": _l("Ingetrokken"),
    "settled": _l("Vastgesteld"),
    "closed": _l("Afgesloten"),
}

NEXT_STEP_LABELS = {
    "draft": _l("Maak uw aanvraag af en dien hem in."),
    "submitted": _l("De gemeente kijkt of uw aanvraag compleet is."),
    "info_requested": _l("Stuur de gevraagde informatie."),
    "in_review": _l("De gemeente beoordeelt uw aanvraag."),
    "awaiting_advice": _l("Het wijkorgaan geeft advies."),
    "advised": _l("De gemeente neemt een besluit."),
    "intent_sent": _l("U kunt reageren op het voornemen van de gemeente."),
    "awaiting_approval": _l("De gemeente neemt een besluit."),
    "granted": _l("Na de activiteit stuurt u uw verantwoording."),
    "accounted": _l("De gemeente stelt het definitieve bedrag vast."),
    "settled": _l("Het bedrag is vastgesteld. Zie hieronder wat er nog betaald wordt."),
    "refused": _l("Lees het besluit. Bent u het er niet mee eens? Dan kunt u bezwaar maken."),
    "withdrawn": _l("U heeft de aanvraag ingetrokken."),
    "not_considered": _l("De gemeente heeft de aanvraag niet in behandeling genomen."),
}

ATTACHMENT_KIND_LABELS = {
    "quote": _l("Offerte of prijsopgave"),
    "receipt": _l("Bon of factuur"),
    "plan": _l("Plan of tekening"),
    "photo": _l("Foto"),
    "other": _l("Iets anders"),
}

TIMELINE_LABELS = {
    "application.created": _l("Concept gemaakt"),
    "application.submitted": _l("Aanvraag ingediend"),
    "application.withdrawn": _l("Aanvraag ingetrokken"),
    "application.accepted": _l("Aanvraag compleet, in behandeling genomen"),
    "application.info_requested": _l("De gemeente vroeg om aanvulling"),
    "application.info_supplied": _l("Aanvulling gestuurd"),
    "application.not_considered": _l("Aanvraag niet in behandeling genomen"),
    "application.deadline_extended": _l("Beslistermijn verlengd"),
    "application.advice_requested": _l("Advies gevraagd aan het wijkorgaan"),
    "application.advised": _l("Advies van het wijkorgaan ontvangen"),
    "application.intent_sent": _l("Voornemen van de gemeente verstuurd"),
    "application.view_given": _l("Uw reactie op het voornemen ontvangen"),
    "application.granted": _l("Besluit: toegekend"),
    "application.refused": _l("Besluit: afgewezen"),
    "application.accounted": _l("Verantwoording ontvangen"),
    "application.settlement_intended": _l("Voornemen: lager vaststellen"),
    "application.settlement_view_given": _l("Uw reactie op het lager vaststellen ontvangen"),
    "application.settled": _l("Bedrag vastgesteld"),
    "application.closed": _l("Dossier gesloten"),
    "application.objection_lodged": _l("Bezwaar ontvangen"),
    "application.objection_heard": _l("Hoorzitting over het bezwaar"),
    "application.objection_rejected": _l("Besluit op bezwaar"),
    "application.objection_upheld": _l("Bezwaar gegrond: de gemeente besluit opnieuw"),
}

# The staff audit trail names every step, also those the applicant does not see.
AUDIT_LABELS = {
    **TIMELINE_LABELS,
    "application.discarded": _l("Concept weggegooid"),
    "endorsement.added": _l("Steun toegevoegd"),
    "endorsement.confirmed": _l("Steun bevestigd"),
    "endorsement.removed": _l("Steun weggehaald"),
    "endorsement.invited": _l("Buren uitgenodigd"),
    "application.grant_proposed": _l("Toekenning voorgesteld, wacht op tweede behandelaar"),
    "application.grant_returned": _l("Voorstel teruggestuurd door tweede behandelaar"),
}

# Grounds for refusing (or granting less): Awb 4:35, the budget ceiling (Awb 4:25), the rules of
# the verordening, and each excluded category of the ruleset.
REFUSAL_GROUND_LABELS = {
    "awb_4_35_1a": _l("De activiteit gaat niet of niet helemaal door (Awb 4:35 lid 1a)."),
    "awb_4_35_1b": _l(
        "De aanvrager zal zich niet houden aan de verplichtingen bij de subsidie (Awb 4:35 lid 1b)."
    ),
    "awb_4_35_1c": _l(
        "De aanvrager zal geen juiste of volledige verantwoording afleggen (Awb 4:35 lid 1c)."
    ),
    "awb_4_35_2a": _l("De aanvrager gaf onjuiste of onvolledige gegevens (Awb 4:35 lid 2a)."),
    "awb_4_35_2b": _l(
        "De aanvrager is failliet of heeft uitstel van betaling gekregen (Awb 4:35 lid 2b)."
    ),
    "awb_4_25": _l("Het wijkbudget van dit jaar is op (subsidieplafond, Awb 4:25)."),
    "rules": _l("De aanvraag voldoet niet aan de regels van de verordening wijkbudgetten."),
    **{f"excluded_{key}": reason for key, reason in EXCLUDED_REASONS.items()},
}

ADVICE_LABELS = {
    "positive": _l("Positief"),
    "negative": _l("Negatief"),
    "conditional": _l("Positief onder voorwaarden"),
}

OBJECTION_OUTCOME_LABELS = {
    "well_founded": _l("Gegrond"),
    "unfounded": _l("Ongegrond"),
    "inadmissible": _l("Niet-ontvankelijk"),
}
