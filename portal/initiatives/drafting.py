"""The initiator's verbs: fill in a draft, add and remove photos, submit it for the check, throw
a draft away, post news on the timeline, answer offers of help and messages, and turn the
initiative into a wijkbudget application. Like every service: flush, audit, record
notifications and jobs; never commit. Codes, not sentences: the words live in the templates
and ``labels.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal import uploads
from portal.accounts.models import User
from portal.applications import services as application_services
from portal.applications import workflow
from portal.applications.labels import KADER_LABELS
from portal.applications.models import Application, Attachment
from portal.audit.services import record
from portal.deadlines import add_working_days
from portal.extensions import db
from portal.initiatives import jobs, permissions, services
from portal.initiatives.models import (
    HELP_KINDS,
    MAX_PHOTOS,
    HelpOffer,
    Initiative,
    InitiativeDistrict,
    InitiativeHelp,
    InitiativeMessage,
    InitiativePhoto,
    InitiativeState,
    InitiativeTheme,
    InitiativeUpdate,
)
from portal.initiatives.services import InitiativeRefused
from portal.notifications.services import absolute_url, notify, run_after_commit
from portal.timeutil import local_today, utcnow

# Photos are shown as they come from a camera or phone; JPEG and PNG only (no PDF).
PHOTO_TYPES = frozenset({uploads.JPEG, uploads.PNG})
# The check before publication: within 2 working days of submission.
REVIEW_WORKING_DAYS = 2


class Incomplete(InitiativeRefused):
    """Submitting an initiative that misses something; ``missing`` holds the codes
    (``labels.MISSING_LABELS``)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("incomplete")
        self.missing = missing


@dataclass
class DraftValues:
    """What the initiator typed. ``None`` leaves a field as it was (what was typed there could
    not be stored, for instance because it is too long)."""

    title: str | None = None
    pitch: str | None = None
    description: str | None = None
    contact_note: str | None = None
    citywide: bool = False
    district_ids: list[int] | None = None
    themes: list[str] | None = None
    help_wanted: list[str] | None = None


# --- links ---------------------------------------------------------------------------------------


def public_link(initiative: Initiative) -> str:
    """The full address of the public page (for e-mails)."""
    if "initiatives.detail" in current_app.view_functions:
        return services.public_url(initiative)
    return f"{current_app.config['PORTAL_BASE_URL']}/initiatieven/{initiative.path_key}"


def review_link(initiative: Initiative) -> str:
    """Where a case officer checks a submitted initiative."""
    if "initiatives.review" in current_app.view_functions:
        return absolute_url("initiatives.review", initiative_id=initiative.id)
    return f"{current_app.config['PORTAL_BASE_URL']}/behandeling/initiatieven/{initiative.id}"


# --- the draft -----------------------------------------------------------------------------------


def save_draft(initiative: Initiative, actor: User, values: DraftValues) -> None:
    """Store what could be read; the slug follows the title."""
    if not permissions.can_edit(actor, initiative):
        raise workflow.NotAllowed("edit")
    for name in ("title", "pitch", "description", "contact_note"):
        value = getattr(values, name)
        if value is not None:
            setattr(initiative, name, value)
    initiative.citywide = values.citywide
    if values.district_ids is not None:
        _set_districts(initiative, values.district_ids)
    if values.themes is not None:
        wanted = [theme for theme in dict.fromkeys(values.themes) if theme in KADER_LABELS]
        kept = {link.theme for link in initiative.theme_links}
        for link in list(initiative.theme_links):
            if link.theme not in wanted:
                initiative.theme_links.remove(link)
        for theme in wanted:
            if theme not in kept:
                initiative.theme_links.append(
                    InitiativeTheme(initiative_id=initiative.id, theme=theme)
                )
    if values.help_wanted is not None:
        wanted = [kind for kind in dict.fromkeys(values.help_wanted) if kind in HELP_KINDS]
        kept = {link.kind for link in initiative.help_links}
        for help_link in list(initiative.help_links):
            if help_link.kind not in wanted:
                initiative.help_links.remove(help_link)
        for kind in wanted:
            if kind not in kept:
                initiative.help_links.append(InitiativeHelp(initiative_id=initiative.id, kind=kind))
    initiative.slug = services.slugify(initiative.title or "")
    initiative.updated_at = utcnow()
    db.session.flush()


def _set_districts(initiative: Initiative, district_ids: list[int]) -> None:
    wanted = list(dict.fromkeys(district_ids))
    kept = {link.district_id for link in initiative.district_links}
    for link in list(initiative.district_links):
        if link.district_id not in wanted:
            initiative.district_links.remove(link)
    for district_id in wanted:
        if district_id not in kept:
            initiative.district_links.append(
                InitiativeDistrict(initiative_id=initiative.id, district_id=district_id)
            )


def missing_for_submission(initiative: Initiative) -> list[str]:
    """What must still be filled in, as codes (``labels.MISSING_LABELS``)."""
    missing = []
    if not (initiative.title or "").strip():
        missing.append("title")
    if not (initiative.pitch or "").strip():
        missing.append("pitch")
    if not (initiative.description or "").strip():
        missing.append("description")
    if not initiative.theme_links:
        missing.append("themes")
    if not initiative.citywide and not initiative.district_links:
        missing.append("place")
    return missing


def submit(initiative: Initiative, actor: User) -> None:
    """Hand the initiative to the case officers for the check before publication (within 2
    working days), through the workflow table (which writes the audit record), and tell every
    case officer who handles it."""
    if not permissions.is_initiator(actor, initiative):
        raise workflow.NotAllowed("submit")
    if initiative.state not in permissions.EDITABLE:
        raise workflow.InvalidTransition("submit")
    missing = missing_for_submission(initiative)
    if missing:
        raise Incomplete(missing)
    workflow.transition_initiative(
        initiative,
        "submit",
        actor,
        submitted_at=utcnow(),
        review_due=add_working_days(local_today(), REVIEW_WORKING_DAYS),
    )
    link = review_link(initiative)
    for officer in services.case_officers_for(initiative):
        notify(
            officer,
            "initiative_submitted",
            link=link,
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
        )


def discard_draft(initiative: Initiative, actor: User) -> list[str]:
    """Throw a draft away; returns the storage keys of its files, to delete after the commit."""
    if not permissions.is_initiator(actor, initiative):
        raise workflow.NotAllowed("discard")
    if initiative.state != InitiativeState.DRAFT:
        raise workflow.InvalidTransition("discard")
    keys = _photo_keys(
        db.session.scalars(
            select(InitiativePhoto).where(InitiativePhoto.initiative_id == initiative.id)
        )
    )
    record(
        actor_id=actor.id,
        action="initiative.discarded",
        object_type="initiative",
        object_id=initiative.id,
        from_state=initiative.state,
    )
    db.session.delete(initiative)
    db.session.flush()
    return keys


def _photo_keys(photos: object) -> list[str]:
    keys: list[str] = []
    for photo in photos:  # type: ignore[attr-defined]
        keys.append(photo.storage_key)
        if photo.thumbnail_key:
            keys.append(photo.thumbnail_key)
    return keys


# --- photos --------------------------------------------------------------------------------------


def photo_count(initiative: Initiative) -> int:
    """Photos of the initiative itself (not those of its news)."""
    return int(
        db.session.scalar(
            select(func.count(InitiativePhoto.id)).where(
                InitiativePhoto.initiative_id == initiative.id,
                InitiativePhoto.update_id.is_(None),
            )
        )
        or 0
    )


def add_photo(
    initiative: Initiative,
    actor: User,
    stored: uploads.StoredFile,
    description: str,
    *,
    update: InitiativeUpdate | None = None,
    position: int | None = None,
) -> InitiativePhoto:
    """Keep a stored photo; the worker removes its metadata and makes the thumbnail after the
    commit, and only then is it shown."""
    if stored.content_type not in PHOTO_TYPES:
        raise InitiativeRefused("not_a_photo")
    if update is None:
        if not permissions.can_edit(actor, initiative):
            raise workflow.NotAllowed("add_photo")
        count = photo_count(initiative)
        if count >= MAX_PHOTOS:
            raise InitiativeRefused("too_many_photos")
        position = count if position is None else position
    elif not permissions.can_post_update(actor, initiative):
        raise workflow.NotAllowed("post_update")
    photo = InitiativePhoto(
        initiative_id=initiative.id,
        update_id=update.id if update is not None else None,
        position=position or 0,
        storage_key=stored.storage_key,
        content_type=stored.content_type,
        display_name=stored.display_name,
        size=stored.size,
        description=description,
        ready=False,
        uploaded_by_id=actor.id,
    )
    db.session.add(photo)
    db.session.flush()
    run_after_commit(jobs.process_photo, photo.id)
    return photo


def delete_photo(initiative: Initiative, photo: InitiativePhoto, actor: User) -> list[str]:
    """Remove a photo of a draft; returns its storage keys, to delete after the commit."""
    if not permissions.can_edit(actor, initiative) or photo.initiative_id != initiative.id:
        raise workflow.NotAllowed("delete_photo")
    keys = _photo_keys([photo])
    db.session.delete(photo)
    db.session.flush()
    return keys


# --- after publication ---------------------------------------------------------------------------


def post_update(initiative: Initiative, actor: User, body: str) -> InitiativeUpdate:
    """News from the initiator on the public timeline (photos are added with ``add_photo``)."""
    if not permissions.can_post_update(actor, initiative):
        raise workflow.NotAllowed("post_update")
    entry = services.add_timeline(initiative, "update", body=body, author=actor)
    record(
        actor_id=actor.id,
        action="initiative.update_posted",
        object_type="initiative",
        object_id=initiative.id,
    )
    return entry


def reply(
    initiative: Initiative,
    actor: User,
    body: str,
    *,
    offer: HelpOffer | None = None,
    message: InitiativeMessage | None = None,
) -> InitiativeMessage:
    """The initiator answers an offer of help or a message. The portal relays it: the recipient
    is told by e-mail and in the inbox, and no address is shown to anyone."""
    if not permissions.is_initiator(actor, initiative):
        raise workflow.NotAllowed("reply")
    if offer is not None and offer.initiative_id == initiative.id:
        recipient_id, offer_id = offer.user_id, offer.id
    elif (
        message is not None
        and message.initiative_id == initiative.id
        and message.recipient_id == actor.id
    ):
        recipient_id, offer_id = message.sender_id, message.help_offer_id
    else:
        raise InitiativeRefused("unknown_recipient")
    if recipient_id == actor.id:
        raise InitiativeRefused("unknown_recipient")
    recipient = db.session.get(User, recipient_id)
    if recipient is None or not recipient.active:
        raise InitiativeRefused("recipient_gone")
    sent = InitiativeMessage(
        initiative_id=initiative.id,
        help_offer_id=offer_id,
        sender_id=actor.id,
        recipient_id=recipient.id,
        body=body,
    )
    db.session.add(sent)
    db.session.flush()
    notify(
        recipient,
        "initiative_message",
        link=public_link(initiative),
        object_type="initiative",
        object_id=initiative.id,
        initiative=initiative,
        sender=actor,
        body=body,
    )
    return sent


# --- from initiative to wijkbudget ---------------------------------------------------------------


def application_for(initiative: Initiative, user: User) -> Application | None:
    """The wijkbudget application this user made from this initiative, if any (the latest)."""
    return db.session.scalar(
        select(Application)
        .where(Application.initiative_id == initiative.id, Application.applicant_id == user.id)
        .order_by(Application.id.desc())
        .limit(1)
    )


def start_application(initiative: Initiative, actor: User, root: Path) -> Application:
    """A wijkbudget draft filled in from the initiative (title, pitch and description, the
    themes as kaders, copies of the photos), linked to it. Once per initiative and person: the
    second time it returns the first."""
    if not permissions.is_initiator(actor, initiative) or not initiative.is_public:
        raise workflow.NotAllowed("start_application")
    existing = application_for(initiative, actor)
    if existing is not None:
        return existing
    if actor.district_id is None:
        raise InitiativeRefused("no_district")
    application = application_services.create_draft(actor, f"initiative-{initiative.id}")
    if application.initiative_id == initiative.id:
        return application
    application.initiative_id = initiative.id
    application.title = initiative.title
    application.description = "\n\n".join(
        part for part in (initiative.pitch, initiative.description) if part
    )
    application.kaders = [theme for theme in initiative.themes if theme in KADER_LABELS]
    ready = [photo for photo in initiative.photos if photo.ready]
    for photo in ready[: uploads.MAX_FILES]:
        copied = _copy_stored(photo, root)
        if copied is None:
            continue
        application.attachments.append(
            Attachment(
                kind="photo",
                storage_key=copied.storage_key,
                display_name=copied.display_name,
                content_type=copied.content_type,
                size=copied.size,
                sha256=copied.sha256,
                uploaded_by_id=actor.id,
            )
        )
    db.session.flush()
    record(
        actor_id=actor.id,
        action="initiative.application_started",
        object_type="initiative",
        object_id=initiative.id,
        reason=f"application {application.id}",
    )
    return application


def _copy_stored(photo: InitiativePhoto, root: Path) -> uploads.StoredFile | None:
    """A copy under a new key, so that removing one never breaks the other."""
    try:
        with uploads.stored_path(photo.storage_key, root).open("rb") as source:
            return uploads.store(source, photo.display_name, root=root)
    except (OSError, ValueError, uploads.UploadRefused):
        current_app.logger.warning("photo %s could not be copied", photo.id)
        return None
