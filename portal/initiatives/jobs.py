"""Background work for initiatives: making an uploaded photo safe to show.

A photo from a phone carries metadata (EXIF), often with the exact place it was taken: for a
photo taken at home, the initiator's address. The worker decodes the picture, turns it upright
as the camera meant (``exif_transpose``), draws it onto a new, empty image and encodes that:
nothing of the original file but its pixels survives. It also makes the small version for lists
(at most 640 pixels wide, JPEG), and only then marks the photo ready to be shown."""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy import select

from portal import uploads
from portal.extensions import db, rq
from portal.initiatives.models import InitiativePhoto

THUMBNAIL_WIDTH = 640
# The large version is for looking at on a screen; a 50-megapixel original is not needed.
LARGEST_SIDE = 2560
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80
# A re-encoded PNG can be larger than the original; the upload limit applied to the original.
CLEAN_MAX_BYTES = 3 * uploads.MAX_BYTES


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def clean_copy(image: Image.Image, content_type: str) -> Image.Image:
    """Only the pixels, upright, in a new image without any ``info`` (EXIF, XMP, comments, ICC
    profile, PNG text chunks)."""
    upright = ImageOps.exif_transpose(image)
    mode = "RGBA" if content_type == uploads.PNG and _has_alpha(upright) else "RGB"
    converted = upright.convert(mode)
    if max(converted.size) > LARGEST_SIDE:
        converted.thumbnail((LARGEST_SIDE, LARGEST_SIDE), Image.Resampling.LANCZOS)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def encode(image: Image.Image, content_type: str) -> bytes:
    buffer = io.BytesIO()
    if content_type == uploads.PNG:
        image.save(buffer, format="PNG", optimize=True)
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def thumbnail(image: Image.Image) -> bytes:
    """At most 640 pixels wide, JPEG; transparency on white."""
    width, height = image.size
    if width > THUMBNAIL_WIDTH:
        small = image.resize(
            (THUMBNAIL_WIDTH, max(1, round(height * THUMBNAIL_WIDTH / width))),
            Image.Resampling.LANCZOS,
        )
    else:
        small = image.copy()
    if small.mode == "RGBA":
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small, mask=small.getchannel("A"))
        small = background
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


@rq.job
def process_photo(photo_id: int) -> str:
    """Strip the metadata of one photo, replace the stored file, make its thumbnail, mark it
    ready. Takes an id and reloads the row; a photo that is gone or already ready is left
    alone, so running it twice does no harm."""
    photo = db.session.scalar(
        select(InitiativePhoto).where(InitiativePhoto.id == photo_id).with_for_update()
    )
    if photo is None:
        return "gone"
    if photo.ready:
        return "already done"
    root = Path(current_app.config["PORTAL_UPLOAD_DIR"])
    try:
        with Image.open(uploads.stored_path(photo.storage_key, root)) as original:
            clean = clean_copy(original, photo.content_type)
        full = uploads.store(
            io.BytesIO(encode(clean, photo.content_type)),
            photo.display_name,
            root=root,
            max_bytes=CLEAN_MAX_BYTES,
        )
        small = uploads.store(
            io.BytesIO(thumbnail(clean)), f"klein-{photo.display_name}", root=root
        )
    # Pillow reports broken input as OSError, ValueError or (for some PNG chunks) SyntaxError.
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, uploads.UploadRefused):
        current_app.logger.exception("photo %s could not be processed", photo_id)
        db.session.rollback()
        return "unreadable"
    previous = [photo.storage_key, photo.thumbnail_key]
    photo.storage_key = full.storage_key
    photo.content_type = full.content_type
    photo.size = full.size
    photo.thumbnail_key = small.storage_key
    photo.ready = True
    db.session.commit()
    for key in previous:
        if key:
            uploads.delete(key, root)
    return full.storage_key
