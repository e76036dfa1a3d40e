"""indexes for the case page, the resident's pages and drafts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The page of a district's budget counts and sums its ledger entries per kind: with the deltas in
# the index (PostgreSQL) that reads the index only, not every entry's row.
DELTAS = ["allocated_delta", "committed_delta", "paid_delta", "recovered_delta"]


def upgrade():
    op.create_index(
        "ix_ledger_entries_budget_kind",
        "ledger_entries",
        ["budget_id", "kind"],
        postgresql_include=DELTAS,
    )


def downgrade():
    op.drop_index("ix_ledger_entries_budget_kind", table_name="ledger_entries")
