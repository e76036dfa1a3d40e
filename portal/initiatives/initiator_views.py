"""The initiator's pages: "Mijn initiatieven", the form with its photos, submitting it for the
check, throwing a draft away, and after publication the page with news, offers of help and
messages, and the step to a wijkbudget application. Also the photos themselves, for whoever
may see the initiative.

Someone else's initiative is a 404 on every page here: these pages are the initiator's own."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal import uploads
from portal.applications import workflow
from portal.applications.labels import STATE_LABELS as APPLICATION_STATE_LABELS
from portal.districts.models import Borough, District
from portal.extensions import db
from portal.initiatives import bp, drafting, permissions, services
from portal.initiatives.forms import (
    InitiativeForm,
    NewInitiativeForm,
    PhotoForm,
    ReplyForm,
    UpdateForm,
)
from portal.initiatives.labels import (
    HELP_LABELS,
    MILESTONE_LABELS,
    MISSING_LABELS,
    STATE_EXPLANATIONS,
    STATE_LABELS,
    THEME_LABELS,
)
from portal.initiatives.models import (
    MAX_PHOTOS,
    HelpOffer,
    Initiative,
    InitiativeDistrict,
    InitiativeMessage,
    InitiativePhoto,
    InitiativeUpdate,
)
from portal.initiatives.services import InitiativeRefused
from portal.web import redirect_after_post, render, roles_required

PER_PAGE = 20
OFFERS_PER_PAGE = 10
MESSAGES_PER_PAGE = 20
RECENT_NEWS = 5
# The photo form shares its page with the initiative form, which has a "description" too.
PHOTO_PREFIX = "foto"


# --- helpers -------------------------------------------------------------------------------------


def upload_root() -> Path:
    return Path(current_app.config["PORTAL_UPLOAD_DIR"])


def load_initiative(initiative_id: int, *, for_update: bool = False) -> Initiative:
    query = (
        select(Initiative)
        .where(Initiative.id == initiative_id)
        .options(
            selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
            selectinload(Initiative.theme_links),
            selectinload(Initiative.help_links),
            selectinload(Initiative.photos),
        )
    )
    if for_update:
        # Saves, uploads and submissions of one initiative take turns (the photo count, the
        # district links and the state are read and then changed).
        query = query.with_for_update(of=Initiative)
    initiative = db.session.scalar(query)
    if initiative is None:
        abort(404)
    return initiative


def own_initiative(initiative_id: int, *, for_update: bool = False) -> Initiative:
    """The signed-in user's own initiative; anyone else's is a 404."""
    initiative = load_initiative(initiative_id, for_update=for_update)
    if not permissions.is_initiator(current_user, initiative):
        abort(404)
    return initiative


def not_editable(initiative: Initiative) -> Response:
    flash(
        _(
            "U kunt dit initiatief nu niet wijzigen. De status is: %(state)s.",
            state=STATE_LABELS[initiative.state],
        ),
        "info",
    )
    return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))


@bp.app_template_global()
def initiative_public_path(initiative: Initiative) -> str:
    """The address of the public page of an initiative (its view may be built elsewhere)."""
    if "initiatives.detail" in current_app.view_functions:
        return url_for("initiatives.detail", key=initiative.path_key)
    return f"/initiatieven/{initiative.path_key}"


@bp.app_template_global()
def public_initiative(initiative_id: int | None) -> Initiative | None:
    """The initiative a wijkbudget application was made from, when it is public (for the link
    on the application's page)."""
    if initiative_id is None:
        return None
    initiative = db.session.get(Initiative, initiative_id)
    return initiative if initiative is not None and initiative.is_public else None


def districts_by_borough() -> list[tuple[Borough, list[District]]]:
    boroughs = db.session.scalars(
        select(Borough).options(selectinload(Borough.districts)).order_by(Borough.name)
    ).all()
    return [(borough, list(borough.districts)) for borough in boroughs if borough.districts]


def initial_data(initiative: Initiative) -> dict[str, Any]:
    return {
        "title": initiative.title,
        "pitch": initiative.pitch,
        "description": initiative.description,
        "contact_note": initiative.contact_note,
        "citywide": initiative.citywide,
        "districts": [str(link.district_id) for link in initiative.district_links],
        "themes": initiative.themes,
        "help_wanted": initiative.help_wanted,
    }


def make_form(
    initiative: Initiative, groups: list[tuple[Borough, list[District]]], posted: bool
) -> InitiativeForm:
    if posted:
        form = InitiativeForm(formdata=request.form)
    else:
        form = InitiativeForm(formdata=None, data=initial_data(initiative))
    form.districts.choices = [
        (str(district.id), district.name) for _borough, items in groups for district in items
    ]
    return form


def values_from(form: InitiativeForm) -> drafting.DraftValues:
    """What may be stored: every field without an error."""
    errors = form.errors
    values = drafting.DraftValues(citywide=bool(form.citywide.data))
    for name in ("title", "pitch", "description", "contact_note"):
        if name not in errors:
            setattr(values, name, getattr(form, name).data or "")
    if "districts" not in errors:
        values.district_ids = [int(value) for value in form.districts.data or []]
    if "themes" not in errors:
        values.themes = list(form.themes.data or [])
    if "help_wanted" not in errors:
        values.help_wanted = list(form.help_wanted.data or [])
    return values


def edit_context(
    initiative: Initiative,
    form: InitiativeForm,
    groups: list[tuple[Borough, list[District]]],
    photo_form: PhotoForm | None = None,
) -> dict[str, Any]:
    return {
        "initiative": initiative,
        "form": form,
        "groups": groups,
        "photo_form": photo_form or PhotoForm(formdata=None, prefix=PHOTO_PREFIX),
        "theme_labels": THEME_LABELS,
        "help_labels": HELP_LABELS,
        "state_labels": STATE_LABELS,
        "max_photos": MAX_PHOTOS,
    }


def photo_refusal(error: uploads.UploadRefused) -> str:
    if error.code in ("wrong_type", "unsafe_pdf"):
        return _("Dit is geen foto die wij kunnen tonen. Kies een JPG- of PNG-bestand.")
    return uploads.message(error)


def store_photo(field: Any, file: Any) -> uploads.StoredFile | None:
    """Store one chosen photo (JPEG or PNG, checked by its content and size); on a refusal the
    field gets the message and None is returned."""
    try:
        stored = uploads.store(file.stream, file.filename, root=upload_root())
    except uploads.UploadRefused as error:
        field.errors = [*field.errors, photo_refusal(error)]
        return None
    if stored.content_type not in drafting.PHOTO_TYPES:
        uploads.delete(stored.storage_key, upload_root())
        field.errors = [
            *field.errors,
            _("Dit is geen foto die wij kunnen tonen. Kies een JPG- of PNG-bestand."),
        ]
        return None
    return stored


def forget(keys: list[str]) -> None:
    for key in keys:
        uploads.delete(key, upload_root())


# --- Mijn initiatieven ---------------------------------------------------------------------------


@bp.route("/mijn-initiatieven")
@login_required
def mine() -> Response:
    """Mijn initiatieven: the user's initiatives and drafts with their status."""
    page = db.paginate(
        select(Initiative)
        .where(Initiative.initiator_id == current_user.id)
        .order_by(Initiative.updated_at.desc(), Initiative.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render(
        "initiatives/mine.html",
        page=page,
        new_form=NewInitiativeForm(formdata=None, creation_key=uuid.uuid4().hex),
        may_start=current_user.has_role("resident"),
        state_labels=STATE_LABELS,
    )


@bp.route("/initiatieven/nieuw", methods=["POST"])
@roles_required("resident")
def new() -> Response:
    """Start a new initiative. The form's key makes a double click create one draft."""
    form = NewInitiativeForm()
    key = form.creation_key.data if form.validate_on_submit() and form.creation_key.data else None
    key = (key or uuid.uuid4().hex)[:64]
    try:
        initiative = services.create_draft(current_user, key)
        db.session.commit()
    except IntegrityError:
        # The same click arrived twice at the same moment: the other request made the draft.
        db.session.rollback()
        initiative = db.session.scalar(
            select(Initiative).where(
                Initiative.initiator_id == current_user.id, Initiative.creation_key == key
            )
        )
        if initiative is None:
            raise
    return redirect_after_post(url_for("initiatives.edit", initiative_id=initiative.id))


# --- the form ------------------------------------------------------------------------------------


@bp.route("/mijn-initiatieven/<int:initiative_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit(initiative_id: int) -> Response:
    """The initiative's form. Saving keeps everything that could be stored, also when something
    else is wrong; what is wrong is shown next to its field and in a summary."""
    posted = request.method == "POST"
    initiative = own_initiative(initiative_id, for_update=posted)
    if not permissions.can_edit(current_user, initiative):
        return not_editable(initiative)
    groups = districts_by_borough()
    form = make_form(initiative, groups, posted)
    if not posted:
        return render("initiatives/edit.html", **edit_context(initiative, form, groups))
    valid = form.validate()
    drafting.save_draft(initiative, current_user, values_from(form))
    db.session.commit()
    if not valid:
        return render("initiatives/edit.html", status=422, **edit_context(initiative, form, groups))
    if "to_submit" in request.form:
        return redirect_after_post(url_for("initiatives.submit", initiative_id=initiative.id))
    flash(_("Opgeslagen."), "success")
    return redirect_after_post(url_for("initiatives.edit", initiative_id=initiative.id))


@bp.route("/mijn-initiatieven/<int:initiative_id>/fotos", methods=["POST"])
@login_required
def add_photo(initiative_id: int) -> Response:
    """Add a photo (JPEG or PNG) with a short description for who cannot see it."""
    initiative = own_initiative(initiative_id, for_update=True)
    if not permissions.can_edit(current_user, initiative):
        return not_editable(initiative)
    form = PhotoForm(prefix=PHOTO_PREFIX)
    valid = form.validate_on_submit()
    file = form.photo.data
    if not file or not getattr(file, "filename", ""):
        form.photo.errors = [*form.photo.errors, _("Kies een foto.")]
    elif drafting.photo_count(initiative) >= MAX_PHOTOS:
        form.photo.errors = [
            *form.photo.errors,
            _(
                "U kunt hoogstens %(limit)s foto's toevoegen. Verwijder eerst een andere foto.",
                limit=MAX_PHOTOS,
            ),
        ]
    elif valid:
        stored = store_photo(form.photo, file)
        if stored is not None:
            drafting.add_photo(initiative, current_user, stored, form.description.data)
            db.session.commit()
            flash(_("De foto is toegevoegd. U ziet hem hieronder zodra hij klaar is."), "success")
            return redirect_after_post(
                url_for("initiatives.edit", initiative_id=initiative.id) + "#fotos"
            )
    if file and getattr(file, "filename", "") and not form.photo.errors:
        form.photo.errors = [*form.photo.errors, _("Kies de foto opnieuw.")]
    groups = districts_by_borough()
    return render(
        "initiatives/edit.html",
        status=422,
        **edit_context(initiative, make_form(initiative, groups, False), groups, form),
    )


@bp.route(
    "/mijn-initiatieven/<int:initiative_id>/fotos/<int:photo_id>/verwijderen",
    methods=["GET", "POST"],
)
@login_required
def delete_photo(initiative_id: int, photo_id: int) -> Response:
    """Remove a photo, after a confirmation."""
    initiative = own_initiative(initiative_id, for_update=request.method == "POST")
    if not permissions.can_edit(current_user, initiative):
        return not_editable(initiative)
    photo = next((p for p in initiative.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    if request.method == "POST":
        keys = drafting.delete_photo(initiative, photo, current_user)
        db.session.commit()
        forget(keys)
        flash(_("De foto is verwijderd."), "success")
        return redirect_after_post(
            url_for("initiatives.edit", initiative_id=initiative.id) + "#fotos"
        )
    return render("initiatives/confirm_delete_photo.html", initiative=initiative, photo=photo)


@bp.route("/initiatieven/<int:initiative_id>/fotos/<int:photo_id>/<any(klein,groot):size>")
def photo(initiative_id: int, photo_id: int, size: str) -> Response:
    """A photo of an initiative or of its news, for whoever may see the initiative; only once
    its metadata is removed."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None or not permissions.can_view(current_user, initiative):
        abort(404)
    found = db.session.get(InitiativePhoto, photo_id)
    if found is None or found.initiative_id != initiative.id or not found.ready:
        abort(404)
    if size == "klein":
        if not found.thumbnail_key:
            abort(404)
        key, content_type, name = found.thumbnail_key, uploads.JPEG, f"klein-{found.display_name}"
    else:
        key, content_type, name = found.storage_key, found.content_type, found.display_name
    return uploads.send_stored(key, name, content_type, root=upload_root(), as_attachment=False)


# --- submitting and discarding -------------------------------------------------------------------


@bp.route("/mijn-initiatieven/<int:initiative_id>/indienen", methods=["GET", "POST"])
@login_required
def submit(initiative_id: int) -> Response:
    """Check what is filled in, then hand the initiative to the municipality."""
    posted = request.method == "POST"
    initiative = own_initiative(initiative_id, for_update=posted)
    if not permissions.can_edit(current_user, initiative):
        return not_editable(initiative)
    if posted:
        try:
            drafting.submit(initiative, current_user)
        except drafting.Incomplete as refused:
            db.session.rollback()
            return render(
                "initiatives/confirm_submit.html",
                status=422,
                **submit_context(load_initiative(initiative_id), refused.missing),
            )
        except workflow.WorkflowError:
            db.session.rollback()
            return not_editable(load_initiative(initiative_id))
        db.session.commit()
        flash(
            _(
                "Uw initiatief is ingediend. De gemeente bekijkt het uiterlijk %(date)s.",
                date=format_date(initiative.review_due, "d MMMM y"),
            ),
            "success",
        )
        return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
    return render(
        "initiatives/confirm_submit.html",
        **submit_context(initiative, drafting.missing_for_submission(initiative)),
    )


def submit_context(initiative: Initiative, missing: list[str]) -> dict[str, Any]:
    return {
        "initiative": initiative,
        "missing": [MISSING_LABELS[code] for code in missing],
        "theme_labels": THEME_LABELS,
        "help_labels": HELP_LABELS,
    }


@bp.route("/mijn-initiatieven/<int:initiative_id>/verwijderen", methods=["GET", "POST"])
@login_required
def discard(initiative_id: int) -> Response:
    """Throw a draft away, after a confirmation."""
    initiative = own_initiative(initiative_id, for_update=request.method == "POST")
    if initiative.state != "draft":
        return not_editable(initiative)
    if request.method == "POST":
        keys = drafting.discard_draft(initiative, current_user)
        db.session.commit()
        forget(keys)
        flash(_("Het concept is verwijderd."), "success")
        return redirect_after_post(url_for("initiatives.mine"))
    return render("initiatives/confirm_discard.html", initiative=initiative)


# --- after publication: news, offers of help, messages -------------------------------------------


def reply_form_for(target: str, name: str, posted: ReplyForm | None) -> ReplyForm:
    """One answer form per offer or message, each with its own field id and label."""
    if posted is not None and posted.answers.data == target:
        form = posted
    else:
        form = ReplyForm(formdata=None, answers=target)
    form.body.id = f"antwoord-{target}"
    form.body.label.text = _("Uw antwoord aan %(name)s", name=name)
    return form


def manage_context(
    initiative: Initiative,
    *,
    update_form: UpdateForm | None = None,
    reply_form: ReplyForm | None = None,
) -> dict[str, Any]:
    me = current_user.id
    offers = db.paginate(
        select(HelpOffer)
        .where(HelpOffer.initiative_id == initiative.id)
        .order_by(HelpOffer.id.desc())
        .options(joinedload(HelpOffer.user), selectinload(HelpOffer.messages)),
        page=request.args.get("page", 1, type=int),
        per_page=OFFERS_PER_PAGE,
        error_out=False,
    )
    messages = db.paginate(
        select(InitiativeMessage)
        .where(
            InitiativeMessage.initiative_id == initiative.id,
            InitiativeMessage.help_offer_id.is_(None),
            or_(InitiativeMessage.recipient_id == me, InitiativeMessage.sender_id == me),
        )
        .order_by(InitiativeMessage.id.desc())
        .options(joinedload(InitiativeMessage.sender), joinedload(InitiativeMessage.recipient)),
        page=request.args.get("berichten", 1, type=int),
        per_page=MESSAGES_PER_PAGE,
        error_out=False,
    )
    reply_forms = {}
    for offer in offers.items:
        target = f"offer-{offer.id}"
        reply_forms[target] = reply_form_for(target, offer.user.name, reply_form)
    for message in messages.items:
        if message.recipient_id == me and message.sender_id != me:
            target = f"message-{message.id}"
            reply_forms[target] = reply_form_for(target, message.sender.name, reply_form)
    news = db.session.scalars(
        select(InitiativeUpdate)
        .where(InitiativeUpdate.initiative_id == initiative.id)
        .order_by(InitiativeUpdate.id.desc())
        .limit(RECENT_NEWS)
        .options(selectinload(InitiativeUpdate.photos))
    ).all()
    return {
        "initiative": initiative,
        "state_labels": STATE_LABELS,
        "state_explanations": STATE_EXPLANATIONS,
        "milestone_labels": MILESTONE_LABELS,
        "application_state_labels": APPLICATION_STATE_LABELS,
        "status_actions": [
            action
            for action in workflow.allowed_initiative_actions(current_user, initiative)
            if action in services.PUBLIC_STATUS_ACTIONS and action != "publish"
        ],
        "help_labels": HELP_LABELS,
        "offers": offers,
        "messages": messages,
        "reply_forms": reply_forms,
        "failed_reply": reply_form if reply_form is not None and reply_form.errors else None,
        "news": news,
        "update_form": update_form or UpdateForm(formdata=None),
        "can_edit": permissions.can_edit(current_user, initiative),
        "can_post_update": permissions.can_post_update(current_user, initiative),
        "application": drafting.application_for(initiative, current_user),
        "may_apply": initiative.is_public and current_user.has_role("resident"),
    }


@bp.route("/mijn-initiatieven/<int:initiative_id>")
@login_required
def manage(initiative_id: int) -> Response:
    """The initiator's page of an initiative: its status, and after publication the news,
    offers of help and messages, each with an answer form."""
    initiative = own_initiative(initiative_id)
    return render("initiatives/responses.html", **manage_context(initiative))


@bp.route("/mijn-initiatieven/<int:initiative_id>/nieuws", methods=["POST"])
@login_required
def post_update(initiative_id: int) -> Response:
    """News on the public timeline: text and at most 3 photos, each with a description."""
    initiative = own_initiative(initiative_id, for_update=True)
    if not permissions.can_post_update(current_user, initiative):
        flash(_("U kunt nieuws plaatsen zodra uw initiatief online staat."), "info")
        return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
    form = UpdateForm()
    chosen = form.chosen_photos()
    if form.validate_on_submit():
        stored: list[tuple[uploads.StoredFile, str]] = []
        for field, file, description in chosen:
            kept = store_photo(field, file)
            if kept is None:
                break
            stored.append((kept, description.data))
        else:
            entry = drafting.post_update(initiative, current_user, form.body.data)
            for position, (kept, description) in enumerate(stored):
                drafting.add_photo(
                    initiative, current_user, kept, description, update=entry, position=position
                )
            db.session.commit()
            flash(_("Uw nieuws staat op de tijdlijn van uw initiatief."), "success")
            return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
        forget([kept.storage_key for kept, _description in stored])
    if chosen:
        field = chosen[0][0]
        field.errors = [*field.errors, _("Wat u typte staat er nog. Kies de foto's opnieuw.")]
    return render(
        "initiatives/responses.html", status=422, **manage_context(initiative, update_form=form)
    )


@bp.route("/mijn-initiatieven/<int:initiative_id>/antwoord", methods=["POST"])
@login_required
def reply(initiative_id: int) -> Response:
    """Answer an offer of help or a message; the portal passes it on."""
    initiative = own_initiative(initiative_id)
    form = ReplyForm()
    target = form.target()
    offer = message = None
    if target is not None and target[0] == "offer":
        offer = db.session.get(HelpOffer, target[1])
        if offer is None or offer.initiative_id != initiative.id:
            abort(404)
    elif target is not None:
        message = db.session.get(InitiativeMessage, target[1])
        if (
            message is None
            or message.initiative_id != initiative.id
            or message.recipient_id != current_user.id
        ):
            abort(404)
    else:
        abort(404)
    if form.validate_on_submit():
        try:
            sent = drafting.reply(
                initiative, current_user, form.body.data, offer=offer, message=message
            )
        except InitiativeRefused:
            db.session.rollback()
            flash(
                _("Dit antwoord kunnen wij niet doorsturen. Die persoon is er niet meer."),
                "error",
            )
            return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative_id))
        name = sent.recipient.name
        db.session.commit()
        flash(_("Uw antwoord is doorgestuurd naar %(name)s.", name=name), "success")
        return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
    return render(
        "initiatives/responses.html", status=422, **manage_context(initiative, reply_form=form)
    )


# --- from initiative to wijkbudget ---------------------------------------------------------------


@bp.route("/mijn-initiatieven/<int:initiative_id>/wijkbudget", methods=["POST"])
@login_required
def start_application(initiative_id: int) -> Response:
    """A wijkbudget application filled in from the initiative (once; the second time it opens
    the first)."""
    initiative = own_initiative(initiative_id, for_update=True)
    if not initiative.is_public or not current_user.has_role("resident"):
        flash(_("U kunt wijkbudget aanvragen zodra uw initiatief online staat."), "info")
        return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
    try:
        application = drafting.start_application(initiative, current_user, upload_root())
    except InitiativeRefused:
        flash(
            _(
                "Om wijkbudget aan te vragen moet uw adres in Enschede bij uw account staan. "
                "Vul het in bij Mijn account."
            ),
            "error",
        )
        return redirect_after_post(url_for("initiatives.manage", initiative_id=initiative.id))
    db.session.commit()
    if application.is_draft:
        return redirect_after_post(
            url_for("applications.edit", application_id=application.id, section="activiteit")
        )
    return redirect_after_post(url_for("applications.detail", application_id=application.id))
