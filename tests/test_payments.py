"""Payouts: the grant's payment, batches, four eyes against the decider, the SEPA file, paid."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import xmlschema
from sqlalchemy import select

from portal.applications.models import State
from portal.districts.models import DistrictBudget
from portal.extensions import db
from portal.money import payments
from portal.money.models import Payment, PaymentBatch
from portal.reviews import decisions
from tests.test_decisions import in_review

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "applicant": factory.user(postcode="7533AB", name="Anna Aanvrager"),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram"),
        "finance": factory.user(roles=("finance",), name="Fien Financiën"),
        # Both a case officer and in finance: decides a grant, so may not approve its batch.
        "both": factory.user(roles=("case_officer", "finance"), boroughs=("Oost",), name="Dub"),
        "chair": factory.user(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        "neighbours": [factory.user(postcode="7533AC") for _ in range(5)],
    }


def granted(people: dict[str, Any], cents: int, by: str = "officer") -> Any:
    application = in_review(people, cents=cents)
    if cents > 100_000:
        from portal.reviews import advice
        from tests.test_decisions import ask_advice

        ask_advice(application, people)
        advice.give_advice(application, people["chair"], "positive", "Goed", None, None)
    decisions.decide(
        application,
        people[by],
        decisions.Proposal(grant=True, amount_cents=cents, reasons="Past."),
    )
    assert application.state == State.GRANTED
    return application


@pytest.mark.parametrize(
    ("amount", "limit", "percent", "first"),
    [
        (39_000, 100_000, 80, 39_000),  # small: all at once
        (100_000, 100_000, 80, 100_000),  # exactly the limit is still small
        (150_000, 100_000, 80, 120_000),
        (150_001, 100_000, 80, 120_001),  # 1,200.008 euro: rounded up, in the applicant's favour
        (199_999, 100_000, 75, 150_000),  # 1,499.9925 euro
    ],
)
def test_the_first_payment(amount, limit, percent, first) -> None:
    assert payments.first_payment_cents(amount, limit, percent) == first


def test_a_grant_creates_its_payment(people) -> None:
    small = granted(people, 39_000)
    large = granted(people, 150_001)
    [full] = db.session.scalars(select(Payment).where(Payment.application_id == small.id))
    [advance] = db.session.scalars(select(Payment).where(Payment.application_id == large.id))
    assert (full.kind, full.amount_cents, full.status) == ("full", 39_000, "due")
    assert (advance.kind, advance.amount_cents) == ("advance", 120_001)
    assert advance.iban == "NL91ABNA0417164300" and advance.reference == f"{large.reference}-1"


def test_batch_approval_sepa_and_paid(client, login_as, people, mailbox) -> None:
    first = granted(people, 39_000)
    second = granted(people, 150_000)
    due = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    login_as(people["officer"])
    page = client.get("/betalingen").get_data(as_text=True)
    for payment in due:
        assert payment.reference in page
    response = client.post("/betalingen/batches", data={"payment": [str(p.id) for p in due]})
    assert response.status_code == 303
    batch = db.session.scalar(select(PaymentBatch))
    # A payment is in one batch at most.
    with pytest.raises(payments.PaymentRefused, match="not_due"):
        payments.create_batch(people["officer"], [due[0].id])
    client.post("/uitloggen")
    login_as(people["finance"])
    assert client.get(f"/betalingen/batches/{batch.id}/pain001.xml").status_code == 404
    assert client.post(f"/betalingen/batches/{batch.id}/goedkeuren").status_code == 303
    db.session.refresh(batch)
    assert batch.status == "approved" and batch.approved_by_id == people["finance"].id
    # Approved: nothing changes any more.
    with pytest.raises(payments.PaymentRefused, match="batch_closed"):
        payments.remove_from_batch(batch, due[0].id, people["officer"])
    response = client.get(f"/betalingen/batches/{batch.id}/pain001.xml")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    schema = xmlschema.XMLSchema(
        str(__import__("sepaxml").__path__[0]) + "/schemas/pain.001.001.03.xsd"
    )
    schema.validate(response.get_data(as_text=True))
    root = ET.fromstring(response.data)  # noqa: S314  (the portal's own file, just made)
    transfers = [
        {
            "name": tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            "amount": tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            "reference": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
        }
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]
    assert sorted(transfers, key=lambda t: t["reference"]) == sorted(
        [
            {
                "name": "Anna Aanvrager",
                "iban": "NL91ABNA0417164300",
                "amount": "390.00",
                "reference": f"{first.reference}-1",
            },
            {
                "name": "Anna Aanvrager",
                "iban": "NL91ABNA0417164300",
                "amount": "1200.00",
                "reference": f"{second.reference}-1",
            },
        ],
        key=lambda t: t["reference"],
    )
    budget = db.session.scalar(
        select(DistrictBudget).where(DistrictBudget.district_id == first.district_id)
    )
    before = (budget.committed_cents, budget.paid_cents)
    confirm = client.get(f"/betalingen/batches/{batch.id}/betaald")
    assert "Dit kunt u niet ongedaan maken" in confirm.get_data(as_text=True)
    assert client.post(f"/betalingen/batches/{batch.id}/betaald").status_code == 303
    db.session.expire_all()
    assert batch.status == "paid"
    assert all(p.status == "paid" for p in batch.payments)
    assert (budget.committed_cents, budget.paid_cents) == (
        before[0] - 159_000,
        before[1] + 159_000,
    )
    mails = [m for m in mailbox.to(people["applicant"].email) if "Betaald" in m["Subject"]]
    assert len(mails) == 2
    assert re.search(r"1\.200,00", " ".join(mailbox.text(m) for m in mails))


def test_the_decider_cannot_approve_the_batch_that_pays_the_grant(client, login_as, people) -> None:
    granted(people, 39_000, by="both")
    [payment] = db.session.scalars(select(Payment))
    batch = payments.create_batch(people["officer"], [payment.id])
    db.session.commit()
    login_as(people["both"])
    page = client.get(f"/betalingen/batches/{batch.id}").get_data(as_text=True)
    assert "U heeft een van de subsidies in deze batch zelf toegekend" in page
    assert "Batch goedkeuren" not in page
    response = client.post(f"/betalingen/batches/{batch.id}/goedkeuren")
    assert response.status_code == 303
    db.session.refresh(batch)
    assert batch.status == "open"
    with pytest.raises(payments.PaymentRefused, match="own_decision"):
        payments.approve(batch, people["both"])


def test_an_open_batch_can_lose_a_payment(client, login_as, people) -> None:
    granted(people, 39_000)
    [payment] = db.session.scalars(select(Payment))
    batch = payments.create_batch(people["officer"], [payment.id])
    db.session.commit()
    login_as(people["officer"])
    response = client.post(f"/betalingen/batches/{batch.id}/verwijderen/{payment.id}")
    assert response.status_code == 303
    db.session.refresh(payment)
    assert payment.status == "due" and payment.batch_id is None


def test_the_payments_list_uses_a_constant_number_of_queries(
    client, login_as, people, count_queries
) -> None:
    login_as(people["finance"])

    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/betalingen").status_code == 200
        return counter.count

    granted(people, 39_000)
    [payment] = db.session.scalars(select(Payment))
    payments.create_batch(people["officer"], [payment.id])
    db.session.commit()
    one = measure()
    for _ in range(12):
        application = granted(people, 39_000)
        [extra] = db.session.scalars(
            select(Payment).where(Payment.application_id == application.id)
        )
        payments.create_batch(people["officer"], [extra.id])
    db.session.commit()
    assert measure() == one


def test_the_payments_list_is_constant_with_ten_thousand_ledger_entries(
    client, login_as, people, count_queries
) -> None:
    from sqlalchemy import insert

    from portal.money.models import LedgerEntry

    login_as(people["finance"])
    application = granted(people, 39_000)
    [payment] = db.session.scalars(select(Payment))
    payments.create_batch(people["officer"], [payment.id])
    db.session.commit()
    with count_queries() as before:
        assert client.get("/betalingen").status_code == 200
    budget = db.session.scalar(
        select(DistrictBudget).where(DistrictBudget.district_id == application.district_id)
    )
    db.session.execute(
        insert(LedgerEntry),
        [
            {
                "budget_id": budget.id,
                "kind": "allocation",
                "allocated_delta": 1,
                "committed_delta": 0,
                "paid_delta": 0,
                "recovered_delta": 0,
                "description": "Test",
            }
            for _ in range(10_000)
        ],
    )
    db.session.commit()
    with count_queries() as after:
        assert client.get("/betalingen").status_code == 200
    assert after.count == before.count
