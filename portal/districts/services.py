"""Finding a district from a postcode."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.districts.models import District, PostcodeRange
from portal.extensions import db

POSTCODE_PATTERN = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")


def normalise_postcode(raw: str | None) -> str:
    """``7511 ab`` → ``7511AB``; anything else is returned cleaned for the validator to refuse."""
    return re.sub(r"\s+", "", raw or "").upper()


def is_valid_postcode(postcode: str) -> bool:
    return bool(POSTCODE_PATTERN.match(postcode))


def district_for_postcode(postcode: str) -> District | None:
    postcode = normalise_postcode(postcode)
    if not is_valid_postcode(postcode):
        return None
    return db.session.scalar(
        select(District)
        .join(PostcodeRange)
        .where(PostcodeRange.start <= postcode, PostcodeRange.end >= postcode)
        .limit(1)
    )
