"""Demo data: the boroughs, districts, councils and budgets of Enschede, the first ruleset, and
one account per role. Idempotent; refused in production.

Budgets are the real 2020 wijkbudget figures (2023 for Mekkelholt en Deppenbroek) from the
project's notes, used for the current year. Postcode ranges are an approximation by 4-digit
postcode area so that every Enschede postcode (7500-7549) finds a district.
"""

from __future__ import annotations

from datetime import date

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
            _get_or_create(
                DistrictBudget,
                district_id=district.id,
                year=year,
                defaults={"allocated_cents": euros * 100},
            )
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
        email = f"{account['local']}@{DEMO_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            created += 1
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
            if "council" in account:
                council_name, member_role = account["council"]  # type: ignore[misc]
                db.session.add(
                    CouncilMembership(council=councils[council_name], user=user, role=member_role)
                )
            for borough_name in account.get("boroughs", []):  # type: ignore[union-attr]
                db.session.add(
                    CaseOfficerBorough(user_id=user.id, borough_id=boroughs[borough_name].id)
                )
    db.session.flush()
    return {"districts": len(districts), "councils": len(councils), "accounts_created": created}
