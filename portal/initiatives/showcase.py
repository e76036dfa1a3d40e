"""The public showcase of initiatives: its filters (which live in the URL), the paginated list
and the Atom feeds. Every list costs the same number of queries whatever the filters, the search
and the page: one count, one page of rows, and one fixed query per collection a card shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.applications.labels import KADER_LABELS
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives.models import (
    HELP_KINDS,
    PUBLIC_STATES,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativePhoto,
    InitiativeTheme,
)

PER_PAGE = 24
# A page number beyond this is treated as this one (an absurd OFFSET would overflow the database).
MAX_PAGE = 10_000
FEED_SIZE = 50
SEARCH_LENGTH = 100
PUBLIC_STATE_VALUES = tuple(sorted(state.value for state in PUBLIC_STATES))

# Bidirectional formatting characters (embeddings, overrides, isolates). An override such as
# U+202E makes text read differently from what was typed ("gpj.exe" shown as "exe.jpg"), and
# natural right-to-left scripts need none of them, so text written by people is shown without.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Characters XML 1.0 forbids (C0 controls other than tab and line breaks, lone surrogates and the
# two non-characters): they would make the Atom feed ill-formed.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain(value: Any) -> str:
    """Text typed by someone, made safe to show as plain text anywhere (HTML, attributes, XML,
    e-mail): without bidi overrides and control characters. Escaping is left to the template."""
    if value is None:
        return ""
    if isinstance(value, Markup):  # already safe markup: keep it markup, without the controls
        return Markup(XML_FORBIDDEN.sub("", BIDI_CONTROLS.sub("", value)))  # noqa: S704
    return XML_FORBIDDEN.sub("", BIDI_CONTROLS.sub("", str(value)))


@dataclass
class ShowcaseFilters:
    """The showcase's filters, read from (and written back to) the URL so a view can be
    bookmarked, shared and reached with the back button; unknown values are ignored."""

    district: District | None = None
    theme: str = ""
    help: str = ""
    state: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Any, districts: list[District]) -> ShowcaseFilters:
        wanted = (args.get("wijk", "") or "").strip()
        district = next(
            (d for d in districts if wanted and wanted in (str(d.id), d.slug)),
            None,
        )
        theme = args.get("thema", "")
        help_kind = args.get("hulp", "")
        state = args.get("status", "")
        return cls(
            district=district,
            theme=theme if theme in KADER_LABELS else "",
            help=help_kind if help_kind in HELP_KINDS else "",
            state=state if state in PUBLIC_STATE_VALUES else "",
            q=" ".join((args.get("zoek", "") or "").split())[:SEARCH_LENGTH],
        )

    def as_args(self) -> dict[str, Any]:
        args = {
            "wijk": self.district.slug if self.district else "",
            "thema": self.theme,
            "hulp": self.help,
            "status": self.state,
            "zoek": self.q,
        }
        return {key: value for key, value in args.items() if value}


def like_pattern(text: str) -> str:
    """``50%_korting`` -> ``%50\\%\\_korting%``: what was typed is searched for literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def public_initiatives() -> Select[Any]:
    """Initiatives in a public state. Those always have a publication date; saying so lets
    the database read ``ix_initiatives_published`` backwards, newest first, and stop after a
    page instead of sorting every row."""
    return select(Initiative).where(
        Initiative.state.in_(PUBLIC_STATE_VALUES), Initiative.published_at.is_not(None)
    )


def filtered(filters: ShowcaseFilters) -> Select[Any]:
    """Public initiatives matching the filters. Each filter on a link table is a semi-join on
    that table's (key, initiative_id) index."""
    query = public_initiatives()
    if filters.district is not None:
        query = query.where(
            Initiative.id.in_(
                select(InitiativeDistrict.initiative_id).where(
                    InitiativeDistrict.district_id == filters.district.id
                )
            )
        )
    if filters.theme:
        query = query.where(
            Initiative.id.in_(
                select(InitiativeTheme.initiative_id).where(InitiativeTheme.theme == filters.theme)
            )
        )
    if filters.help:
        query = query.where(
            Initiative.id.in_(
                select(InitiativeHelp.initiative_id).where(InitiativeHelp.kind == filters.help)
            )
        )
    if filters.state:
        query = query.where(Initiative.state == filters.state)
    if filters.q:
        pattern = like_pattern(filters.q)
        query = query.where(
            or_(
                Initiative.title.ilike(pattern, escape="\\"),
                Initiative.pitch.ilike(pattern, escape="\\"),
            )
        )
    return query


def newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(Initiative.published_at.desc(), Initiative.id.desc())


def card_options() -> list[Any]:
    """What a card shows, each collection in one extra query for the whole page (the ready
    photos only: the first one is the card's thumbnail)."""
    return [
        selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
        selectinload(Initiative.theme_links),
        selectinload(Initiative.help_links),
        selectinload(Initiative.photos.and_(InitiativePhoto.ready.is_(True))),
    ]


def showcase_page(filters: ShowcaseFilters, page: int) -> Pagination:
    """One page of the showcase, newest published first: a count, the page, and one query per
    collection on the cards."""
    return db.paginate(
        newest_first(filtered(filters)).options(*card_options()),
        page=min(max(page, 1), MAX_PAGE),
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )


def all_districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.name)))


def feed_entries(district: District | None = None) -> list[Initiative]:
    """The most recently published public initiatives (of one district), with their
    initiator's name, in one query."""
    query = public_initiatives()
    if district is not None:
        query = query.where(
            Initiative.id.in_(
                select(InitiativeDistrict.initiative_id).where(
                    InitiativeDistrict.district_id == district.id
                )
            )
        )
    return list(
        db.session.scalars(
            newest_first(query).options(joinedload(Initiative.initiator)).limit(FEED_SIZE)
        )
    )
