"""The public showcase of initiatives: its filters (which live in the URL), the paginated list
and the Atom feeds. Every list costs the same number of queries whatever the filters, the search
and the page: one count, one page of rows, and one fixed query per collection a card shows. The
count of the whole showcase (or of one status) is a sum over a few rows of ``initiative_counts``,
which the database keeps (migration 0012); a count with other filters is kept in the page cache
when there is one. Each of the other queries reads an index: the partial indexes on public
initiatives, the link tables' (key, initiative_id) indexes and the trigram indexes for the search
(migration 0011)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal import page_cache
from portal.applications.labels import KADER_LABELS
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives.models import (
    HELP_KINDS,
    PUBLIC_STATE_VALUES,
    Initiative,
    InitiativeCount,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativePhoto,
    InitiativeTheme,
)
from portal.web import ListPage

PER_PAGE = 24
# A page number beyond this is treated as this one (an absurd OFFSET would overflow the database).
MAX_PAGE = 10_000
FEED_SIZE = 50
SEARCH_LENGTH = 100

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


# The public states as literals in the SQL (not as parameters): the partial indexes on public
# initiatives (``models.PUBLIC_CONDITION``) are then usable in every plan, a prepared statement's
# generic plan included.
PUBLIC_STATES = bindparam(
    "public_states", list(PUBLIC_STATE_VALUES), expanding=True, literal_execute=True
)


def public_conditions() -> list[ColumnElement[bool]]:
    """In a public state; those always have a publication date, and saying so matches the
    partial indexes ``ix_initiatives_public_*``."""
    return [Initiative.state.in_(PUBLIC_STATES), Initiative.published_at.is_not(None)]


def public_initiatives() -> Select[Any]:
    """Initiatives in a public state, to be read newest first from
    ``ix_initiatives_public_newest`` (backwards, stopping after a page)."""
    return select(Initiative).where(*public_conditions())


def filter_conditions(filters: ShowcaseFilters) -> list[ColumnElement[bool]]:
    """The filters. Each filter on a link table is a semi-join on that table's
    (key, initiative_id) index; the search uses the trigram indexes on PostgreSQL."""
    conditions: list[ColumnElement[bool]] = []
    if filters.district is not None:
        conditions.append(
            Initiative.id.in_(
                select(InitiativeDistrict.initiative_id).where(
                    InitiativeDistrict.district_id == filters.district.id
                )
            )
        )
    if filters.theme:
        conditions.append(
            Initiative.id.in_(
                select(InitiativeTheme.initiative_id).where(InitiativeTheme.theme == filters.theme)
            )
        )
    if filters.help:
        conditions.append(
            Initiative.id.in_(
                select(InitiativeHelp.initiative_id).where(InitiativeHelp.kind == filters.help)
            )
        )
    if filters.state:
        conditions.append(Initiative.state == filters.state)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                Initiative.title.ilike(pattern, escape="\\"),
                Initiative.pitch.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def filtered(filters: ShowcaseFilters) -> Select[Any]:
    """Public initiatives matching the filters."""
    return public_initiatives().where(*filter_conditions(filters))


def newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(Initiative.published_at.desc(), Initiative.id.desc())


@cache
def card_options() -> tuple[Any, ...]:
    """What a card shows, each collection in one extra query for the whole page (the ready
    photos only: the first one is the card's thumbnail). Made once."""
    return (
        selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
        selectinload(Initiative.theme_links),
        selectinload(Initiative.help_links),
        selectinload(Initiative.photos.and_(InitiativePhoto.ready.is_(True))),
    )


def count_matching(conditions: list[ColumnElement[bool]]) -> int:
    """How many public initiatives match: on ``ix_initiatives_public_id`` (and the link
    tables' indexes), without reading the table."""
    query = select(func.count()).select_from(Initiative).where(*conditions)
    return int(db.session.scalar(query) or 0)


def count_public(state: str = "") -> int:
    """How many public initiatives there are (in ``state`` when given): the sum of the rows of
    the public states in ``initiative_counts``, which counts the published initiatives per state
    and is kept exact by the database's triggers (migration 0012)."""
    query = select(func.coalesce(func.sum(InitiativeCount.total), 0)).where(
        InitiativeCount.state.in_(PUBLIC_STATES)
    )
    if state:
        query = query.where(InitiativeCount.state == state)
    return int(db.session.scalar(query) or 0)


def page_items(
    conditions: list[ColumnElement[bool]], offset: int, limit: int, from_oldest: bool
) -> list[Initiative]:
    """The initiatives at ``offset`` (newest first). The ids come first, from the index only
    (skipping ``offset`` index entries is cheap, skipping rows is not); then those rows. Read
    from the oldest end (``from_oldest``, ``offset`` counted from there) the last pages cost what
    the first ones do."""
    order = (
        (Initiative.published_at.asc(), Initiative.id.asc())
        if from_oldest
        else (Initiative.published_at.desc(), Initiative.id.desc())
    )
    ids = (
        select(Initiative.id)
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
        .subquery("page_ids")
    )
    query = newest_first(
        select(Initiative).join(ids, Initiative.id == ids.c.id).options(*card_options())
    )
    return list(db.session.scalars(query))


def showcase_page(filters: ShowcaseFilters, page: int, count_key: str | None = None) -> ListPage:
    """One page of the showcase, newest published first: the count (without filters but the
    status from ``initiative_counts``; else kept in the page cache under ``count_key`` when
    there is one), the page, and one query per collection on the cards. Page ``n`` stays page
    ``n`` (bookmarkable); past the middle it is read from the oldest end."""
    page = min(max(page, 1), MAX_PAGE)
    conditions = [*public_conditions(), *filter_conditions(filters)]
    if filters.district is None and not (filters.theme or filters.help or filters.q):
        total = count_public(filters.state)
    elif count_key is None:
        total = count_matching(conditions)
    else:
        total = page_cache.cached_count(count_key, lambda: count_matching(conditions))
    start = (page - 1) * PER_PAGE
    end = min(start + PER_PAGE, total)
    if start >= total:
        items: list[Initiative] = []
    elif start > total - end:
        items = page_items(conditions, total - end, end - start, from_oldest=True)
    else:
        items = page_items(conditions, start, PER_PAGE, from_oldest=False)
    return ListPage(items, page, PER_PAGE, total)


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
