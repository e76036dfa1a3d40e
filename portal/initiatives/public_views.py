"""The public side of initiatives: the showcase (open to everyone), an initiative's page with its
timeline and comments, the Atom feeds, and taking part (signed in): support, offer help, comment,
report a comment, write to the initiator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal import page_cache
from portal.applications.models import Application
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import bp, participation, permissions
from portal.initiatives import showcase as listing
from portal.initiatives.labels import HELP_LABELS, STATE_LABELS, THEME_LABELS
from portal.initiatives.models import (
    HELP_KINDS,
    Comment,
    CommentReport,
    Initiative,
    InitiativeDistrict,
    InitiativePhoto,
    InitiativeUpdate,
)
from portal.initiatives.public_forms import CommentForm, ContactForm, OfferHelpForm, ReportForm
from portal.initiatives.services import InitiativeRefused
from portal.notifications.services import absolute_url, municipality_place
from portal.web import is_fragment_request, redirect_after_post, render

COMMENTS_PER_PAGE = 20
# "/initiatieven/12-moestuin-aan-de-oldenzaalsestraat" or "/initiatieven/12"; ids fit in an
# INTEGER column (a longer number is simply not found, instead of an error in the database).
KEY = re.compile(r"([1-9][0-9]{0,8})(?:-.*)?", re.DOTALL)
# Public milestones of the wijkbudget application made from an initiative (no private detail).
MILESTONE_LABELS = {
    "application_submitted": _l("Wijkbudget aangevraagd"),
    "granted": _l("Wijkbudget toegekend"),
}


@bp.app_template_filter("plain")
def plain_filter(value: Any) -> str:
    """Text someone typed, shown as plain text: see ``showcase.plain``."""
    return listing.plain(value)


@bp.app_template_filter("rfc3339")
def rfc3339(moment: datetime | None) -> str:
    """``2026-11-29T08:13:17Z``: the date format of Atom."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def og_image_url(photo: InitiativePhoto | None) -> str | None:
    """The absolute address of the large version of a ready photo, for og:image."""
    if photo is None:
        return None
    return absolute_url(
        "initiatives.photo", initiative_id=photo.initiative_id, photo_id=photo.id, size="groot"
    )


def common_context() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "help_labels": HELP_LABELS,
        "theme_labels": THEME_LABELS,
    }


# --- the showcase --------------------------------------------------------------------------------


# The showcase's arguments: a page of it depends on these and on nothing else in the URL.
SHOWCASE_ARGS = ("wijk", "thema", "hulp", "status", "zoek")


@bp.route("/initiatieven")
def showcase() -> Response:
    """Published initiatives, newest first, filtered by district, theme, help wanted, status
    and a search in title and pitch; the filters live in the URL. Open to everyone; for
    anonymous visitors from the page cache when it has this page."""
    page_number = min(max(request.args.get("page", 1, type=int) or 1, 1), listing.MAX_PAGE)
    args = [(name, request.args.get(name, "")) for name in SHOWCASE_ARGS]
    args = [(name, value) for name, value in args if value]
    cached = page_cache.lookup("showcase", args, page_number)
    hit = page_cache.respond(cached)
    if hit is not None:
        return hit
    districts = listing.all_districts()
    filters = listing.ShowcaseFilters.from_args(request.args, districts)
    page = listing.showcase_page(filters, page_number, count_key=json.dumps(args))
    return page_cache.render_page(
        cached,
        "initiatives/showcase.html",
        "initiatives/_showcase_results.html",
        page=page,
        filters=filters,
        filter_args=filters.as_args(),
        districts=districts,
        public_states=[s for s in STATE_LABELS if s in listing.PUBLIC_STATE_VALUES],
        help_kinds=HELP_KINDS,
        **common_context(),
    )


# --- the Atom feeds ------------------------------------------------------------------------------


def entry_updated(initiative: Initiative) -> datetime:
    """When an entry last changed: its last change of status (never before its publication)."""
    published = initiative.published_at or initiative.created_at
    return max(published, initiative.updated_at or published)


def atom_response(entries: list[Initiative], title: str, self_url: str) -> Response:
    updated = max((entry_updated(entry) for entry in entries), default=None)
    body = render_template(
        "initiatives/feed.atom.xml",
        entries=entries,
        feed_title=title,
        feed_subtitle=_("Initiatieven van bewoners, nieuwste eerst"),
        self_url=self_url,
        showcase_url=absolute_url("initiatives.showcase"),
        updated=updated,
        language=str(get_locale() or "nl"),
        entry_url=lambda initiative: absolute_url("initiatives.detail", key=initiative.path_key),
        entry_id=lambda initiative: absolute_url("initiatives.detail", key=str(initiative.id)),
        entry_updated=entry_updated,
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")


@bp.route("/initiatieven/feed.atom")
def feed() -> Response:
    """The 50 most recently published initiatives, as an Atom feed."""
    return atom_response(
        listing.feed_entries(),
        _("Initiatieven in %(place)s", place=municipality_place()),
        absolute_url("initiatives.feed"),
    )


@bp.route("/initiatieven/wijk/<district_slug>.atom")
def district_feed(district_slug: str) -> Response:
    """The 50 most recently published initiatives in one district, as an Atom feed."""
    district = db.session.scalar(select(District).where(District.slug == district_slug))
    if district is None:
        abort(404)
    return atom_response(
        listing.feed_entries(district),
        _("Initiatieven in %(place)s", place=district.name),
        absolute_url("initiatives.district_feed", district_slug=district.slug),
    )


# --- an initiative's page ------------------------------------------------------------------------


def load_viewable(initiative_id: int) -> Initiative:
    """The initiative with what its page shows; 404 when it does not exist or this person may
    not see it (before publication only its initiator and the staff who handle it)."""
    initiative = (
        db.session.scalars(
            select(Initiative)
            .where(Initiative.id == initiative_id)
            .options(
                joinedload(Initiative.initiator),
                joinedload(Initiative.guide),
                # A handful of themes and kinds of help: joined to the initiative's row.
                joinedload(Initiative.theme_links),
                joinedload(Initiative.help_links),
                selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
                selectinload(Initiative.photos.and_(InitiativePhoto.ready.is_(True))),
            )
        )
        .unique()
        .first()
    )
    if initiative is None or not permissions.can_view(current_user, initiative):
        abort(404)
    return initiative


def detail_url(initiative: Initiative, anchor: str = "", **args: Any) -> str:
    url = url_for("initiatives.detail", key=initiative.path_key, **args)
    return f"{url}#{anchor}" if anchor else url


def comments_page() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), listing.MAX_PAGE)


def visible_comments(initiative: Initiative, staff: bool) -> Any:
    """Comments the person may read: all for the staff who handle it; for others the visible
    ones and their own hidden ones (so they know it was hidden)."""
    query = select(Comment).where(Comment.initiative_id == initiative.id)
    if not staff:
        if current_user.is_authenticated:
            query = query.where(
                or_(Comment.hidden_at.is_(None), Comment.author_id == current_user.id)
            )
        else:
            query = query.where(Comment.hidden_at.is_(None))
    return db.paginate(
        query.options(joinedload(Comment.author)).order_by(Comment.id.desc()),
        page=comments_page(),
        per_page=COMMENTS_PER_PAGE,
        error_out=False,
    )


def detail_context(initiative: Initiative, **forms: Any) -> dict[str, Any]:
    user = current_user
    staff = permissions.is_staff_viewer(user, initiative)
    timeline = db.session.scalars(
        select(InitiativeUpdate)
        .where(InitiativeUpdate.initiative_id == initiative.id)
        .options(selectinload(InitiativeUpdate.photos.and_(InitiativePhoto.ready.is_(True))))
        .order_by(InitiativeUpdate.id.desc())
    ).all()
    # The wijkbudget application made from it: only its applicant gets the link.
    own_applications = (
        db.session.scalars(
            select(Application)
            .where(Application.initiative_id == initiative.id, Application.applicant_id == user.id)
            .order_by(Application.id)
        ).all()
        if user.is_authenticated
        else []
    )
    reported: set[int] = set()
    comments = visible_comments(initiative, staff)
    if user.is_authenticated and comments.items:
        reported = set(
            db.session.scalars(
                select(CommentReport.comment_id).where(
                    CommentReport.user_id == user.id,
                    CommentReport.comment_id.in_([c.id for c in comments.items]),
                )
            )
        )
    return {
        "initiative": initiative,
        "timeline": timeline,
        "comments": comments,
        "reported": reported,
        "own_applications": own_applications,
        "is_initiator": permissions.is_initiator(user, initiative),
        "is_staff": staff,
        "supported": participation.supports(user, initiative),
        "can_support": participation.can_support(user, initiative),
        "can_offer_help": participation.can_offer_help(user, initiative),
        "can_contact": participation.can_contact(user, initiative),
        "can_comment": participation.can_comment(user, initiative),
        "blocked": participation.is_blocked(user),
        "can_report": lambda comment: participation.can_report(user, initiative, comment),
        "active": initiative.state in participation.ACTIVE_STATES,
        "comment_form": forms.get("comment_form") or CommentForm(formdata=None),
        "offer_form": OfferHelpForm(participation.help_kinds_for(initiative), formdata=None),
        "contact_form": ContactForm(formdata=None),
        "canonical_url": absolute_url("initiatives.detail", key=initiative.path_key),
        "og_image": og_image_url(initiative.photos[0] if initiative.photos else None),
        "og_locale": "en_GB" if str(get_locale() or "nl") == "en" else "nl_NL",
        "milestone_labels": MILESTONE_LABELS,
        "login_url": url_for("accounts.login", next=detail_url(initiative)),
        **common_context(),
    }


@bp.route("/initiatieven/<key>")
def detail(key: str) -> Response:
    """An initiative's public page. ``key`` is ``<id>-<slug>``; another slug (the title
    changed, or none was given) is sent on to the current address with a 301."""
    found = KEY.fullmatch(key)
    if found is None:
        abort(404)
    cached = page_cache.lookup("initiative", key, comments_page())
    hit = page_cache.respond(cached)
    if hit is not None:
        return hit
    initiative = load_viewable(int(found.group(1)))
    if key != initiative.path_key:
        # Only the comment page is carried over: other arguments (url_for's own "_external",
        # "_scheme", "_anchor") must not shape the address.
        page = request.args.get("page", type=int)
        return redirect(  # type: ignore[return-value]
            url_for("initiatives.detail", key=initiative.path_key, page=page), code=301
        )
    return page_cache.render_page(cached, "initiatives/detail.html", **detail_context(initiative))


# --- taking part -------------------------------------------------------------------------------


def refuse_unless(allowed: bool) -> None:
    if not allowed:
        abort(403)


def support_response(initiative: Initiative, message: str) -> Response:
    """htmx: the support block with the new count; without JavaScript back to the page."""
    if is_fragment_request():
        return render(
            "initiatives/detail.html",
            "initiatives/_support.html",
            **detail_support_context(initiative),
        )
    flash(message, "success")
    return redirect_after_post(detail_url(initiative, "steun"))


def detail_support_context(initiative: Initiative) -> dict[str, Any]:
    return {
        "initiative": initiative,
        "supported": participation.supports(current_user, initiative),
        "can_support": participation.can_support(current_user, initiative),
        "is_initiator": permissions.is_initiator(current_user, initiative),
        "active": initiative.state in participation.ACTIVE_STATES,
        "login_url": url_for("accounts.login", next=detail_url(initiative)),
    }


@bp.route("/initiatieven/<int:initiative_id>/steun", methods=["POST"])
@login_required
def support(initiative_id: int) -> Response:
    """Support an initiative (once: a second post changes nothing)."""
    initiative = load_viewable(initiative_id)
    refuse_unless(participation.can_support(current_user, initiative))
    participation.support(initiative, current_user)
    db.session.commit()
    return support_response(initiative, _("Bedankt! U steunt dit initiatief."))


@bp.route("/initiatieven/<int:initiative_id>/steun-intrekken", methods=["POST"])
@login_required
def unsupport(initiative_id: int) -> Response:
    """Withdraw one's support."""
    initiative = load_viewable(initiative_id)
    refuse_unless(initiative.is_public)
    participation.unsupport(initiative, current_user)
    db.session.commit()
    return support_response(initiative, _("U steunt dit initiatief niet meer."))


@bp.route("/initiatieven/<int:initiative_id>/hulp-aanbieden", methods=["GET", "POST"])
@login_required
def offer_help(initiative_id: int) -> Response:
    """Offer help to the initiator: what kind, what exactly and how much time."""
    initiative = load_viewable(initiative_id)
    refuse_unless(participation.can_offer_help(current_user, initiative))
    form = OfferHelpForm(participation.help_kinds_for(initiative))
    if form.validate_on_submit():
        participation.offer_help(
            initiative,
            current_user,
            form.kind.data,
            form.what.data,
            form.time_available.data or "",
        )
        db.session.commit()
        flash(
            _(
                "Bedankt voor uw aanbod! De initiatiefnemer krijgt het en antwoordt u via "
                "Wijkkracht."
            ),
            "success",
        )
        return redirect_after_post(detail_url(initiative))
    return render(
        "initiatives/offer_help.html",
        status=422 if form.errors else 200,
        initiative=initiative,
        form=form,
        **common_context(),
    )


@bp.route("/initiatieven/<int:initiative_id>/reacties", methods=["POST"])
@login_required
def comment(initiative_id: int) -> Response:
    """Post a comment; with an error the page comes back with the form and the message."""
    initiative = load_viewable(initiative_id)
    refuse_unless(participation.can_comment(current_user, initiative))
    form = CommentForm()
    if form.validate_on_submit():
        try:
            added = participation.add_comment(initiative, current_user, form.body.data)
        except InitiativeRefused:
            db.session.rollback()
            flash(
                _("U kunt niet meer reageren op initiatieven. De gemeente heeft u geblokkeerd."),
                "error",
            )
            return redirect_after_post(detail_url(initiative, "reageren"))
        db.session.commit()
        flash(_("Uw reactie staat op de pagina."), "success")
        return redirect_after_post(detail_url(initiative, f"reactie-{added.id}"))
    return render(
        "initiatives/detail.html",
        status=422,
        **detail_context(initiative, comment_form=form),
    )


@bp.route(
    "/initiatieven/<int:initiative_id>/reacties/<int:comment_id>/melden", methods=["GET", "POST"]
)
@login_required
def report_comment(initiative_id: int, comment_id: int) -> Response:
    """Report a comment to the municipality, with an optional reason; once per person."""
    initiative = load_viewable(initiative_id)
    found = db.session.get(Comment, comment_id)
    if found is None or found.initiative_id != initiative.id or found.hidden:
        abort(404)
    refuse_unless(participation.can_report(current_user, initiative, found))
    already = (
        db.session.get(CommentReport, {"comment_id": found.id, "user_id": current_user.id})
        is not None
    )
    form = ReportForm()
    if form.validate_on_submit():
        added = participation.report_comment(
            initiative, found, current_user, form.reason.data or ""
        )
        db.session.commit()
        if added:
            flash(_("Bedankt voor uw melding. De gemeente bekijkt de reactie."), "success")
        else:
            flash(_("U had deze reactie al gemeld. De gemeente bekijkt hem."), "info")
        return redirect_after_post(detail_url(initiative, f"reactie-{found.id}"))
    return render(
        "initiatives/report_comment.html",
        status=422 if form.errors else 200,
        initiative=initiative,
        comment=found,
        already=already,
        form=form,
        **common_context(),
    )


@bp.route("/initiatieven/<int:initiative_id>/bericht", methods=["GET", "POST"])
@login_required
def contact(initiative_id: int) -> Response:
    """Write to the initiator; the portal passes the message on, no one sees an address."""
    initiative = load_viewable(initiative_id)
    refuse_unless(participation.can_contact(current_user, initiative))
    form = ContactForm()
    if form.validate_on_submit():
        participation.send_message(initiative, current_user, form.message.data)
        db.session.commit()
        flash(
            _("Uw bericht is verstuurd. De initiatiefnemer antwoordt u via Wijkkracht."),
            "success",
        )
        return redirect_after_post(detail_url(initiative))
    return render(
        "initiatives/contact.html",
        status=422 if form.errors else 200,
        initiative=initiative,
        form=form,
        **common_context(),
    )
