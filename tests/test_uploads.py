"""Uploads: content checks, size and count limits, file names, storage and serving."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import flask
import flask_babel
import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, Headers
from werkzeug.exceptions import NotFound

from portal import uploads
from portal.uploads import UploadRefused, check_count, safe_display_name, send_stored, store

MiB = 1024 * 1024


# --- Helpers --------------------------------------------------------------------------------


class GeneratorStream:
    """A read()-able stream backed by a generator that records how much was pulled from it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self.produced = 0
        self.exhausted = False
        self.sizes: list[int] = []

    def read(self, size: int = -1, /) -> bytes:
        self.sizes.append(size)
        while size < 0 or len(self._buffer) < size:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.exhausted = True
                break
            self.produced += len(chunk)
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def image_bytes(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format=kind)
    return buffer.getvalue()


def pdf(body: bytes = b"<< /Type /Catalog >>") -> bytes:
    """A small PDF with ``body`` as object 1."""
    return b"%PDF-1.7\n1 0 obj\n" + body + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def object_stream_pdf(objects: bytes, dictionary: bytes = b"/Filter /FlateDecode") -> bytes:
    """A PDF 1.5-style file whose object 5 sits inside a compressed object stream."""
    header = b"5 0 "
    data = zlib.compress(header + objects)
    return (
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /OpenAction 5 0 R >>\nendobj\n"
        b"4 0 obj\n<< /Type /ObjStm /N 1 /First "
        + str(len(header)).encode()
        + b" /Length "
        + str(len(data)).encode()
        + b" "
        + dictionary
        + b" >>\nstream\n"
        + data
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def refused(content: bytes | GeneratorStream, root: Path, name: str = "bestand", **kw) -> str:
    """Store ``content``, expect a refusal, return its code; nothing may be left in ``root``."""
    stream = content if isinstance(content, GeneratorStream) else io.BytesIO(content)
    with pytest.raises(UploadRefused) as info:
        store(stream, name, root=root, **kw)
    assert [p for p in root.rglob("*") if p.is_file()] == []
    return info.value.code


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = "nl"
    flask_babel.Babel(app)
    return app


# --- Content type ---------------------------------------------------------------------------


def test_elf_executable_named_pdf_is_refused(root: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)
    assert refused(elf, root, "offerte.pdf") == "wrong_type"


def test_windows_executable_is_refused(root: Path) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(4096) + b"This program cannot be run in DOS mode"
    assert refused(exe, root, "begroting.pdf") == "wrong_type"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script>'
            b"</svg>",
            "foto.png",
        ),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "plan.jpg"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "offerte.pdf"),
        (b"PK\x03\x04\x14\x00\x00\x00" + bytes(100), "bijlagen.pdf"),
        (b"GIF89a\x01\x00\x01\x00", "foto.jpg"),
        (b"  %PDF-1.7\n", "spatie-ervoor.pdf"),
        (b"%PD", "kort.pdf"),
    ],
)
def test_other_content_is_refused_whatever_the_name(root: Path, content: bytes, name: str) -> None:
    assert refused(content, root, name) == "wrong_type"


def test_real_png_and_jpeg_are_accepted(root: Path) -> None:
    png = store(io.BytesIO(image_bytes("PNG")), "kaart.png", root=root)
    jpeg = store(io.BytesIO(image_bytes("JPEG")), "Foto van het plein.JPEG", root=root)
    assert (png.content_type, png.display_name) == ("image/png", "kaart.png")
    assert (jpeg.content_type, jpeg.display_name) == ("image/jpeg", "Foto van het plein.jpg")
    assert png.storage_key.endswith(".png")
    assert jpeg.storage_key.endswith(".jpg")


def test_type_comes_from_content_not_from_name(root: Path) -> None:
    stored = store(io.BytesIO(image_bytes("PNG")), "eigenlijk.pdf", root=root)
    assert stored.content_type == "image/png"
    assert stored.display_name == "eigenlijk.png"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff" + b"junk" * 200,
        b"\xff\xd8\xff\xe0" + os.urandom(2048),
        b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20,
    ],
)
def test_fake_images_are_refused(root: Path, content: bytes) -> None:
    assert refused(content, root, "foto.jpg") == "wrong_type"


def test_png_with_broken_checksum_is_refused(root: Path) -> None:
    png = bytearray(image_bytes("PNG"))
    idat = png.index(b"IDAT")
    png[idat + 6] ^= 0xFF  # damage the compressed pixel data; the chunk CRC no longer matches
    assert refused(bytes(png), root, "foto.png") == "wrong_type"


def test_image_with_absurd_dimensions_is_refused(root: Path) -> None:
    png = bytearray(image_bytes("PNG"))
    ihdr = png.index(b"IHDR")
    png[ihdr + 4 : ihdr + 12] = (60000).to_bytes(4, "big") * 2  # 3.6 gigapixels
    png[ihdr + 17 : ihdr + 21] = zlib.crc32(png[ihdr : ihdr + 17]).to_bytes(4, "big")
    assert refused(bytes(png), root, "bom.png") == "wrong_type"


# --- PDF content ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
        b"<< /Type /Catalog /OpenAction << /JS <6170702e616c657274283129> >> >>",
        b"<< /Type /Catalog /OpenAction << /JS 7 0 R >> >>",
        b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>",
        b"<< /Type /Catalog /Names << /EmbeddedFiles 3 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length 10 >>",
        b"<< /Type /Annot /Subtype /FileAttachment /FS 3 0 R >>",
        b"<< /Type /Catalog /OpenAction << /S /Java#53cript /J#53 (app.alert(1)) >> >>",
        b"<</OpenAction<</S/JavaScript/JS%comment\n(x)>>>>",
    ],
)
def test_active_pdf_is_refused(root: Path, body: bytes) -> None:
    assert refused(pdf(body), root, "offerte.pdf") == "unsafe_pdf"


def test_javascript_hidden_in_compressed_object_stream_is_refused(root: Path) -> None:
    hidden = object_stream_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in hidden
    assert refused(hidden, root, "offerte.pdf") == "unsafe_pdf"


@pytest.mark.parametrize(
    "dictionary",
    [
        b"/Filter /FlateDecode /Encrypted true",  # content that does not inflate (e.g. encrypted)
        b"/Filter [/FlateDecode /ASCIIHexDecode]",
        b"/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>",
    ],
)
def test_object_stream_that_cannot_be_checked_is_refused(root: Path, dictionary: bytes) -> None:
    content = object_stream_pdf(b"<< /Type /Page >>", dictionary)
    if b"Encrypted" in dictionary:
        start = content.index(b"stream\n") + len(b"stream\n")
        content = (
            content[:start]
            + bytes(b ^ 0x5A for b in content[start : start + 20])
            + (content[start + 20 :])
        )
    assert refused(content, root, "offerte.pdf") == "unsafe_pdf"


def test_ordinary_pdfs_are_accepted(root: Path) -> None:
    binary = (
        b"<< /Length 64 >>\nstream\n/JSX /JS\x01\x02 /JavaScriptish /Launcher \xff\xfe\nendstream"
    )
    candidates = {
        "minimal": pdf(),
        "object stream": object_stream_pdf(b"<< /Type /Page /Contents 6 0 R >>"),
        "look-alike names": pdf(binary),
        "pillow": image_bytes("PDF"),
    }
    for label, content in candidates.items():
        stored = store(io.BytesIO(content), f"{label}.pdf", root=root)
        assert stored.content_type == "application/pdf", label


def test_pdf_made_by_weasyprint_is_accepted(root: Path) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    content = weasyprint.HTML(string="<h1>Offerte</h1><p>Speeltoestel: € 1.250,00</p>").write_pdf()
    stored = store(io.BytesIO(content), "offerte.pdf", root=root)
    assert stored.content_type == "application/pdf"


# --- Size and count -------------------------------------------------------------------------


def test_empty_file_is_refused(root: Path) -> None:
    assert refused(b"", root, "leeg.pdf") == "empty"


def test_too_large_file_is_refused_without_reading_it_all(root: Path) -> None:
    def eleven_mib() -> Iterator[bytes]:
        yield b"%PDF-1.7\n"
        for _ in range(11 * 16):
            yield bytes(64 * 1024)

    stream = GeneratorStream(eleven_mib())
    with pytest.raises(UploadRefused) as info:
        store(stream, "groot.pdf", root=root)
    assert info.value.code == "too_large"
    assert info.value.message_params == {"max_bytes": 10 * MiB}
    assert not stream.exhausted
    assert stream.produced <= 10 * MiB + 2 * uploads.CHUNK_SIZE
    assert all(0 < size <= uploads.CHUNK_SIZE for size in stream.sizes)  # never read(-1)
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_exactly_max_bytes_is_accepted_one_more_is_not(root: Path) -> None:
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    content = head + bytes(10 * MiB - len(head) - len(tail)) + tail
    assert len(content) == 10 * MiB
    stored = store(io.BytesIO(content), "precies.pdf", root=root)
    assert stored.size == 10 * MiB
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert refused(content + b"\n", root / "other", "te-groot.pdf") == "too_large"


def test_max_bytes_can_be_lowered(root: Path) -> None:
    assert refused(pdf(), root, "offerte.pdf", max_bytes=20) == "too_large"


def test_check_count() -> None:
    check_count(8, 2)
    check_count(0, 10)
    with pytest.raises(UploadRefused) as info:
        check_count(9, 2)
    assert info.value.code == "too_many"
    assert info.value.message_params == {"limit": 10}
    with pytest.raises(UploadRefused):
        check_count(3, 1, limit=3)
    with pytest.raises(ValueError):
        check_count(-1, 1)


# --- File names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "content_type", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("..\\..\\windows\\system.ini", "application/pdf", "system.ini.pdf"),
        ("C:\\Users\\Jan\\Offerte speeltuin.PDF", "application/pdf", "Offerte speeltuin.pdf"),
        ("<img src=x onerror=alert(1)>.jpg", "image/jpeg", "_img src_x onerror_alert(1)_.jpg"),
        ("foto\u202egnp.exe", "image/jpeg", "fotognp.exe.jpg"),
        ("foto\u2066\u200f.png", "image/png", "foto.png"),
        ("...verborgen.pdf", "application/pdf", "verborgen.pdf"),
        ("  veel   \t ruimte\n.pdf", "application/pdf", "veel ruimte.pdf"),
        ("Überweg café ﬁets.pdf", "application/pdf", "Überweg café fiets.pdf"),
        ("a\uff0fb\uff0fplan.png", "image/png", "plan.png"),
        ('"quoted"; filename=evil.html', "application/pdf", "_quoted__ filename_evil.html.pdf"),
        ("nul\x00byte\r\n.pdf", "application/pdf", "nulbyte.pdf"),
        ("scan.png", "application/pdf", "scan.pdf"),
        ("", "image/png", "bestand.png"),
        (None, "image/png", "bestand.png"),
        ("../", "application/pdf", "bestand.pdf"),
        ("....pdf", "application/pdf", "pdf.pdf"),
        (". .", "application/pdf", "bestand.pdf"),
        ("\u202e", "image/jpeg", "bestand.jpg"),
    ],
)
def test_safe_display_name(original: str | None, content_type: str, expected: str) -> None:
    assert safe_display_name(original, content_type) == expected
    assert safe_display_name(expected, content_type) == expected  # idempotent


def test_long_name_is_cut_keeping_the_extension() -> None:
    name = safe_display_name("x" * 500 + ".pdf", "application/pdf")
    assert len(name) == uploads.MAX_NAME_LENGTH
    assert name == "x" * 116 + ".pdf"
    assert safe_display_name("y" * 500, "image/png").endswith("y.png")


def test_display_name_only_has_safe_characters() -> None:
    nasty = "".join(chr(c) for c in range(0x0, 0x300)) + "\u202a\u202b\u202c\u202d\u202e\u2069"
    name = safe_display_name(nasty, "application/pdf")
    assert not re.search(
        r"[\x00-\x1f\x7f<>\"'=;:/\\&%\u200e\u200f\u202a-\u202e\u2066-\u2069]", name
    )
    assert name.endswith(".pdf")
    assert not name.startswith(".")


def test_display_name_needs_an_accepted_type() -> None:
    with pytest.raises(ValueError):
        safe_display_name("x.svg", "image/svg+xml")


def test_store_uses_the_cleaned_name(root: Path) -> None:
    stored = store(io.BytesIO(pdf()), "../../etc/passwd", root=root)
    assert stored.display_name == "passwd.pdf"
    rtl = store(io.BytesIO(image_bytes("JPEG")), "foto\u202egnp.exe", root=root)
    assert rtl.display_name == "fotognp.exe.jpg"
    assert "passwd" not in str(uploads.stored_path(stored.storage_key, root))


# --- Storage --------------------------------------------------------------------------------


def test_storage_layout_mode_and_content(root: Path) -> None:
    content = pdf()
    stored = store(io.BytesIO(content), "offerte.pdf", root=root)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.storage_key)
    path = uploads.stored_path(stored.storage_key, root)
    key = stored.storage_key
    assert path == root / key[:2] / key[2:4] / key
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "static" not in path.resolve().parts
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert [p for p in root.rglob("*") if p.is_file()] == [path]  # no temporary file left


def test_storage_keys_are_random(root: Path) -> None:
    keys = {store(io.BytesIO(pdf()), "zelfde.pdf", root=root).storage_key for _ in range(5)}
    assert len(keys) == 5


def test_werkzeug_file_storage_is_accepted(root: Path) -> None:
    upload = FileStorage(
        io.BytesIO(image_bytes("PNG")), filename="kaart.svg", content_type="image/svg+xml"
    )
    stored = store(upload, upload.filename, root=root)
    assert (stored.content_type, stored.display_name) == ("image/png", "kaart.svg.png")


def test_root_inside_static_folder_is_refused(tmp_path: Path) -> None:
    app = flask.Flask(__name__, static_folder=str(tmp_path / "static"))
    with app.app_context(), pytest.raises(RuntimeError):
        store(io.BytesIO(pdf()), "offerte.pdf", root=tmp_path / "static" / "uploads")


def test_configured_upload_dir_is_not_public(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal import ROOT
    from portal.config import load_config

    monkeypatch.delenv("PORTAL_UPLOAD_DIR", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    upload_dir = Path(load_config(str(tmp_path))["PORTAL_UPLOAD_DIR"]).resolve()
    assert not upload_dir.is_relative_to((ROOT / "static").resolve())


def test_delete(root: Path) -> None:
    stored = store(io.BytesIO(pdf()), "offerte.pdf", root=root)
    assert uploads.delete(stored.storage_key, root) is True
    assert not uploads.stored_path(stored.storage_key, root).exists()
    assert uploads.delete(stored.storage_key, root) is False
    with pytest.raises(ValueError):
        uploads.delete("../../etc/passwd", root)


# --- Serving --------------------------------------------------------------------------------


def serve(
    app: flask.Flask, root: Path, key: str, name: str, content_type: str, **kw: bool
) -> tuple[bytes, Headers]:
    """Serve a stored file in a request context; check the common headers; return body, headers."""
    with app.test_request_context():
        response = send_stored(key, name, content_type, root=root, **kw)
        try:
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            assert response.headers["Cache-Control"] == "private, no-store"
            assert response.mimetype == content_type
            response.direct_passthrough = False
            return response.get_data(), response.headers
        finally:
            response.close()


def disposition_filename(value: str) -> str:
    """The plain ``filename`` parameter, asserting the header is well-formed and harmless."""
    assert "\r" not in value and "\n" not in value
    match = re.fullmatch(
        r"(attachment|inline); filename=\"([A-Za-z0-9 ._()-]+)\""
        r"(?:; filename\*=UTF-8''[A-Za-z0-9%._~-]+)?",
        value,
    )
    assert match, value
    return match.group(2)


def test_send_stored_as_attachment(app: flask.Flask, root: Path) -> None:
    content = pdf()
    stored = store(io.BytesIO(content), "Offerte speeltuin.pdf", root=root)
    body, headers = serve(app, root, stored.storage_key, stored.display_name, stored.content_type)
    assert body == content
    assert headers["Content-Disposition"].startswith("attachment;")
    assert disposition_filename(headers["Content-Disposition"]) == "Offerte speeltuin.pdf"


def test_send_stored_inline_still_has_content_disposition(app: flask.Flask, root: Path) -> None:
    stored = store(io.BytesIO(image_bytes("JPEG")), "foto.jpg", root=root)
    _, headers = serve(app, root, stored.storage_key, "foto.jpg", "image/jpeg", as_attachment=False)
    assert headers["Content-Disposition"].startswith("inline;")
    assert disposition_filename(headers["Content-Disposition"]) == "foto.jpg"


@pytest.mark.parametrize(
    "display_name",
    [
        'evil".pdf\r\nSet-Cookie: x=1',
        'a"; filename="x.html',
        "foto\u202egnp.exe",
        "Überweg café.pdf",
        "плaн.pdf",
        "\\\\server\\share\\x.pdf",
    ],
)
def test_content_disposition_cannot_be_injected(
    app: flask.Flask, root: Path, display_name: str
) -> None:
    stored = store(io.BytesIO(pdf()), "offerte.pdf", root=root)
    for as_attachment in (True, False):
        _, headers = serve(
            app,
            root,
            stored.storage_key,
            display_name,
            "application/pdf",
            as_attachment=as_attachment,
        )
        value = headers["Content-Disposition"]
        assert value.startswith("attachment;" if as_attachment else "inline;")
        assert value.count('"') == 2  # only the quotes around the plain filename
        assert disposition_filename(value).endswith(".pdf")


def test_non_ascii_name_is_sent_in_filename_star(app: flask.Flask, root: Path) -> None:
    stored = store(io.BytesIO(pdf()), "Überweg café.pdf", root=root)
    _, headers = serve(app, root, stored.storage_key, stored.display_name, "application/pdf")
    value = headers["Content-Disposition"]
    assert disposition_filename(value) == "Uberweg cafe.pdf"
    assert value.endswith("filename*=UTF-8''%C3%9Cberweg%20caf%C3%A9.pdf")


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "../uploads/" + "a" * 32 + ".pdf",
        "ab/cd/" + "a" * 32 + ".pdf",
        "/etc/passwd",
        "A" * 32 + ".pdf",
        "a" * 32 + ".html",
        "a" * 32 + ".pdf\n",
        "a" * 32 + ".pdf/../../x",
        "a" * 32 + ".pdf",  # well-formed, but not stored
        "",
    ],
)
def test_send_stored_refuses_unknown_keys(app: flask.Flask, root: Path, key: str) -> None:
    with app.test_request_context(), pytest.raises(NotFound):
        send_stored(key, "x.pdf", "application/pdf", root=root)


def test_send_stored_refuses_mismatched_content_type(app: flask.Flask, root: Path) -> None:
    stored = store(io.BytesIO(pdf()), "offerte.pdf", root=root)
    with app.test_request_context(), pytest.raises(ValueError):
        send_stored(stored.storage_key, "x.html", "text/html", root=root)


# --- Messages -------------------------------------------------------------------------------


def test_messages_are_dutch(app: flask.Flask) -> None:
    with app.app_context():
        assert uploads.message(UploadRefused("too_large", {"max_bytes": 10 * MiB})) == (
            "Dit bestand is groter dan 10 MB. Kies een kleiner bestand."
        )
        assert uploads.message(UploadRefused("too_large", {"max_bytes": 5 * MiB // 2})) == (
            "Dit bestand is groter dan 2,5 MB. Kies een kleiner bestand."
        )
        assert uploads.message(UploadRefused("wrong_type")) == (
            "Dit type bestand kunnen wij niet aannemen. Kies een PDF, JPG of PNG."
        )
        assert uploads.message(UploadRefused("unsafe_pdf")) == (
            "Deze PDF bevat onderdelen die wij om veiligheidsredenen niet aannemen (zoals "
            "scripts). Maak er een gewone PDF van, bijvoorbeeld via Afdrukken → Opslaan als PDF."
        )
        assert uploads.message(UploadRefused("too_many", {"limit": 10})) == (
            "U kunt maximaal 10 bestanden toevoegen."
        )
        assert uploads.message(UploadRefused("empty")) == "Dit bestand is leeg."


def test_message_for_a_real_refusal(app: flask.Flask, root: Path) -> None:
    with pytest.raises(UploadRefused) as info:
        check_count(10, 1)
    with app.app_context():
        assert uploads.message(info.value) == "U kunt maximaal 10 bestanden toevoegen."
