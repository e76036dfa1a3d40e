"""Money: payments and district budgets."""

from __future__ import annotations

from flask import Blueprint, Response, request

from portal.web import render, roles_required

bp = Blueprint("money", __name__)


@bp.route("/betalingen")
@roles_required("finance", "case_officer")
def payments() -> Response:
    """Payouts: for case officers the payments ready to batch; for everyone the batches, open
    ones first."""
    from portal.money.payment_views import (
        BatchForm,
        batches_page,
        due_for_officer,
        open_recoveries,
    )

    page_number = max(request.args.get("page", 1, type=int), 1)
    rows, total, per_page = batches_page(page_number)
    return render(
        "money/payments.html",
        recoveries=open_recoveries(),
        due=due_for_officer(),
        rows=rows,
        total=total,
        page_number=page_number,
        pages=max((total + per_page - 1) // per_page, 1),
        batch_form=BatchForm(formdata=None),
    )


# Register the payout and district budget pages on bp.
from portal.money import budgets, payment_views  # noqa: E402,F401
