"""The initiator's side of an initiative: the draft and its form, photos without metadata,
submitting for the check, news, answers to offers of help, and the step to a wijkbudget
application."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import uploads
from portal.applications import services as application_services
from portal.applications.models import Application, Attachment, Decision, State
from portal.audit.models import AuditRecord
from portal.extensions import db
from portal.initiatives import services
from portal.initiatives.models import (
    MAX_PHOTOS,
    HelpOffer,
    Initiative,
    InitiativeMessage,
    InitiativePhoto,
    InitiativeTheme,
    InitiativeUpdate,
)
from portal.notifications.models import Notification
from portal.timeutil import local_today, utcnow
from tests.test_applications import make_complete_draft

GPS_IFD = 0x8825
ORIENTATION = 0x0112


# --- helpers -------------------------------------------------------------------------------------


def make_initiative(initiator: Any, *, state: str = "draft", complete: bool = True) -> Initiative:
    """An initiative of ``initiator`` (in their district), filled in when ``complete``."""
    initiative = services.create_draft(initiator, uuid.uuid4().hex)
    if complete:
        initiative.title = "Repair Café Glanerbrug"
        initiative.pitch = "Elke eerste zaterdag samen spullen repareren."
        initiative.description = "Kapotte lamp of fiets? Vrijwilligers helpen je."
        initiative.theme_links.append(
            InitiativeTheme(initiative_id=initiative.id, theme="duurzaam_gedrag")
        )
        initiative.slug = services.slugify(initiative.title)
    initiative.state = state
    if state not in ("draft", "submitted", "changes_requested"):
        initiative.published_at = utcnow()
    db.session.flush()
    return initiative


def jpeg_with_location(size: tuple[int, int] = (1600, 1000)) -> bytes:
    """A JPEG as a phone makes it: turned on its side (orientation 6), with the camera's make,
    a comment and the GPS position where it was taken."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "Telefoonmerk"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 13.0, 30.5), 3: "E", 4: (6.0, 55.0, 10.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"thuis bij Anna")
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test image has it
    return data


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 100, 200, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def upload_photo(
    client: Any, initiative_id: int, data: bytes | None = None, description: str = "De werkbank"
) -> Any:
    return client.post(
        f"/mijn-initiatieven/{initiative_id}/fotos",
        data={
            "foto-photo": (io.BytesIO(data or jpeg_with_location()), "foto.jpg"),
            "foto-description": description,
        },
        content_type="multipart/form-data",
    )


def root(app: Any) -> Path:
    return Path(app.config["PORTAL_UPLOAD_DIR"])


def photos_of(initiative_id: int) -> list[InitiativePhoto]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(InitiativePhoto)
            .where(InitiativePhoto.initiative_id == initiative_id)
            .order_by(InitiativePhoto.id)
        )
    )


def text_of(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def initiator(factory) -> Any:
    return factory.user(postcode="7533AB", name="Anna Initiatiefnemer")


# --- Mijn initiatieven and the draft ------------------------------------------------------------


def test_new_initiative_is_made_once_per_click(client, initiator, login_as) -> None:
    login_as(initiator)
    empty = client.get("/mijn-initiatieven")
    assert empty.status_code == 200
    assert "nog geen initiatieven" in text_of(empty) and "Nieuw initiatief" in text_of(empty)
    key = re.search(r'name="creation_key" type="hidden" value="([0-9a-f]+)"', text_of(empty))
    assert key, text_of(empty)
    first = client.post("/initiatieven/nieuw", data={"creation_key": key.group(1)})
    second = client.post("/initiatieven/nieuw", data={"creation_key": key.group(1)})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert re.fullmatch(r"/mijn-initiatieven/\d+/bewerken", first.headers["Location"])
    db.session.expire_all()
    [made] = db.session.scalars(select(Initiative).where(Initiative.initiator_id == initiator.id))
    assert made.state == "draft" and [d.name for d in made.districts] == ["Glanerbrug"]
    listing = text_of(client.get("/mijn-initiatieven"))
    assert "Concept zonder naam" in listing and "Concept" in listing


def test_save_keeps_what_was_typed_and_stores_what_is_valid(client, initiator, login_as) -> None:
    initiative = make_initiative(initiator, complete=False)
    db.session.commit()
    login_as(initiator)
    form = {
        "title": "T" * 10_000,
        "pitch": "Samen de buurt groener maken.",
        "description": "Bloembakken langs de hele straat.",
        "themes": ["leefbaarheid", "duurzaam_gedrag"],
        "help_wanted": ["materials"],
        "districts": [],
        "citywide": "y",
        "contact_note": "Stuur mij een bericht.",
    }
    response = client.post(f"/mijn-initiatieven/{initiative.id}/bewerken", data=form)
    assert response.status_code == 422
    page = text_of(response)
    assert "Controleer dit:" in page and 'href="#title"' in page
    assert "Dit mag hoogstens 120 tekens zijn" in page
    assert 'aria-describedby="title-uitleg title-fout"' in page
    assert "Samen de buurt groener maken." in page and "T" * 10_000 in page  # kept on the form
    db.session.expire_all()
    saved = db.session.get(Initiative, initiative.id)
    assert saved.title == ""  # too long: not stored, still on the form
    assert saved.pitch == "Samen de buurt groener maken."
    assert saved.themes == ["duurzaam_gedrag", "leefbaarheid"]
    assert saved.help_wanted == ["materials"] and saved.citywide and saved.districts == []

    form["title"] = "Bloemen in de Veldkampstraat!"
    form["districts"] = [str(initiator.district_id)]
    response = client.post(f"/mijn-initiatieven/{initiative.id}/bewerken", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mijn-initiatieven/{initiative.id}/bewerken"
    db.session.expire_all()
    saved = db.session.get(Initiative, initiative.id)
    assert saved.title == "Bloemen in de Veldkampstraat!"
    assert saved.slug == "bloemen-in-de-veldkampstraat"
    assert [d.id for d in saved.districts] == [initiator.district_id]
    page = text_of(client.get(f"/mijn-initiatieven/{initiative.id}/bewerken"))
    assert "Opgeslagen." in page and 'value="Bloemen in de Veldkampstraat!"' in page
    # "Opslaan en indienen" saves, then goes to the check before submitting.
    form["to_submit"] = "1"
    response = client.post(f"/mijn-initiatieven/{initiative.id}/bewerken", data=form)
    assert response.headers["Location"] == f"/mijn-initiatieven/{initiative.id}/indienen"


def test_only_the_initiator_edits_and_only_before_submission(client, personas, login_as) -> None:
    initiative = make_initiative(personas["resident"])
    db.session.commit()
    edit = f"/mijn-initiatieven/{initiative.id}/bewerken"
    anonymous = client.get(edit)
    assert anonymous.status_code == 302 and "/inloggen" in anonymous.headers["Location"]
    for name in ("other_resident", "case_officer", "admin", "council_member"):
        login_as(personas[name])
        for path in (
            edit,
            f"/mijn-initiatieven/{initiative.id}",
            f"/mijn-initiatieven/{initiative.id}/indienen",
            f"/mijn-initiatieven/{initiative.id}/verwijderen",
        ):
            assert client.get(path).status_code == 404, (name, path)
        assert client.post(edit, data={"title": "Van mij"}).status_code == 404, name
        client.post("/uitloggen")
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).title == "Repair Café Glanerbrug"

    initiative.state = "submitted"
    db.session.commit()
    login_as(personas["resident"])
    response = client.get(edit)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mijn-initiatieven/{initiative.id}"
    page = text_of(client.get(response.headers["Location"]))
    assert "U kunt dit initiatief nu niet wijzigen" in page and "Ingediend, wordt bekeken" in page
    assert client.post(edit, data={"title": "Toch anders"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).title == "Repair Café Glanerbrug"


def test_changes_requested_shows_the_message_and_can_be_edited(client, initiator, login_as) -> None:
    initiative = make_initiative(initiator, state="changes_requested")
    initiative.changes_message = "Zet er geen telefoonnummer in <b>graag</b>."
    db.session.commit()
    login_as(initiator)
    page = text_of(client.get(f"/mijn-initiatieven/{initiative.id}/bewerken"))
    assert "De gemeente vraagt u iets aan te passen" in page
    assert "Zet er geen telefoonnummer in &lt;b&gt;graag&lt;/b&gt;." in page


# --- submitting --------------------------------------------------------------------------------


def test_submit_lists_what_is_missing_then_submits_and_tells_the_boroughs_officers(
    client, factory, initiator, login_as
) -> None:
    oost = factory.user(roles=("case_officer",), boroughs=("Oost",))
    centrum = factory.user(roles=("case_officer",), boroughs=("Centrum",))
    initiative = make_initiative(initiator, complete=False)
    db.session.commit()
    login_as(initiator)
    check = text_of(client.get(f"/mijn-initiatieven/{initiative.id}/indienen"))
    assert "Dit moet nog gebeuren voordat u kunt indienen:" in check
    refused = client.post(f"/mijn-initiatieven/{initiative.id}/indienen")
    assert refused.status_code == 422
    page = text_of(refused)
    for message in (
        "Geef uw initiatief een naam.",
        "Schrijf in één zin waar uw initiatief over gaat.",
        "Vertel meer over uw initiatief.",
        "Kies minstens één thema.",
    ):
        assert message in page
    assert "#themes" in page
    assert "Kies een of meer wijken" not in page  # the initiator's district was chosen already
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).state == "draft"

    client.post(
        f"/mijn-initiatieven/{initiative.id}/bewerken",
        data={
            "title": "Repair Café",
            "pitch": "Samen repareren.",
            "description": "Elke maand in het buurthuis.",
            "themes": ["duurzaam_gedrag"],
            "districts": [str(initiator.district_id)],
        },
    )
    done = client.post(f"/mijn-initiatieven/{initiative.id}/indienen")
    assert (
        done.status_code == 303
        and done.headers["Location"] == f"/mijn-initiatieven/{initiative.id}"
    )
    db.session.expire_all()
    submitted = db.session.get(Initiative, initiative.id)
    assert submitted.state == "submitted" and submitted.submitted_at is not None
    assert submitted.review_due > local_today()
    audit = db.session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "initiative",
            AuditRecord.object_id == initiative.id,
            AuditRecord.action == "initiative.submitted",
        )
    )
    assert (audit.from_state, audit.to_state, audit.actor_id) == (
        "draft",
        "submitted",
        initiator.id,
    )
    told = db.session.scalars(
        select(Notification).where(
            Notification.kind == "initiative_submitted", Notification.object_id == initiative.id
        )
    ).all()
    told_ids = {n.user_id for n in told}
    assert oost.id in told_ids and centrum.id not in told_ids and initiator.id not in told_ids
    mine = next(n for n in told if n.user_id == oost.id)
    assert "Repair Café" in mine.subject
    assert mine.link.endswith(f"/behandeling/initiatieven/{initiative.id}")
    # Posting it again changes nothing and tells no one again.
    again = client.post(f"/mijn-initiatieven/{initiative.id}/indienen")
    assert again.status_code == 303
    assert db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.kind == "initiative_submitted", Notification.object_id == initiative.id
        )
    ) == len(told)


def test_a_draft_is_discarded_after_a_confirmation(client, app, initiator, login_as) -> None:
    initiative = make_initiative(initiator)
    db.session.commit()
    login_as(initiator)
    upload_photo(client, initiative.id)
    [photo] = photos_of(initiative.id)
    files = [
        uploads.stored_path(photo.storage_key, root(app)),
        uploads.stored_path(photo.thumbnail_key, root(app)),
    ]
    assert all(f.exists() for f in files)
    confirm = client.get(f"/mijn-initiatieven/{initiative.id}/verwijderen")
    assert confirm.status_code == 200 and "Concept verwijderen?" in text_of(confirm)
    initiative_id = initiative.id
    response = client.post(f"/mijn-initiatieven/{initiative_id}/verwijderen")
    assert response.status_code == 303 and response.headers["Location"] == "/mijn-initiatieven"
    db.session.expire_all()
    assert db.session.get(Initiative, initiative_id) is None
    assert not any(f.exists() for f in files)


# --- photos --------------------------------------------------------------------------------------


def test_photo_loses_its_metadata_and_gets_a_thumbnail(client, app, initiator, login_as) -> None:
    initiative = make_initiative(initiator)
    db.session.commit()
    login_as(initiator)
    response = upload_photo(client, initiative.id, description="Buren aan de <b>werkbank</b>")
    assert response.status_code == 303
    [photo] = photos_of(initiative.id)
    assert photo.ready and photo.thumbnail_key and photo.description.startswith("Buren aan")
    cleaned = uploads.stored_path(photo.storage_key, root(app)).read_bytes()
    assert b"Exif" not in cleaned and b"thuis bij Anna" not in cleaned
    assert b"Telefoonmerk" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not image.getexif().get_ifd(GPS_IFD) and not image.getexif()
        assert "comment" not in image.info and "exif" not in image.info
        assert image.size == (1000, 1600)  # turned upright as the camera meant
    with Image.open(uploads.stored_path(photo.thumbnail_key, root(app))) as small:
        assert small.format == "JPEG" and small.size == (640, 1024)
        assert not small.getexif()
    # The job is idempotent: running it again leaves the ready photo alone.
    from portal.initiatives.jobs import process_photo

    assert process_photo(photo.id) == "already done"
    page = text_of(client.get(f"/mijn-initiatieven/{initiative.id}/bewerken"))
    assert 'alt="Buren aan de &lt;b&gt;werkbank&lt;/b&gt;"' in page


def test_png_keeps_its_transparency_and_a_pdf_is_not_a_photo(
    client, app, initiator, login_as
) -> None:
    initiative = make_initiative(initiator)
    db.session.commit()
    login_as(initiator)
    assert upload_photo(client, initiative.id, png_bytes()).status_code == 303
    [photo] = photos_of(initiative.id)
    assert photo.ready and photo.content_type == "image/png"
    with Image.open(uploads.stored_path(photo.storage_key, root(app))) as image:
        assert image.mode == "RGBA"
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    refused = upload_photo(client, initiative.id, pdf)
    assert refused.status_code == 422 and "Kies een JPG- of PNG-bestand" in text_of(refused)
    no_text = upload_photo(client, initiative.id, description="")
    assert no_text.status_code == 422
    assert "Beschrijf in een paar woorden wat er op de foto staat." in text_of(no_text)
    assert len(photos_of(initiative.id)) == 1


def test_at_most_six_photos(client, initiator, login_as) -> None:
    initiative = make_initiative(initiator)
    for number in range(MAX_PHOTOS):
        db.session.add(
            InitiativePhoto(
                initiative_id=initiative.id,
                position=number,
                storage_key=f"{uuid.uuid4().hex}.jpg",
                content_type="image/jpeg",
                display_name="foto.jpg",
                size=10,
                description=f"Foto {number}",
                uploaded_by_id=initiator.id,
            )
        )
    db.session.commit()
    login_as(initiator)
    response = upload_photo(client, initiative.id)
    assert response.status_code == 422
    assert "U kunt hoogstens 6 foto" in text_of(response)
    assert len(photos_of(initiative.id)) == MAX_PHOTOS


def test_photo_is_shown_to_who_may_see_the_initiative(client, app, personas, login_as) -> None:
    initiative = make_initiative(personas["resident"])
    db.session.commit()
    login_as(personas["resident"])
    upload_photo(client, initiative.id)
    [photo] = photos_of(initiative.id)
    small = f"/initiatieven/{initiative.id}/fotos/{photo.id}/klein"
    large = f"/initiatieven/{initiative.id}/fotos/{photo.id}/groot"
    shown = client.get(small)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Content-Disposition"].startswith("inline; filename=")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(large).headers["Content-Disposition"].startswith("inline")
    assert client.get(f"/initiatieven/{initiative.id}/fotos/{photo.id}/middel").status_code == 404
    client.post("/uitloggen")
    for name in ("anonymous", "other_resident", "case_officer"):
        if personas[name] is not None:
            login_as(personas[name])
        assert client.get(small).status_code == 404, name
        assert client.get(large).status_code == 404, name
        client.post("/uitloggen")

    initiative = db.session.get(Initiative, initiative.id)
    initiative.state = "published"
    other = make_initiative(personas["other_resident"], state="published")
    db.session.commit()
    assert client.get(large).status_code == 200  # anyone, once it is public
    # A photo is only found under its own initiative.
    assert client.get(f"/initiatieven/{other.id}/fotos/{photo.id}/groot").status_code == 404
    # A photo that is not processed yet is not shown to anyone.
    db.session.execute(
        InitiativePhoto.__table__.update().where(InitiativePhoto.id == photo.id).values(ready=False)
    )
    db.session.commit()
    assert client.get(large).status_code == 404


def test_photo_is_deleted_after_a_confirmation(client, app, initiator, login_as) -> None:
    initiative = make_initiative(initiator)
    db.session.commit()
    login_as(initiator)
    upload_photo(client, initiative.id)
    [photo] = photos_of(initiative.id)
    path = uploads.stored_path(photo.storage_key, root(app))
    url = f"/mijn-initiatieven/{initiative.id}/fotos/{photo.id}/verwijderen"
    assert "Foto verwijderen?" in text_of(client.get(url))
    response = client.post(url)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mijn-initiatieven/{initiative.id}/bewerken#fotos"
    assert photos_of(initiative.id) == [] and not path.exists()


# --- after publication -------------------------------------------------------------------------


def test_news_with_a_photo_appears_on_the_timeline(client, initiator, login_as) -> None:
    initiative = make_initiative(initiator, state="published")
    draft = make_initiative(initiator)
    db.session.commit()
    login_as(initiator)
    response = client.post(
        f"/mijn-initiatieven/{initiative.id}/nieuws",
        data={
            "body": "De eerste reparaties zijn gelukt! <script>alert(1)</script>",
            "photo_1": (io.BytesIO(jpeg_with_location()), "eerste.jpg"),
            "description_1": "Een gerepareerde lamp",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    [entry] = db.session.scalars(
        select(InitiativeUpdate).where(
            InitiativeUpdate.initiative_id == initiative.id, InitiativeUpdate.kind == "update"
        )
    )
    assert entry.body.startswith("De eerste reparaties zijn gelukt!")
    assert entry.author_id == initiator.id
    [photo] = entry.photos
    assert (
        photo.ready and photo.update_id == entry.id and photo.description == "Een gerepareerde lamp"
    )
    assert db.session.get(Initiative, initiative.id).photos == []  # not one of the six
    page = text_of(client.get(f"/mijn-initiatieven/{initiative.id}"))
    assert "De eerste reparaties zijn gelukt! &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and 'alt="Een gerepareerde lamp"' in page

    missing_text = client.post(
        f"/mijn-initiatieven/{initiative.id}/nieuws",
        data={
            "body": "",
            "photo_1": (io.BytesIO(jpeg_with_location()), "twee.jpg"),
            "description_1": "",
        },
        content_type="multipart/form-data",
    )
    assert missing_text.status_code == 422
    page = text_of(missing_text)
    assert "Schrijf uw nieuws." in page and "Beschrijf in een paar woorden" in page
    assert "Kies de foto&#39;s opnieuw." in page
    # A draft has no timeline yet.
    early = client.post(f"/mijn-initiatieven/{draft.id}/nieuws", data={"body": "Te vroeg"})
    assert early.status_code == 303
    assert (
        db.session.scalar(
            select(func.count(InitiativeUpdate.id)).where(
                InitiativeUpdate.initiative_id == draft.id
            )
        )
        == 0
    )


@pytest.fixture
def conversation(factory, initiator) -> SimpleNamespace:
    """A published initiative with an offer of help and a question through the portal."""
    helper = factory.user(postcode="7533AC", name="Henk Helper")
    asker = factory.user(postcode="7511AB", name="Vera Vraag")
    initiative = make_initiative(initiator, state="published")
    offer = HelpOffer(
        initiative_id=initiative.id,
        user_id=helper.id,
        kind="volunteers",
        what="Ik kan fietsen maken <img src=x onerror=alert(1)>",
        time_available="Zaterdagochtend",
    )
    db.session.add(offer)
    db.session.flush()
    question = InitiativeMessage(
        initiative_id=initiative.id,
        sender_id=asker.id,
        recipient_id=initiator.id,
        body="Mag ik ook een stoel brengen?",
    )
    db.session.add(question)
    db.session.commit()
    return SimpleNamespace(
        initiative=initiative.id, offer=offer.id, question=question.id, helper=helper, asker=asker
    )


def test_offers_and_messages_are_shown_to_the_initiator_with_answer_forms(
    client, initiator, conversation, login_as
) -> None:
    c = conversation
    login_as(initiator)
    page = text_of(client.get(f"/mijn-initiatieven/{c.initiative}"))
    assert "Henk Helper biedt aan: Vrijwilligers" in page and "Zaterdagochtend" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert f'id="antwoord-offer-{c.offer}"' in page
    assert f'for="antwoord-message-{c.question}"' in page and "Van Vera Vraag" in page
    assert "Uw antwoord aan Henk Helper" in page and "Uw antwoord aan Vera Vraag" in page

    empty = client.post(
        f"/mijn-initiatieven/{c.initiative}/antwoord", data={"answers": f"offer-{c.offer}"}
    )
    assert empty.status_code == 422
    assert "Schrijf uw antwoord." in text_of(empty)
    assert f'href="#antwoord-offer-{c.offer}"' in text_of(empty)
    too_long = client.post(
        f"/mijn-initiatieven/{c.initiative}/antwoord",
        data={"answers": f"message-{c.question}", "body": "a" * 10_000},
    )
    assert too_long.status_code == 422
    assert "Dit mag hoogstens 2000 tekens zijn." in text_of(too_long)

    # Not to offers or messages of another initiative, nor to what the initiator sent.
    other = make_initiative(initiator, state="published")
    mine = InitiativeMessage(
        initiative_id=c.initiative,
        sender_id=initiator.id,
        recipient_id=c.asker.id,
        body="Van mij",
    )
    db.session.add(mine)
    db.session.commit()
    for initiative_id, answers in (
        (other.id, f"offer-{c.offer}"),
        (c.initiative, f"message-{mine.id}"),
        (c.initiative, "offer-999999999"),
        (c.initiative, "iets anders"),
    ):
        response = client.post(
            f"/mijn-initiatieven/{initiative_id}/antwoord",
            data={"answers": answers, "body": "Hallo"},
        )
        assert response.status_code == 404, answers
    # Someone else cannot answer in the initiator's name.
    client.post("/uitloggen")
    login_as(c.asker)
    response = client.post(
        f"/mijn-initiatieven/{c.initiative}/antwoord",
        data={"answers": f"offer-{c.offer}", "body": "Ik doe alsof"},
    )
    assert response.status_code == 404
    assert (
        db.session.scalar(
            select(func.count(InitiativeMessage.id)).where(InitiativeMessage.body == "Hallo")
        )
        == 0
    )


def test_answer_to_an_offer_and_a_message_reaches_the_person(
    client, initiator, conversation, login_as
) -> None:
    c = conversation
    login_as(initiator)
    response = client.post(
        f"/mijn-initiatieven/{c.initiative}/antwoord",
        data={"answers": f"offer-{c.offer}", "body": "Graag! Kom zaterdag om tien uur."},
    )
    assert response.status_code == 303
    answer = client.post(
        f"/mijn-initiatieven/{c.initiative}/antwoord",
        data={"answers": f"message-{c.question}", "body": "Ja hoor, dank je."},
    )
    assert answer.status_code == 303
    db.session.expire_all()
    sent = db.session.scalars(
        select(InitiativeMessage)
        .where(InitiativeMessage.sender_id == initiator.id)
        .order_by(InitiativeMessage.id)
    ).all()
    assert [(m.recipient_id, m.help_offer_id, m.body) for m in sent] == [
        (c.helper.id, c.offer, "Graag! Kom zaterdag om tien uur."),
        (c.asker.id, None, "Ja hoor, dank je."),
    ]
    for person, body in ((c.helper, "Graag! Kom zaterdag"), (c.asker, "Ja hoor")):
        [told] = db.session.scalars(
            select(Notification).where(
                Notification.user_id == person.id, Notification.kind == "initiative_message"
            )
        ).all()
        assert body in told.body_text and "Anna Initiatiefnemer" in told.subject
        assert f"/initiatieven/{c.initiative}-repair-cafe-glanerbrug" in told.link
        assert initiator.email not in told.body_text
    page = text_of(client.get(f"/mijn-initiatieven/{c.initiative}"))
    assert "Graag! Kom zaterdag om tien uur." in page and "Uw bericht aan Vera Vraag" in page


# --- from initiative to wijkbudget -------------------------------------------------------------


def test_wijkbudget_application_is_prefilled_linked_and_made_once(
    client, app, initiator, login_as
) -> None:
    initiative = make_initiative(initiator)
    initiative.theme_links.append(
        InitiativeTheme(initiative_id=initiative.id, theme="leefbaarheid")
    )
    db.session.commit()
    login_as(initiator)
    upload_photo(client, initiative.id, description="De werkbank")
    early = client.post(f"/mijn-initiatieven/{initiative.id}/wijkbudget")
    assert (
        early.status_code == 303
        and early.headers["Location"] == f"/mijn-initiatieven/{initiative.id}"
    )
    initiative = db.session.get(Initiative, initiative.id)
    initiative.state = "published"
    db.session.commit()

    response = client.post(f"/mijn-initiatieven/{initiative.id}/wijkbudget")
    assert response.status_code == 303
    found = re.fullmatch(r"/aanvragen/(\d+)/bewerken/activiteit", response.headers["Location"])
    assert found, response.headers["Location"]
    db.session.expire_all()
    application = db.session.get(Application, int(found.group(1)))
    assert application.initiative_id == initiative.id and application.applicant_id == initiator.id
    assert application.title == "Repair Café Glanerbrug"
    assert application.description == (
        "Elke eerste zaterdag samen spullen repareren.\n\n"
        "Kapotte lamp of fiets? Vrijwilligers helpen je."
    )
    assert sorted(application.kaders) == ["duurzaam_gedrag", "leefbaarheid"]
    [photo] = photos_of(initiative.id)
    [attachment] = application.attachments
    assert attachment.kind == "photo" and attachment.content_type == photo.content_type
    assert attachment.storage_key != photo.storage_key
    copied = uploads.stored_path(attachment.storage_key, root(app))
    assert copied.read_bytes() == uploads.stored_path(photo.storage_key, root(app)).read_bytes()

    again = client.post(f"/mijn-initiatieven/{initiative.id}/wijkbudget")
    assert again.headers["Location"] == response.headers["Location"]
    assert (
        db.session.scalar(
            select(func.count(Application.id)).where(Application.initiative_id == initiative.id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            select(func.count(Attachment.id)).where(Attachment.application_id == application.id)
        )
        == 1
    )
    # Linked both ways: the initiator's page leads to the application, the application's page
    # to the initiative.
    manage = text_of(client.get(f"/mijn-initiatieven/{initiative.id}"))
    assert response.headers["Location"] in manage
    db.session.execute(
        Application.__table__.update()
        .where(Application.id == application.id)
        .values(state="submitted", reference="WB-1999-7777", submitted_at=utcnow())
    )
    db.session.commit()
    detail = text_of(client.get(f"/aanvragen/{application.id}"))
    assert "Hoort bij initiatief Repair Café Glanerbrug" in detail
    assert f'href="/initiatieven/{initiative.id}-repair-cafe-glanerbrug"' in detail
    # Removing the photo from one does not break the other.
    uploads.delete(photo.storage_key, root(app))
    assert copied.exists()


def test_milestones_of_the_application_reach_the_timeline(factory) -> None:
    from portal.reviews import decisions

    applicant = factory.user(postcode="7533AB", name="Anna Aanvrager")
    neighbours = [factory.user(postcode="7533AC") for _ in range(5)]
    initiative = make_initiative(applicant, state="published")
    application = make_complete_draft(applicant, neighbours)
    application.initiative_id = initiative.id
    db.session.flush()
    application_services.submit(application, applicant)
    db.session.flush()
    milestones = lambda: [  # noqa: E731
        entry.code
        for entry in db.session.scalars(
            select(InitiativeUpdate)
            .where(
                InitiativeUpdate.initiative_id == initiative.id,
                InitiativeUpdate.kind == "milestone",
            )
            .order_by(InitiativeUpdate.id)
        )
    ]
    assert milestones() == ["application_submitted"]
    officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    db.session.execute(
        Application.__table__.update()
        .where(Application.id == application.id)
        .values(state=State.GRANTED.value, granted_cents=application.requested_cents)
    )
    db.session.refresh(application)
    decision = Decision(
        application_id=application.id,
        outcome="granted",
        status="final",
        amount_cents=application.requested_cents,
        reasons="Voldoet aan de regels.",
        decided_by_id=officer.id,
    )
    application.decisions.append(decision)
    db.session.flush()
    decisions.send(application, decision)
    assert milestones() == ["application_submitted", "granted"]
    # An application not made from an initiative leaves every timeline alone.
    services.record_milestone(None, "granted")
    assert milestones() == ["application_submitted", "granted"]


# --- malicious input and query counts -----------------------------------------------------------


def test_malicious_text_is_cleaned_and_shown_as_plain_text(client, initiator, login_as) -> None:
    initiative = make_initiative(initiator, complete=False)
    db.session.commit()
    login_as(initiator)
    form = {
        "title": '<script>alert("titel")</script>\u202eTitel\x00',
        "pitch": "<img src=x onerror=alert(1)> en\nnog een regel",
        "description": '<a href="javascript:alert(1)">klik</a>\x07\u202e\u2066 tekst\r\nregel 2',
        "contact_note": "javascript:alert(1) \u202ebel mij",
        "themes": ["leefbaarheid"],
        "districts": [str(initiator.district_id)],
    }
    assert client.post(f"/mijn-initiatieven/{initiative.id}/bewerken", data=form).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Initiative, initiative.id)
    assert saved.title == '<script>alert("titel")</script>Titel'
    assert saved.pitch == "<img src=x onerror=alert(1)> en nog een regel"
    assert saved.description == '<a href="javascript:alert(1)">klik</a> tekst\nregel 2'
    assert saved.contact_note == "javascript:alert(1) bel mij"
    assert saved.slug == "script-alert-titel-script-titel"
    pages = {
        "edit": f"/mijn-initiatieven/{initiative.id}/bewerken",
        "check": f"/mijn-initiatieven/{initiative.id}/indienen",
        "mine": "/mijn-initiatieven",
        "discard": f"/mijn-initiatieven/{initiative.id}/verwijderen",
    }
    for name, path in pages.items():
        page = text_of(client.get(path))
        assert "<script>alert" not in page, name
        assert "&lt;script&gt;alert(" in page, name
        assert "<img src=x" not in page and '<a href="javascript:' not in page, name
        assert "\u202e" not in page, name
    client.post(f"/mijn-initiatieven/{initiative.id}/indienen")
    page = text_of(client.get(f"/mijn-initiatieven/{initiative.id}"))
    assert "&lt;script&gt;alert(" in page and "<script>alert" not in page

    too_long = {
        **form,
        "title": "x" * 10_000,
        "pitch": "y" * 10_000,
        "description": "z" * 10_000,
        "contact_note": "w" * 10_000,
    }
    other = make_initiative(initiator, complete=False)
    db.session.commit()
    response = client.post(f"/mijn-initiatieven/{other.id}/bewerken", data=too_long)
    assert response.status_code == 422
    page = text_of(response)
    for maximum in (120, 200, 5000, 1000):
        assert f"Dit mag hoogstens {maximum} tekens zijn. Maak het korter." in page
    db.session.expire_all()
    unchanged = db.session.get(Initiative, other.id)
    assert (unchanged.title, unchanged.pitch, unchanged.description) == ("", "", "")


def test_mijn_initiatieven_takes_the_same_queries_for_many(
    client, initiator, login_as, count_queries
) -> None:
    for _ in range(2):
        make_initiative(initiator)
    make_initiative(initiator, state="published")
    db.session.commit()
    login_as(initiator)
    client.get("/mijn-initiatieven")
    with count_queries() as few:
        assert client.get("/mijn-initiatieven").status_code == 200
    for _ in range(14):
        make_initiative(initiator, state="running")
    db.session.commit()
    with count_queries() as many:
        page = text_of(client.get("/mijn-initiatieven"))
    assert page.count("Repair Café Glanerbrug") == 17
    assert many.count == few.count, many.statements


def test_offers_and_messages_take_the_same_queries_for_many(
    client, factory, initiator, login_as, count_queries
) -> None:
    initiative = make_initiative(initiator, state="published")
    helpers = [factory.user(postcode="7533AC") for _ in range(8)]

    def add(people: list[Any]) -> None:
        for person in people:
            offer = HelpOffer(
                initiative_id=initiative.id, user_id=person.id, kind="space", what="Mijn schuur"
            )
            db.session.add(offer)
            db.session.flush()
            db.session.add_all(
                [
                    InitiativeMessage(
                        initiative_id=initiative.id,
                        help_offer_id=offer.id,
                        sender_id=initiator.id,
                        recipient_id=person.id,
                        body="Dank je!",
                    ),
                    InitiativeMessage(
                        initiative_id=initiative.id,
                        sender_id=person.id,
                        recipient_id=initiator.id,
                        body="Een vraag",
                    ),
                ]
            )
        db.session.commit()

    url = f"/mijn-initiatieven/{initiative.id}"
    add(helpers[:2])
    login_as(initiator)
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add(helpers[2:])
    with count_queries() as many:
        page = text_of(client.get(url))
    assert page.count("Mijn schuur") == 8 and page.count("Een vraag") == 8
    assert many.count == few.count, many.statements
