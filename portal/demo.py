"""Demo data: the boroughs, districts, councils and budgets of Enschede, the first ruleset, and
one account per role. Idempotent; refused in production.

Budgets are the real 2020 wijkbudget figures (2023 for Mekkelholt en Deppenbroek) from the
project's notes, used for the current year. Postcode ranges are an approximation by 4-digit
postcode area so that every Enschede postcode (7500-7549) finds a district.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from portal.accounts.models import CaseOfficerBorough, Role, User, UserRole
from portal.accounts.passwords import hash_password
from portal.districts.models import (
    Borough,
    Council,
    CouncilMembership,
    District,
    DistrictBudget,
    PostcodeRange,
)
from portal.extensions import db
from portal.rulesets.models import Ruleset
from portal.timeutil import utcnow

BOROUGHS = ["Centrum", "Noord", "Oost", "Zuid", "West"]

# name, borough, yearly budget in euros (None: not known), 4-digit postcode areas
DISTRICTS: list[tuple[str, str, int | None, list[tuple[int, int]]]] = [
    ("Binnenstad", "Centrum", 21_800, [(7500, 7511)]),
    ("Lasonder-Zeggelt-Boddenkamp", "Centrum", 15_000, [(7512, 7512)]),
    ("Laares", "Centrum", 11_400, [(7513, 7513)]),
    ("De Bothoven", "Centrum", 56_100, [(7514, 7514)]),
    ("Horstlanden-Veldkamp", "Centrum", 29_000, [(7515, 7520)]),
    ("Mekkelholt en Deppenbroek", "Noord", 46_000, [(7521, 7522)]),
    ("Hogeland-Noord/Getfert", "Noord", 39_800, [(7523, 7523), (7526, 7530)]),
    ("Lonneker", "Noord", None, [(7524, 7525)]),
    ("Velve-Lindenhof", "Oost", 28_800, [(7531, 7531)]),
    ("Ribbelt-Stokhorst-Schreurserve", "Oost", 45_400, [(7532, 7532)]),
    ("Glanerbrug", "Oost", 60_800, [(7533, 7533)]),
    ("Dolphia", "Oost", 8_900, [(7534, 7534)]),
    ("Eschmarke", "Oost", 13_500, [(7535, 7535)]),
    ("Esmarke", "Oost", 4_900, [(7536, 7536)]),
    ("Zuid-Oost", "Zuid", 30_900, [(7537, 7540), (7544, 7544)]),
    ("Wesselerbrink", "Zuid", None, [(7541, 7541)]),
    ("Helmerhoek", "Zuid", 38_550, [(7542, 7542)]),
    ("Stroinkslanden", "Zuid", None, [(7543, 7543)]),
    ("Stadsveld", "West", None, [(7545, 7545)]),
    ("Twekkelerveld", "West", None, [(7546, 7546)]),
    ("Boekelo", "West", None, [(7547, 7547)]),
    ("Usselo", "West", None, [(7548, 7548)]),
    ("Pathmos", "West", None, [(7549, 7549)]),
]

# name, kind, districts covered
COUNCILS = [
    ("Dorpsraad Glanerbrug", "dorpsraad", ["Glanerbrug", "Dolphia"]),
    ("Dorpsraad Lonneker", "dorpsraad", ["Lonneker"]),
    ("Dorpsraad Boekelo", "dorpsraad", ["Boekelo"]),
    ("Buurtkring Usselo", "buurtkring", ["Usselo"]),
    ("Wijkraad Wesselerbrink", "wijkraad", ["Wesselerbrink"]),
    ("Wijkplatform Helmerhoek", "wijkplatform", ["Helmerhoek"]),
    ("Wijkraad Stadsveld", "wijkraad", ["Stadsveld"]),
]

# e-mail (before @), name, roles, postcode, house number, council membership, case boroughs
ACCOUNTS: list[dict[str, object]] = [
    {
        "local": "bewoner",
        "name": "Anna de Vries",
        "roles": ["resident"],
        "postcode": "7533AB",
        "number": "12",
    },
    {
        "local": "bewoner2",
        "name": "Bram Jansen",
        "roles": ["resident"],
        "postcode": "7511JK",
        "number": "5",
    },
    *[
        {
            "local": f"buur{n}",
            "name": name,
            "roles": ["resident"],
            "postcode": "7533AC",
            "number": str(n * 2),
        }
        for n, name in enumerate(
            ["Cor Hendriks", "Daan Peters", "Els Willems", "Fatima El Amrani", "Gijs Meijer"],
            start=1,
        )
    ],
    {
        "local": "wijkraad",
        "name": "Carla Smit",
        "roles": ["resident"],
        "postcode": "7533CD",
        "number": "3",
        "council": ("Dorpsraad Glanerbrug", "chair"),
    },
    {
        "local": "wijkraad-lid",
        "name": "Hidde Kuipers",
        "roles": ["resident"],
        "postcode": "7534AA",
        "number": "8",
        "council": ("Dorpsraad Glanerbrug", "member"),
    },
    {
        "local": "wijkraad-stadsveld",
        "name": "Dirk Bakker",
        "roles": ["resident"],
        "postcode": "7545AB",
        "number": "21",
        "council": ("Wijkraad Stadsveld", "secretary"),
    },
    {
        "local": "behandelaar",
        "name": "Eva Mulder",
        "roles": ["case_officer"],
        "boroughs": ["Oost", "Centrum"],
    },
    {
        "local": "behandelaar2",
        "name": "Frank de Boer",
        "roles": ["case_officer"],
        "boroughs": ["Oost", "Noord"],
    },
    {"local": "financien", "name": "Gert Visser", "roles": ["finance"]},
    {"local": "beheerder", "name": "Hanna Kok", "roles": ["admin"]},
]

DEMO_DOMAIN = "demo.wijkkracht.nl"


def _get_or_create(
    model: type, defaults: dict[str, object] | None = None, **keys: object
) -> object:
    instance = db.session.scalar(select(model).filter_by(**keys))
    if instance is None:
        instance = model(**keys, **(defaults or {}))
        db.session.add(instance)
        db.session.flush()
    return instance


def _slug(name: str) -> str:
    return name.lower().replace("/", "-").replace(" ", "-").replace("--", "-")


def seed_demo(year: int | None = None) -> dict[str, int]:
    if current_app.config["PORTAL_ENV"] == "production":
        raise RuntimeError("Demo data never loads in production.")
    year = year or date.today().year
    boroughs = {
        name: _get_or_create(Borough, name=name, defaults={"slug": _slug(name)})
        for name in BOROUGHS
    }
    districts: dict[str, District] = {}
    for name, borough, euros, areas in DISTRICTS:
        district = _get_or_create(
            District, name=name, defaults={"slug": _slug(name), "borough": boroughs[borough]}
        )
        assert isinstance(district, District)
        districts[name] = district
        if not district.postcode_ranges:
            for low, high in areas:
                district.postcode_ranges.append(PostcodeRange(start=f"{low}AA", end=f"{high}ZZ"))
        if euros is not None:
            budget = _get_or_create(
                DistrictBudget, district_id=district.id, year=year, defaults={"allocated_cents": 0}
            )
            assert isinstance(budget, DistrictBudget)
            if budget.allocated_cents == 0:
                from portal.money import ledger

                db.session.flush()
                ledger.allocate(budget, euros * 100, None, f"Wijkbudget {year} (demogegevens)")
    councils: dict[str, Council] = {}
    for name, kind, covered in COUNCILS:
        council = _get_or_create(Council, name=name, defaults={"kind": kind})
        assert isinstance(council, Council)
        for district_name in covered:
            if districts[district_name] not in council.districts:
                council.districts.append(districts[district_name])
        councils[name] = council
    if db.session.scalar(select(Ruleset).where(Ruleset.version == 1)) is None:
        db.session.add(
            Ruleset(
                version=1,
                name="Verordening wijkbudgetten Enschede (modelregels)",
                effective_from=date(2024, 1, 1),
                notes="Eerste regeling; standaardwaarden uit de domeinbeschrijving.",
            )
        )
    password_hash = hash_password(current_app.config["PORTAL_DEMO_PASSWORD"])
    created = 0
    for account in ACCOUNTS:
        created += _ensure_account(account, password_hash, boroughs, councils)[1]
    db.session.flush()
    return {"districts": len(districts), "councils": len(councils), "accounts_created": created}


def _ensure_account(
    account: dict[str, object],
    password_hash: str,
    boroughs: dict[str, Borough] | None = None,
    councils: dict[str, Council] | None = None,
) -> tuple[User, bool]:
    """The demo account ``account`` describes; created (verified, adult) when missing."""
    email = f"{account['local']}@{DEMO_DOMAIN}"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    postcode = account.get("postcode")
    district = None
    if postcode:
        from portal.districts.services import district_for_postcode

        district = district_for_postcode(str(postcode))
    user = User(
        name=str(account["name"]),
        email=email,
        password_hash=password_hash,
        postcode=postcode,
        house_number=account.get("number"),
        district=district,
        adult_confirmed_at=utcnow(),
        email_verified_at=utcnow(),
    )
    for role in account["roles"]:  # type: ignore[union-attr]
        user.role_links.append(UserRole(role=Role(role).value))
    db.session.add(user)
    db.session.flush()
    if "council" in account and councils:
        council_name, member_role = account["council"]  # type: ignore[misc]
        db.session.add(
            CouncilMembership(council=councils[council_name], user=user, role=member_role)
        )
    for borough_name in account.get("boroughs", []):  # type: ignore[union-attr]
        assert boroughs is not None
        db.session.add(CaseOfficerBorough(user_id=user.id, borough_id=boroughs[borough_name].id))
    return user, True


# Applications in the work queue of the demo case officer (``flask seed-demo --with-applications``,
# used by ``make run``; never in the tests' demo data). Each one goes through the real services.
DEMO_APPLICATIONS: list[dict[str, object]] = [
    {
        "local": "aanvrager1",
        "name": "Joost Smits",
        "postcode": "7533BA",
        "number": "4",
        "title": "Buurtbarbecue aan het Kerkplein",
        "description": "Een middag samen eten op het Kerkplein, voor alle buren van jong tot oud.",
        "kaders": ["sociale_samenhang"],
        "lines": [
            ("Huur partytent", "huur_spullen", 1, 25_000),
            ("Soep en brood", "eten_drinken", 60, 150),
        ],
        "step": "submitted",
    },
    {
        "local": "aanvrager2",
        "name": "Lotte Hermsen",
        "postcode": "7533BB",
        "number": "9",
        "title": "Moestuin achter de basisschool",
        "description": "Samen met de kinderen groente kweken in bakken achter de school.",
        "kaders": ["duurzaam_gedrag", "sociale_samenhang"],
        "lines": [
            ("Houten bakken", "materialen", 6, 15_000),
            ("Zaden en aarde", "materialen", 1, 12_000),
        ],
        "step": "in_review",
    },
    {
        "local": "aanvrager3",
        "name": "Mehmet Yılmaz",
        "postcode": "7533BC",
        "number": "17",
        "title": "Opschoondag langs de Glanerbeek",
        "description": "Met de buurt een zaterdag zwerfafval opruimen langs de beek.",
        "kaders": ["schone_hele_leefomgeving"],
        "lines": [
            ("Grijpers en zakken", "materialen", 20, 850),
            ("Koffie en koek", "eten_drinken", 40, 125),
        ],
        "step": "info_requested",
    },
]


def seed_demo_applications() -> int:
    """Submit the demo applications (idempotent); return how many were made."""
    from portal.applications import services
    from portal.applications.models import Application
    from portal.deadlines import add_period
    from portal.reviews import services as intake

    password_hash = hash_password(current_app.config["PORTAL_DEMO_PASSWORD"])
    officer = db.session.scalar(select(User).where(User.email == f"behandelaar@{DEMO_DOMAIN}"))
    neighbours = [
        db.session.scalar(select(User).where(User.email == f"buur{n}@{DEMO_DOMAIN}"))
        for n in range(1, 6)
    ]
    assert officer is not None and all(neighbours), "run seed_demo first"
    today = date.today()
    made = 0
    for spec in DEMO_APPLICATIONS:
        key = f"demo-{spec['local']}"
        if db.session.scalar(select(Application.id).where(Application.creation_key == key)):
            continue
        applicant, _ = _ensure_account({**spec, "roles": ["resident"]}, password_hash)
        draft = services.create_draft(applicant, key)
        draft.title = str(spec["title"])
        draft.description = str(spec["description"])
        draft.kaders = list(spec["kaders"])  # type: ignore[call-overload]
        draft.start_date = draft.end_date = today + timedelta(weeks=10)
        draft.location = "Glanerbrug"
        draft.expected_participants = 80
        draft.iban = "NL91ABNA0417164300"
        draft.account_holder = applicant.name
        draft.declaration = True
        services.set_lines(
            draft,
            [
                {"description": d, "category": c, "quantity": q, "unit_price_cents": p}
                for d, c, q, p in spec["lines"]  # type: ignore[attr-defined]
            ],
        )
        for neighbour in neighbours:
            services.endorse(draft, user=neighbour)
        services.submit(draft, applicant)
        if spec["step"] == "in_review":
            intake.accept(draft, officer)
        elif spec["step"] == "info_requested":
            intake.request_info(
                draft,
                officer,
                "Wilt u een foto of tekening sturen van de plek langs de beek? "
                "Dan kunnen wij zien of de grond van de gemeente is.",
                add_period(today, days=14),
            )
        made += 1
    db.session.flush()
    return made


# Initiatives in the showcase (``flask seed-demo --with-applications``): residents of several
# districts, through the real services and workflow. Never in the tests' demo data.
DEMO_INITIATIVES: list[dict[str, object]] = [
    {
        "local": "initiatief1",
        "name": "Fatima el Amrani",
        "postcode": "7533CA",
        "number": "12",
        "title": "Repair Café Glanerbrug",
        "pitch": "Elke eerste zaterdag samen spullen repareren in het buurthuis.",
        "description": "Kapotte lamp, broek of fiets? Vrijwilligers helpen je het zelf te maken. "
        "We zoeken nog mensen die handig zijn met naaimachines en elektronica.",
        "themes": ["duurzaam_gedrag", "sociale_samenhang"],
        "help": ["volunteers", "expertise"],
        "districts": ["Glanerbrug"],
        "steps": ["publish", "start_running"],
    },
    {
        "local": "initiatief2",
        "name": "Bram Nijhuis",
        "postcode": "7531AB",
        "number": "3",
        "title": "Bloemen langs de Lindenhofstraat",
        "pitch": "Van grijze stoep naar een bloeiende straat, met de hele buurt.",
        "description": "We willen geveltuintjes en bloembakken maken. Wie heeft een ruimte "
        "om de bakken op te slaan?",
        "themes": ["schone_hele_leefomgeving", "leefbaarheid"],
        "help": ["space", "materials", "money"],
        "districts": ["Velve-Lindenhof"],
        "steps": ["publish"],
    },
    {
        "local": "initiatief3",
        "name": "Anouk Koster",
        "postcode": "7513BC",
        "number": "21",
        "title": "Samen koken voor ouderen",
        "pitch": "Elke donderdag een warme maaltijd en gezelschap voor wie alleen is.",
        "description": "In de kerkzaal koken vrijwilligers voor buren die weinig mensen zien.",
        "themes": ["wijkdiensten_hulpbehoevenden", "sociale_samenhang"],
        "help": ["volunteers"],
        "districts": ["Laares"],
        "steps": ["publish", "start_conversation", "start_running", "realise"],
    },
    {
        "local": "initiatief4",
        "name": "Thomas de Boer",
        "postcode": "7512CD",
        "number": "8",
        "title": "Stadsbrede buurtpreventie-app",
        "pitch": "Buurtpreventie in heel Enschede met één duidelijke afspraak.",
        "description": "Wij helpen buurten een WhatsApp-groep voor buurtpreventie op te zetten, "
        "met spelregels die werken.",
        "themes": ["veiligheidsgevoel"],
        "help": ["expertise"],
        "citywide": True,
        "steps": ["publish", "start_conversation"],
    },
    {
        "local": "initiatief5",
        "name": "Sara Postma",
        "postcode": "7533DE",
        "number": "5",
        "title": "Speelstraat op zondag",
        "pitch": "Eén zondag per maand de straat dicht voor auto's en open voor kinderen.",
        "description": "We willen een speelstraat in de Veldkampstraat. Het initiatief wacht "
        "nog op de controle van de gemeente.",
        "themes": ["leefbaarheid", "sociale_samenhang"],
        "help": ["volunteers", "materials"],
        "districts": ["Glanerbrug"],
        "steps": [],
    },
]


def seed_demo_initiatives() -> int:
    """Propose, check and publish the demo initiatives (idempotent); return how many were made.
    One stays submitted, so the case officer's initiative queue has work."""
    from portal.applications import workflow
    from portal.deadlines import add_working_days
    from portal.districts.models import District
    from portal.initiatives import services
    from portal.initiatives.models import (
        Initiative,
        InitiativeDistrict,
        InitiativeHelp,
        InitiativeTheme,
        Support,
    )
    from portal.timeutil import local_today, utcnow

    password_hash = hash_password(current_app.config["PORTAL_DEMO_PASSWORD"])
    officer = db.session.scalar(select(User).where(User.email == f"behandelaar@{DEMO_DOMAIN}"))
    neighbours = [
        db.session.scalar(select(User).where(User.email == f"buur{n}@{DEMO_DOMAIN}"))
        for n in range(1, 6)
    ]
    assert officer is not None and all(neighbours), "run seed_demo first"
    made = 0
    for spec in DEMO_INITIATIVES:
        key = f"demo-{spec['local']}"
        if db.session.scalar(select(Initiative.id).where(Initiative.creation_key == key)):
            continue
        initiator, _ = _ensure_account({**spec, "roles": ["resident"]}, password_hash)
        initiative = services.create_draft(initiator, key)
        initiative.title = str(spec["title"])
        initiative.slug = services.slugify(initiative.title)
        initiative.pitch = str(spec["pitch"])
        initiative.description = str(spec["description"])
        initiative.contact_note = "Stuur een bericht via deze pagina; ik antwoord binnen een week."
        initiative.citywide = bool(spec.get("citywide"))
        initiative.district_links.clear()
        db.session.flush()
        for name in spec.get("districts", []):  # type: ignore[attr-defined]
            district = db.session.scalar(select(District).where(District.name == name))
            initiative.district_links.append(
                InitiativeDistrict(initiative_id=initiative.id, district_id=district.id)
            )
        for theme in spec["themes"]:  # type: ignore[attr-defined]
            initiative.theme_links.append(InitiativeTheme(initiative_id=initiative.id, theme=theme))
        for kind in spec["help"]:  # type: ignore[attr-defined]
            initiative.help_links.append(InitiativeHelp(initiative_id=initiative.id, kind=kind))
        db.session.flush()
        _demo_photo(initiative, initiator, made)
        workflow.transition_initiative(
            initiative,
            "submit",
            initiator,
            submitted_at=utcnow(),
            review_due=add_working_days(local_today(), 2),
        )
        for step in spec["steps"]:  # type: ignore[attr-defined]
            values = {"published_at": utcnow()} if step == "publish" else {}
            services.change_status(initiative, step, officer, **values)
        if spec["steps"]:
            for neighbour in neighbours[: 2 + made % 3]:
                db.session.add(Support(initiative_id=initiative.id, user_id=neighbour.id))
                initiative.support_count += 1
        made += 1
        db.session.flush()
    return made


DEMO_COLOURS = [("#2f7d32", "#ffd54f"), ("#1565c0", "#ff8a65"), ("#6a1b9a", "#80deea")]
DEMO_COLOUR_NAMES = ["groene", "blauwe", "paarse"]


def _demo_photo(initiative: object, initiator: User, index: int) -> None:
    """A drawn picture for a demo initiative, through the real upload path and photo job."""
    import io
    from pathlib import Path

    from PIL import Image, ImageDraw

    from portal import uploads
    from portal.initiatives import drafting

    background, accent = DEMO_COLOURS[index % len(DEMO_COLOURS)]
    image = Image.new("RGB", (960, 600), background)
    draw = ImageDraw.Draw(image)
    for step in range(5):
        x = 120 + step * 170
        draw.ellipse((x, 200 + (step % 2) * 80, x + 140, 340 + (step % 2) * 80), fill=accent)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    stored = uploads.store(buffer, "demo.png", root=Path(current_app.config["PORTAL_UPLOAD_DIR"]))
    colour = DEMO_COLOUR_NAMES[index % len(DEMO_COLOUR_NAMES)]
    drafting.add_photo(
        initiative,  # type: ignore[arg-type]
        initiator,
        stored,
        f"Getekende illustratie: gekleurde rondjes op een {colour} achtergrond",
    )
