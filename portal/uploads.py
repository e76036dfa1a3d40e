"""Uploaded files: the one place that accepts, stores and serves attachments.

Residents attach quotes, plans and photos to their applications. Everything that comes in is
treated as hostile until proven otherwise:

* Only PDF, JPEG and PNG are accepted, recognised by their *content* (magic bytes), never by the
  file name or the Content-Type the browser sent. Images must also open in Pillow; PDFs must not
  contain active content (JavaScript, launch actions, embedded files).
* The size is counted while reading, in chunks, and reading stops as soon as the limit is passed.
* Files are stored under a random key in a two-level directory below ``PORTAL_UPLOAD_DIR``
  (outside ``static/``); the user's file name never becomes part of a path. It is only kept,
  cleaned up, as a display name.
* Files are served with ``nosniff``, a sandboxing CSP, ``no-store`` and always with a
  ``Content-Disposition`` header.

Views turn an :class:`UploadRefused` into a Dutch sentence with :func:`message`::

    try:
        root = Path(current_app.config["PORTAL_UPLOAD_DIR"])
        uploads.check_count(len(application.attachments), 1)
        stored = uploads.store(file, file.filename, root=root)
    except uploads.UploadRefused as error:
        form.attachment.errors.append(uploads.message(error))
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import secrets
import tempfile
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol
from urllib.parse import quote

from flask import Response, current_app, has_app_context, send_file
from flask_babel import format_decimal, gettext
from PIL import Image
from werkzeug.exceptions import NotFound

MiB = 1024 * 1024
MAX_BYTES = 10 * MiB
"""Default maximum size of one file."""
MAX_FILES = 10
"""Default maximum number of files per application."""
MAX_NAME_LENGTH = 120
"""Maximum length of a display name, extension included."""
MAX_IMAGE_PIXELS = 80_000_000
"""Largest accepted image (width x height): room for 48-64 megapixel phone cameras, and below
Pillow's own decompression-bomb warning threshold."""
CHUNK_SIZE = 64 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS: dict[str, str] = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
"""Accepted content types and the extension each one is stored and offered with."""
_TYPE_BY_EXTENSION = {extension: content_type for content_type, extension in EXTENSIONS.items()}
# Extensions that are replaced (not kept as part of the name) when the real one is appended.
_REPLACEABLE_EXTENSIONS = frozenset({"pdf", "jpg", "jpeg", "jpe", "jfif", "png"})

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
_MAGIC_LENGTH = max(len(magic) for magic, _ in _MAGIC)
_PILLOW_FORMATS: dict[str, tuple[list[str], frozenset[str]]] = {
    # content type: (plugins Pillow may try, formats it may report). MPO is the multi-picture
    # JPEG some cameras write; it is a JPEG file.
    JPEG: (["JPEG"], frozenset({"JPEG", "MPO"})),
    PNG: (["PNG"], frozenset({"PNG"})),
}

STORAGE_KEY_PATTERN = re.compile(r"[0-9a-f]{32}\.(?:pdf|jpg|png)")
"""What :func:`store` generates: 32 random hex digits and the extension of the detected type."""

RefusalCode = Literal["too_large", "wrong_type", "unsafe_pdf", "too_many", "empty"]
_BIDI_CONTROLS = frozenset(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
)


class UploadRefused(Exception):
    """The upload is not accepted.

    ``code`` is one of ``too_large``, ``wrong_type``, ``unsafe_pdf``, ``too_many`` or ``empty``;
    ``message_params`` holds the numbers the message needs (``max_bytes``, ``limit``). Turn it
    into a sentence for the user with :func:`message`.
    """

    def __init__(self, code: RefusalCode, message_params: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code: RefusalCode = code
        self.message_params: dict[str, Any] = dict(message_params or {})

    def __repr__(self) -> str:
        return f"UploadRefused({self.code!r}, {self.message_params!r})"


class Readable(Protocol):
    """Anything with ``read(size)`` returning bytes: a werkzeug ``FileStorage``, a file, BytesIO."""

    def read(self, size: int = -1, /) -> bytes:
        """Return at most ``size`` bytes; ``b""`` at the end."""
        ...


@dataclass(frozen=True)
class StoredFile:
    """A file that passed every check and is stored. Save these fields with the attachment."""

    storage_key: str
    """Random name of the stored file, e.g. ``3f9c...e1.pdf``; pass it to :func:`send_stored`."""
    display_name: str
    """Cleaned-up version of the user's file name, safe to show and to offer for download."""
    content_type: str
    """``application/pdf``, ``image/jpeg`` or ``image/png``, from the content."""
    size: int
    """Size in bytes."""
    sha256: str
    """Hex SHA-256 of the content (for deduplication and integrity checks)."""


# --- Messages -------------------------------------------------------------------------------


def message(error: UploadRefused) -> str:
    """The Dutch (translatable) sentence that tells the user what to do about ``error``.

    Needs an app context with Flask-Babel.
    """
    params = error.message_params
    if error.code == "too_large":
        max_bytes = int(params.get("max_bytes", MAX_BYTES))
        size = format_decimal(max_bytes / MiB, format="#,##0.#")
        return gettext(
            "Dit bestand is groter dan %(size)s MB. Kies een kleiner bestand.", size=size
        )
    if error.code == "wrong_type":
        return gettext("Dit type bestand kunnen wij niet aannemen. Kies een PDF, JPG of PNG.")
    if error.code == "unsafe_pdf":
        return gettext(
            "Deze PDF bevat onderdelen die wij om veiligheidsredenen niet aannemen (zoals "
            "scripts). Maak er een gewone PDF van, bijvoorbeeld via Afdrukken → Opslaan als PDF."
        )
    if error.code == "too_many":
        limit = int(params.get("limit", MAX_FILES))
        return gettext("U kunt maximaal %(limit)s bestanden toevoegen.", limit=limit)
    if error.code == "empty":
        return gettext("Dit bestand is leeg.")
    raise ValueError(f"unknown upload refusal code {error.code!r}")


# --- Limits ---------------------------------------------------------------------------------


def check_count(existing: int, adding: int, limit: int = MAX_FILES) -> None:
    """Refuse (``too_many``) when ``existing + adding`` files would exceed ``limit``."""
    if existing < 0 or adding < 0:
        raise ValueError("file counts cannot be negative")
    if existing + adding > limit:
        raise UploadRefused("too_many", {"limit": limit})


# --- File names -----------------------------------------------------------------------------


def safe_display_name(original: str | None, content_type: str) -> str:
    """A readable, harmless version of the user's file name, ending in the real extension.

    Keeps only the last path component (after ``/`` or ``\\``), NFKC-normalises, drops control,
    format and bidi-override characters, replaces everything except letters, digits, space and
    ``.-_()`` with ``_``, collapses whitespace, strips leading dots, limits the result to
    :data:`MAX_NAME_LENGTH` characters and ends it with the extension of ``content_type``
    (``.pdf``, ``.jpg``, ``.png``), replacing a PDF/JPEG/PNG extension the name already had.
    Falls back to ``bestand.<ext>``. Applying it twice gives the same result.

    ``../../etc/passwd`` (a PDF) becomes ``passwd.pdf``; ``foto\\u202egnp.exe`` (a JPEG) becomes
    ``fotognp.exe.jpg``.
    """
    try:
        extension = EXTENSIONS[content_type]
    except KeyError:
        raise ValueError(f"not an accepted content type: {content_type!r}") from None
    # Normalise first, so that look-alike slashes (e.g. U+FF0F) also separate path components.
    text = unicodedata.normalize("NFKC", original or "")
    text = re.split(r"[/\\]", text)[-1]
    kept: list[str] = []
    for char in text:
        if char.isspace():
            kept.append(" ")
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cf") or ord(char) in _BIDI_CONTROLS:
            continue  # control, format and direction characters: drop without a trace
        kept.append(char if category[0] in "LMN" or char in "._-()" else "_")
    name = " ".join("".join(kept).split()).lstrip(". ")
    stem, dot, old_extension = name.rpartition(".")
    if dot and old_extension.lower() in _REPLACEABLE_EXTENSIONS:
        name = stem
    name = name[: MAX_NAME_LENGTH - len(extension) - 1].strip(". ")
    return f"{name or 'bestand'}.{extension}"


# --- Storing --------------------------------------------------------------------------------


def store(
    stream: Readable,
    original_name: str | None,
    *,
    root: Path | str,
    max_bytes: int = MAX_BYTES,
) -> StoredFile:
    """Check and store one uploaded file; return what to remember about it.

    Reads ``stream`` in chunks into a temporary file inside ``root`` (never more than
    ``max_bytes + 1`` bytes: Content-Length is not trusted), checks the content, then moves the
    file atomically to ``root/ab/cd/<storage_key>`` with mode 0o640. Raises
    :class:`UploadRefused` (``empty``, ``too_large``, ``wrong_type``, ``unsafe_pdf``); nothing
    is left behind then. The stream is not closed.
    """
    root = _checked_root(root)
    root.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".part", dir=root)
    temp_path = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size, digest, content_type = _receive(stream, out, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_path, 0o640)  # explicit, whatever the umask
        _check_content(temp_path, content_type)
        storage_key = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
        target = stored_path(storage_key, root)
        target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        os.replace(temp_path, target)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StoredFile(
        storage_key=storage_key,
        display_name=safe_display_name(original_name, content_type),
        content_type=content_type,
        size=size,
        sha256=digest,
    )


def _receive(stream: Readable, out: BinaryIO, max_bytes: int) -> tuple[int, str, str]:
    """Copy ``stream`` to ``out``; return size, SHA-256 and the content type from the magic.

    Stops reading as soon as the type is known to be wrong or the size passes ``max_bytes``.
    """
    size = 0
    head = b""
    content_type: str | None = None
    digest = hashlib.sha256()
    while True:
        chunk = stream.read(min(CHUNK_SIZE, max_bytes + 1 - size)) or b""
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused("too_large", {"max_bytes": max_bytes})
        if content_type is None:
            head += chunk[:_MAGIC_LENGTH]
            if len(head) >= _MAGIC_LENGTH:
                content_type = _sniff(head)  # refuses early: no need to read a whole program
        digest.update(chunk)
        out.write(chunk)
    if size == 0:
        raise UploadRefused("empty")
    if content_type is None:
        content_type = _sniff(head)
    return size, digest.hexdigest(), content_type


def _sniff(head: bytes) -> str:
    """The accepted content type whose magic bytes ``head`` starts with, else ``wrong_type``."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    raise UploadRefused("wrong_type")


def _check_content(path: Path, content_type: str) -> None:
    """Look deeper than the magic bytes: images must open, PDFs must be passive."""
    if content_type == PDF:
        if _pdf_is_active(path):
            raise UploadRefused("unsafe_pdf")
        return
    plugins, formats = _PILLOW_FORMATS[content_type]
    try:
        with Image.open(path, formats=plugins) as image:
            width, height = image.size
            if image.format not in formats or not 0 < width * height <= MAX_IMAGE_PIXELS:
                raise UploadRefused("wrong_type")
            image.verify()
    except UploadRefused:
        raise
    except Exception as error:  # Pillow reports broken input with many exception types
        raise UploadRefused("wrong_type") from error


# --- PDF inspection -------------------------------------------------------------------------
#
# A heuristic over the bytes, not a PDF parser: it finds the names below anywhere in the file,
# also when written with #xx escapes (/J#53) and also inside compressed object streams, where
# PDF 1.5+ writers put most objects. It is defence in depth next to how files are served.

_ACTIVE_PDF_NAMES = frozenset(
    {b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"FileAttachment"}
)
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# /JS only counts when a script can follow: a (hex) string or an indirect reference. This keeps
# three random bytes in compressed image data from refusing a harmless scan.
_JS_VALUE = re.compile(rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*+)*+[(<0-9]")
_STREAM_KEYWORD = re.compile(rb"(?<![^\x00\t\n\x0c\r ()<>\[\]{}/%])stream[ \t]*(?:\r\n|\r|\n)?")
_OTHER_FILTERS = frozenset(
    {
        b"ASCIIHexDecode",
        b"AHx",
        b"ASCII85Decode",
        b"A85",
        b"LZWDecode",
        b"LZW",
        b"RunLengthDecode",
        b"RL",
        b"CCITTFaxDecode",
        b"CCF",
        b"JBIG2Decode",
        b"DCTDecode",
        b"DCT",
        b"JPXDecode",
        b"Crypt",
        b"Predictor",
    }
)
_INFLATE_BUDGET = 64 * MiB


class _Uninspectable(Exception):
    """An object stream that cannot be unpacked, so its objects cannot be checked."""


def _pdf_names(data: bytes | mmap.mmap) -> set[bytes]:
    """All names (without ``/``, escapes decoded) in ``data``; ``JS`` only with a script value."""
    names: set[bytes] = set()
    for match in _PDF_NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        if name == b"JS" and not _JS_VALUE.match(data, match.end(), match.end() + 4096):
            continue
        names.add(name)
    return names


def _pdf_is_active(path: Path) -> bool:
    """Whether the PDF at ``path`` contains scripts, launch actions or embedded files.

    Object streams that cannot be unpacked (encrypted, unusual filters, predictors, too big)
    count as active: what cannot be checked is not accepted.
    """
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if _is_active(_pdf_names(data)):
            return True
        budget = _INFLATE_BUDGET
        previous_end = 0
        for keyword in _STREAM_KEYWORD.finditer(data):
            start = keyword.start()
            # The stream's dictionary sits between "<n> <g> obj" and the keyword.
            dictionary_start = max(data.rfind(b"obj", previous_end, start), previous_end)
            names = _pdf_names(data[dictionary_start:start])
            previous_end = keyword.end()
            if b"ObjStm" not in names:
                continue
            if b"Filter" not in names:
                continue  # uncompressed: the scan of the raw bytes above covered it
            if names & _OTHER_FILTERS:
                return True
            try:
                content = _inflate(data, keyword.end(), budget)
            except _Uninspectable:
                return True
            budget -= len(content)
            if _is_active(_pdf_names(content)):
                return True
    return False


def _is_active(names: set[bytes]) -> bool:
    """Whether any of ``names`` marks active content."""
    return b"JS" in names or not _ACTIVE_PDF_NAMES.isdisjoint(names)


def _inflate(data: bytes | mmap.mmap, start: int, budget: int) -> bytes:
    """Inflate the zlib stream at ``data[start:]``, producing at most ``budget`` bytes."""
    decompressor = zlib.decompressobj()
    output = bytearray()
    position = start
    pending = b""
    try:
        while not decompressor.eof:
            if not pending:
                if position >= len(data):
                    raise _Uninspectable("truncated")
                pending = data[position : position + CHUNK_SIZE]
                position += len(pending)
            output += decompressor.decompress(pending, budget + 1 - len(output))
            pending = decompressor.unconsumed_tail
            if len(output) > budget:
                raise _Uninspectable("too large")
    except zlib.error as error:
        raise _Uninspectable(str(error)) from error
    return bytes(output)


# --- Paths, serving and deleting ------------------------------------------------------------


def stored_path(storage_key: str, root: Path | str) -> Path:
    """Where the file with ``storage_key`` lives: ``root/ab/cd/<storage_key>``.

    Raises ``ValueError`` for anything :func:`store` cannot have generated.
    """
    if not isinstance(storage_key, str) or not STORAGE_KEY_PATTERN.fullmatch(storage_key):
        raise ValueError("not a storage key")
    return Path(root) / storage_key[:2] / storage_key[2:4] / storage_key


def send_stored(
    stored_key: str,
    display_name: str,
    content_type: str,
    *,
    root: Path | str,
    as_attachment: bool = True,
) -> Response:
    """A response with the stored file, for a view that has already checked access.

    Unknown or malformed keys give 404. The response always has a ``Content-Disposition``
    (``attachment`` by default, ``inline`` for showing photos) with a cleaned-up file name,
    ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy: default-src 'none'; sandbox``
    and ``Cache-Control: private, no-store``. Needs a request context.
    """
    try:
        path = stored_path(stored_key, root)
    except ValueError:
        raise NotFound() from None
    if content_type != _TYPE_BY_EXTENSION[stored_key.rsplit(".", 1)[1]]:
        raise ValueError(f"content type {content_type!r} does not match {stored_key!r}")
    path = path.resolve()
    if not path.is_relative_to(Path(root).resolve()) or not path.is_file():
        raise NotFound()
    name = safe_display_name(display_name, content_type)
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=as_attachment,
        download_name=name,
        max_age=0,
    )
    disposition = "attachment" if as_attachment else "inline"
    response.headers["Content-Disposition"] = content_disposition(disposition, name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(disposition: Literal["attachment", "inline"], name: str) -> str:
    """A ``Content-Disposition`` value for a name from :func:`safe_display_name`.

    ``filename`` gets a plain-ASCII version (no quotes, backslashes or line breaks can occur);
    ``filename*`` (RFC 6266/5987) carries the full UTF-8 name when it differs.
    """
    stem, _, extension = name.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9 ._()-]", "_", ascii_stem).strip(". ")
    if not ascii_stem.strip("_"):
        ascii_stem = "bestand"
    ascii_extension = re.sub(r"[^A-Za-z0-9]", "", extension)
    fallback = f"{ascii_stem}.{ascii_extension}" if ascii_extension else ascii_stem
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def delete(storage_key: str, root: Path | str) -> bool:
    """Remove a stored file; ``True`` if it existed. Malformed keys raise ``ValueError``."""
    try:
        stored_path(storage_key, root).unlink()
    except FileNotFoundError:
        return False
    return True


def _checked_root(root: Path | str) -> Path:
    """``root`` as a Path; refuses a directory inside the app's public ``static`` folder."""
    path = Path(root)
    if has_app_context() and current_app.static_folder:
        static = Path(current_app.static_folder).resolve()
        if path.resolve().is_relative_to(static):
            raise RuntimeError("uploads must not be stored inside the static folder")
    return path
