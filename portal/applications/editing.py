"""Filling in an application, section by section. A draft never gets lost: every section saves
on "save" and on moving to another section; with htmx it also saves while the resident types;
and a post that arrives after the session expired is kept and applied after logging in."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from portal import uploads
from portal.accounts import tokens
from portal.applications import bp, permissions, services, workflow
from portal.applications.forms import (
    ActivityForm,
    AttachmentForm,
    BudgetForm,
    InviteForm,
    NewApplicationForm,
    PaymentForm,
    SubmitForm,
)
from portal.applications.labels import (
    ALLOWED_CATEGORY_LABELS,
    CATEGORY_LABELS,
    EXCLUDED_CATEGORY_LABELS,
    KADER_LABELS,
)
from portal.applications.messages import problem_message
from portal.applications.models import AdviceRequest, Application, Attachment
from portal.districts.services import normalise_postcode
from portal.extensions import db, login_manager
from portal.rulesets.services import ruleset_in_force
from portal.timeutil import local_today, utcnow
from portal.web import CSRF_RESCUE, redirect_after_post, render, roles_required

SECTIONS: list[tuple[str, Any]] = [
    ("activiteit", _l("Activiteit")),
    ("begroting", _l("Begroting")),
    ("betaling", _l("Betaling")),
    ("bijlagen", _l("Bijlagen")),
    ("draagvlak", _l("Steun van buren")),
    ("indienen", _l("Controleren en indienen")),
]
SECTION_KEYS = [key for key, _label in SECTIONS]
FORMS = {"activiteit": ActivityForm, "begroting": BudgetForm, "betaling": PaymentForm}
STASH_KEY = "unsaved_draft"
# Sections whose typed post is kept when the session expired (bijlagen and draagvlak hold no text).
STASHABLE = {*FORMS, "indienen"}
CHECKED_KEY = "checked_application"


def attach_problems(form: Any, problems: list[services.Problem]) -> list[tuple[Any, str]]:
    """Put each problem's message on its field (when the field is on this form) and return all
    of them for the summary at the top."""
    fields = {field.id: field for field in form}
    for field in list(fields.values()):
        for entry in getattr(field, "entries", []):
            fields.update({sub.id: sub for sub in entry.form})
    listed = []
    for problem in problems:
        message = problem_message(problem)
        field = fields.get(problem.field)
        if field is not None and message not in field.errors:
            field.errors = [*field.errors, message]
        listed.append((problem, message))
    return listed


# Every collection of an application, for the pages that may show or change any of them.
EVERYTHING: tuple[Any, ...] = (
    selectinload(Application.lines),
    selectinload(Application.attachments),
    selectinload(Application.endorsements),
    selectinload(Application.info_requests),
    selectinload(Application.advice_requests).joinedload(AdviceRequest.council),
    selectinload(Application.intents),
    selectinload(Application.decisions),
    selectinload(Application.objections),
    selectinload(Application.settlements),
    selectinload(Application.report),
)
# What saving one section of a draft reads besides the application's own columns: the budget
# lines that "begroting" replaces; the other sections write columns only.
SAVE_OPTIONS: dict[str, tuple[Any, ...]] = {"begroting": (selectinload(Application.lines),)}


def load_application(application_id: int, options: tuple[Any, ...] = EVERYTHING) -> Application:
    """The application with the collections ``options`` load eagerly (every one by default; a
    collection left out is loaded when first used)."""
    query = select(Application).where(Application.id == application_id)
    if request.method == "POST":
        # Saves of one draft (autosave, "save", a second tab) take turns: each replaces the
        # budget lines, and two at once would both delete the old lines and both insert.
        query = query.with_for_update(of=Application)
    application = db.session.execute(query.options(*options)).unique().scalar_one_or_none()
    if application is None:
        abort(404)
    return application


def load_application_row(application_id: int, options: tuple[Any, ...], *columns: Any) -> Any:
    """For a page: the application with ``options`` and, in the same query, ``columns`` (such as
    a count): the row (application, *columns); 404 when there is none."""
    row = (
        db.session.execute(
            select(Application, *columns).where(Application.id == application_id).options(*options)
        )
        .unique()
        .first()
    )
    if row is None:
        abort(404)
    return row


def own_draft_or_redirect(
    application_id: int, options: tuple[Any, ...] = EVERYTHING
) -> Application | Response:
    application = load_application(application_id, options)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    if not application.is_draft:
        return redirect(url_for("applications.detail", application_id=application.id))  # type: ignore[return-value]
    return application


@bp.route("/aanvragen/nieuw", methods=["POST"])
@roles_required("resident")
def new() -> Response:
    """Start a new application. The form's key makes a double click create one draft."""
    form = NewApplicationForm()
    key = form.creation_key.data if form.validate_on_submit() and form.creation_key.data else None
    if current_user.district_id is None:
        abort(403)
    application = services.create_draft(current_user, key or uuid.uuid4().hex)
    db.session.commit()
    return redirect_after_post(
        url_for("applications.edit", application_id=application.id, section="activiteit")
    )


def make_form(section: str, application: Application, formdata: MultiDict | None) -> Any:
    if section == "activiteit":
        form = ActivityForm(formdata=formdata, obj=None if formdata else application)
        if formdata is None:
            form.kaders.data = list(application.kaders or [])
        return form
    if section == "begroting":
        if formdata is not None:
            return BudgetForm(formdata=formdata)
        rows = [
            {
                "description": line.description,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price_cents,
            }
            for line in application.lines
        ] or [{}]
        return BudgetForm(
            formdata=None,
            data={
                "lines": rows,
                "other_funding": application.other_funding_cents,
                "other_funding_description": application.other_funding_description,
            },
        )
    if section == "betaling":
        return PaymentForm(formdata=formdata, obj=None if formdata else application)
    if section == "indienen":
        return SubmitForm(formdata=formdata, obj=None if formdata else application)
    return None


def save_section(section: str, form: Any, application: Application) -> bool:
    """Store every field that could be read; return True when everything was valid."""
    valid = form.validate()
    errors = form.errors
    if section == "activiteit":
        for name in (
            "organisation_name",
            "applicant_role",
            "title",
            "description",
            "location",
            "own_contribution",
            "expected_participants",
            "volunteers",
            "start_date",
            "end_date",
        ):
            if name not in errors:
                setattr(application, name, getattr(form, name).data)
        application.for_organisation = bool(form.for_organisation.data)
        if "kvk_number" not in errors:
            application.kvk_number = (form.kvk_number.data or "").replace(" ", "")[:8] or None
        if "organisation_postcode" not in errors:
            application.organisation_postcode = (
                normalise_postcode(form.organisation_postcode.data)[:6] or None
            )
        if "kaders" not in errors:
            application.kaders = [k for k in form.kaders.data or [] if k in KADER_LABELS]
    elif section == "begroting":
        rows = []
        for entry in form.lines.entries:
            line = entry.form
            rows.append(
                {
                    "description": line.description.data,
                    "category": line.category.data if line.category.data in CATEGORY_LABELS else "",
                    "quantity": line.quantity.data or 0,
                    "unit_price_cents": line.unit_price.cents or 0,
                }
            )
        if form.other_funding.cents is not None:
            application.other_funding_cents = form.other_funding.cents
        application.other_funding_description = form.other_funding_description.data
        services.set_lines(application, rows)
    elif section == "betaling":
        application.account_holder = form.account_holder.data
        raw = form.iban.data or ""
        application.iban = services.normalise_iban(raw) or raw.replace(" ", "").upper()[:34] or None
        if raw and services.normalise_iban(raw) is None:
            form.iban.errors = [
                *form.iban.errors,
                _("Dit rekeningnummer klopt niet. Een IBAN ziet eruit als NL91 ABNA 0417 1643 00."),
            ]
            valid = False
    elif section == "indienen":
        application.declaration = bool(form.declaration.data)
    application.updated_at = utcnow()
    return bool(valid)


def clear_errors(form: Any) -> None:
    for field in form:
        field.errors = []
        for entry in getattr(field, "entries", []):
            for subfield in entry.form:
                subfield.errors = []


def upload_root() -> Path:
    return Path(current_app.config["PORTAL_UPLOAD_DIR"])


def store_chosen(field: Any) -> list[uploads.StoredFile] | None:
    """Store the files chosen in a multiple-file field, all or none. On a refusal the field gets
    the message (and that what was typed is kept) and None is returned."""
    chosen = [f for f in field.data or [] if f and f.filename]
    stored: list[uploads.StoredFile] = []
    try:
        uploads.check_count(0, len(chosen))
        for file in chosen:
            stored.append(uploads.store(file.stream, file.filename, root=upload_root()))
    except uploads.UploadRefused as error:
        forget_stored(stored)
        field.errors = [
            uploads.message(error),
            _("Wat u typte staat er nog. Kies de bestanden opnieuw."),
        ]
        return None
    return stored


def forget_stored(stored: list[uploads.StoredFile]) -> None:
    for kept in stored:
        uploads.delete(kept.storage_key, upload_root())


def stash_unsaved(application_id: int, section: str) -> bool:
    """The session expired while typing: keep the post, to apply it after login.

    Only a post that carries the draft token of this application is kept, and only for the user
    the token names, so that no one can plant text in someone else's draft.
    """
    try:
        user_id, token_application_id = tokens.read_draft_token(request.form.get("draft_token", ""))
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return False
    if token_application_id != application_id:
        return False
    form = request.form.to_dict(flat=False)
    form.pop("csrf_token", None)
    form.pop("draft_token", None)
    session[STASH_KEY] = {
        "application_id": application_id,
        "user_id": user_id,
        "section": section,
        "form": form,
    }
    return True


def apply_stash(application: Application) -> bool:
    stash = session.get(STASH_KEY)
    if not stash or stash.get("application_id") != application.id:
        return False
    session.pop(STASH_KEY, None)
    section = stash["section"]
    if stash.get("user_id") != current_user.id or section not in STASHABLE:
        return False
    form = make_form(
        section,
        application,
        MultiDict([(key, value) for key, values in stash["form"].items() for value in values]),
    )
    form.meta.csrf = False
    save_section(section, form, application)
    db.session.commit()
    return True


def rescue_expired_post() -> Response | None:
    """A draft's post failed the CSRF check because the session expired: keep what was typed.

    Without a valid draft token the answer stays the usual 400.
    """
    args = request.view_args or {}
    application_id, section = args.get("application_id"), args.get("section")
    if not isinstance(application_id, int) or section not in STASHABLE:
        return None
    if not stash_unsaved(application_id, section):
        return None
    edit_url = url_for("applications.edit", application_id=application_id, section=section)
    if request.endpoint == "applications.autosave":
        return expired_autosave(application_id, section)
    if current_user.is_authenticated:
        # Signed in again in another tab: the stash is applied when the section opens.
        return redirect_after_post(edit_url)
    flash(_("Uw sessie is verlopen. Log opnieuw in, dan bewaren wij wat u typte."), "info")
    return redirect_after_post(url_for("accounts.login", next=edit_url))


def expired_autosave(application_id: int, section: str) -> Response:
    return render(
        "applications/_autosave.html",
        expired=True,
        login_url=url_for(
            "accounts.login",
            next=url_for("applications.edit", application_id=application_id, section=section),
        ),
    )


CSRF_RESCUE["applications.edit"] = rescue_expired_post
CSRF_RESCUE["applications.autosave"] = rescue_expired_post


def edit_context(application: Application, section: str, form: Any) -> dict[str, Any]:
    ruleset = ruleset_in_force()
    context: dict[str, Any] = {
        "application": application,
        "section": section,
        "sections": SECTIONS,
        "form": form,
        "ruleset": ruleset,
        "kader_labels": KADER_LABELS,
        "category_labels": CATEGORY_LABELS,
        "allowed_categories": ALLOWED_CATEGORY_LABELS,
        "excluded_categories": EXCLUDED_CATEGORY_LABELS,
        "draft_token": tokens.make_draft_token(current_user.id, application.id),
    }
    if section == "bijlagen":
        context["attachment_form"] = context.get("attachment_form") or AttachmentForm()
    if section == "draagvlak":
        context["invite_form"] = InviteForm()
        context["counted"] = services.counted_endorsements(application)
    if section in FORMS and session.get(CHECKED_KEY) == application.id and form is not None:
        # After a failed submission, every unmet rule also shows next to its field.
        problems = services.eligibility(application, ruleset, local_today())
        context["problems"] = attach_problems(form, [p for p in problems if p.section == section])
    if section == "indienen":
        problems = services.eligibility(application, ruleset, local_today())
        if session.get(CHECKED_KEY) == application.id and form is not None:
            attach_problems(form, [p for p in problems if p.section == "indienen"])
        context["problems"] = [(p, problem_message(p)) for p in problems]
        context["remaining"] = services.district_remaining_cents(application, local_today().year)
        context["counted"] = services.counted_endorsements(application)
    return context


@bp.route("/aanvragen/<int:application_id>/bewerken/<section>", methods=["GET", "POST"])
def edit(application_id: int, section: str) -> Response:
    """One section of the application form."""
    if section not in SECTION_KEYS:
        abort(404)
    if not current_user.is_authenticated:
        if request.method == "POST":
            stash_unsaved(application_id, section)
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    posted = request.method == "POST"
    # A save reads only what its section writes; the page shows everything.
    loaded = own_draft_or_redirect(
        application_id, SAVE_OPTIONS.get(section, ()) if posted else EVERYTHING
    )
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    if not posted and apply_stash(application):
        flash(_("U was uitgelogd. Wat u had getypt, hebben wij bewaard."), "info")
    form = make_form(section, application, request.form if posted else None)
    if posted and form is None:
        target, stays = target_after_save(application_id, section)
        if stays:
            flash(_("Opgeslagen."), "success")
        return redirect_after_post(target)
    if posted and form is not None:
        if section == "begroting" and ("add_line" in request.form or "remove_line" in request.form):
            return change_lines(application, form)
        valid = save_section(section, form, application)
        if valid:
            commit_keeping_loaded()
            target, stays = target_after_save(application_id, section)
            if stays:
                flash(_("Opgeslagen."), "success")
            return redirect_after_post(target)
        db.session.commit()
        return render(
            "applications/edit.html", status=422, **edit_context(application, section, form)
        )
    return render("applications/edit.html", **edit_context(application, section, form))


def commit_keeping_loaded() -> None:
    """Commit a save without expiring the loaded objects. What follows only answers (a redirect,
    the time of the autosave) from values this request just wrote or read, and the signed-in
    user (read by the language and the after-request hooks) would otherwise be loaded again,
    and the application refreshed."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def target_after_save(application_id: int, section: str) -> tuple[str, bool]:
    """The section to show after a save (the one the button asked for), and whether that is the
    same section (then the page says it was saved)."""
    index = SECTION_KEYS.index(section)
    stays = False
    if "previous" in request.form and index > 0:
        section = SECTION_KEYS[index - 1]
    elif "next" in request.form and index < len(SECTION_KEYS) - 1:
        section = SECTION_KEYS[index + 1]
    elif "goto" in request.form and request.form["goto"] in SECTION_KEYS:
        section = request.form["goto"]
    else:
        stays = True
    return url_for("applications.edit", application_id=application_id, section=section), stays


def change_lines(application: Application, form: BudgetForm) -> Response:
    """Add or remove a budget line (htmx swaps the budget; without JavaScript the page reloads)."""
    if "add_line" in request.form and len(form.lines.entries) < 50:
        form.lines.append_entry()
    if "remove_line" in request.form:
        try:
            index = int(request.form["remove_line"])
        except ValueError:
            index = -1
        if 0 <= index < len(form.lines.entries):
            del form.lines.entries[index]
            form.lines.last_index = max(len(form.lines.entries) - 1, 0)
            for position, entry in enumerate(form.lines.entries):
                for subfield in entry.form:
                    subfield.id = subfield.name = f"lines-{position}-{subfield.short_name}"
                entry.id = entry.name = f"lines-{position}"
        if not form.lines.entries:
            form.lines.append_entry()
    save_section("begroting", form, application)
    clear_errors(form)  # adding or removing a line is not the moment to judge the others
    db.session.commit()
    return render(
        "applications/edit.html",
        "applications/_budget.html",
        **edit_context(application, "begroting", form),
    )


@bp.route("/aanvragen/<int:application_id>/bewerken/<section>/autosave", methods=["POST"])
def autosave(application_id: int, section: str) -> Response:
    """htmx: save while typing, answer with the time it was saved."""
    if section not in FORMS:
        abort(404)
    if not current_user.is_authenticated:
        stash_unsaved(application_id, section)
        return expired_autosave(application_id, section)
    loaded = own_draft_or_redirect(application_id, SAVE_OPTIONS.get(section, ()))
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    form = make_form(section, application, request.form)
    save_section(section, form, application)
    commit_keeping_loaded()
    return render(
        "applications/_autosave.html",
        expired=False,
        saved_at=format_datetime(utcnow(), "HH:mm"),
        application=application,
        section=section,
    )


@bp.route("/aanvragen/<int:application_id>/bijlagen", methods=["POST"])
@roles_required("resident")
def upload(application_id: int) -> Response:
    """Add an attachment: PDF, JPEG or PNG, checked by content, at most 10 MB and 10 files."""
    loaded = own_draft_or_redirect(application_id)
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    form = AttachmentForm()
    if form.validate_on_submit():
        file = form.file.data
        if not file or not file.filename:
            form.file.errors.append(_("Kies een bestand."))
        else:
            try:
                uploads.check_count(len(application.attachments), 1)
                stored = uploads.store(file.stream, file.filename, root=upload_root())
            except uploads.UploadRefused as error:
                form.file.errors.append(uploads.message(error))
            else:
                application.attachments.append(
                    Attachment(
                        kind=form.kind.data,
                        storage_key=stored.storage_key,
                        display_name=stored.display_name,
                        content_type=stored.content_type,
                        size=stored.size,
                        sha256=stored.sha256,
                        uploaded_by_id=current_user.id,
                    )
                )
                db.session.commit()
                flash(_("Het bestand %(name)s is toegevoegd.", name=stored.display_name), "success")
                return redirect_after_post(
                    url_for("applications.edit", application_id=application.id, section="bijlagen")
                )
    context = edit_context(application, "bijlagen", None)
    context["attachment_form"] = form
    return render("applications/edit.html", status=422, **context)


@bp.route(
    "/aanvragen/<int:application_id>/bijlagen/<int:attachment_id>/verwijderen",
    methods=["GET", "POST"],
)
@roles_required("resident")
def delete_attachment(application_id: int, attachment_id: int) -> Response:
    """Remove an attachment, after a confirmation."""
    loaded = own_draft_or_redirect(application_id)
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    attachment = next((a for a in application.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    if request.method == "POST":
        key = attachment.storage_key
        application.attachments.remove(attachment)
        db.session.commit()
        uploads.delete(key, upload_root())
        flash(_("Het bestand is verwijderd."), "success")
        return redirect_after_post(
            url_for("applications.edit", application_id=application.id, section="bijlagen")
        )
    return render(
        "applications/confirm_delete_attachment.html",
        application=application,
        attachment=attachment,
    )


@bp.route("/aanvragen/<int:application_id>/indienen", methods=["POST"])
@roles_required("resident")
def submit(application_id: int) -> Response:
    """Submit: every rule checked, a reference, a deadline, a receipt. Posting it again (double
    click, reload, a second tab) leads to the same, single application."""
    application = load_application(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    if not application.is_draft:
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    form = SubmitForm()
    if form.validate_on_submit():
        application.declaration = bool(form.declaration.data)
    try:
        services.submit(application, current_user)
    except services.NotEligible:
        db.session.commit()  # keep the declaration tick
        session[CHECKED_KEY] = application.id
        return render(
            "applications/edit.html", status=422, **edit_context(application, "indienen", form)
        )
    except workflow.InvalidTransition:
        db.session.rollback()
        return redirect_after_post(url_for("applications.detail", application_id=application_id))
    db.session.commit()
    flash(
        _(
            "Uw aanvraag is ingediend. Het kenmerk is %(reference)s.",
            reference=application.reference,
        ),
        "success",
    )
    return redirect_after_post(url_for("applications.detail", application_id=application.id))


@bp.route("/aanvragen/<int:application_id>/verwijderen", methods=["GET", "POST"])
@roles_required("resident")
def discard(application_id: int) -> Response:
    """Throw a draft away, after a confirmation."""
    loaded = own_draft_or_redirect(application_id)
    if isinstance(loaded, Response):
        return loaded
    application = loaded
    if request.method == "POST":
        keys = [a.storage_key for a in application.attachments]
        services.discard_draft(application, current_user)
        db.session.commit()
        for key in keys:
            uploads.delete(key, upload_root())
        flash(_("Het concept is verwijderd."), "success")
        return redirect_after_post(url_for("applications.mine"))
    return render("applications/confirm_discard.html", application=application)
