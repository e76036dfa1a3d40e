"""trigram indexes for the showcase search

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# The showcase's condition, written as the query writes it (portal.initiatives.models
# PUBLIC_CONDITION): a partial index is only used when the database can prove the query meets it.
PUBLIC_CONDITION = (
    "state IN ('in_conversation', 'published', 'realised', 'running', 'stopped') "
    "AND published_at IS NOT NULL"
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    # The showcase's pages of ids, newest first, and their count: only the public initiatives.
    op.create_index(
        "ix_initiatives_public_newest",
        "initiatives",
        ["published_at", "id"],
        postgresql_where=sa.text(PUBLIC_CONDITION),
        sqlite_where=sa.text(PUBLIC_CONDITION),
    )
    op.create_index(
        "ix_initiatives_public_id",
        "initiatives",
        ["id"],
        postgresql_where=sa.text(PUBLIC_CONDITION),
        sqlite_where=sa.text(PUBLIC_CONDITION),
    )
    # The search, ILIKE '%word%' in title and pitch: trigram (pg_trgm) GIN indexes on
    # PostgreSQL; SQLite gets plain indexes of the same name (which its LIKE does not use), so
    # that models and migrations stay the same on both.
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_initiatives_title_trgm",
        "initiatives",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_initiatives_pitch_trgm",
        "initiatives",
        ["pitch"],
        postgresql_using="gin",
        postgresql_ops={"pitch": "gin_trgm_ops"},
    )


def downgrade():
    # The pg_trgm extension stays: something else may use it by now.
    op.drop_index("ix_initiatives_pitch_trgm", table_name="initiatives")
    op.drop_index("ix_initiatives_title_trgm", table_name="initiatives")
    op.drop_index("ix_initiatives_public_id", table_name="initiatives")
    op.drop_index("ix_initiatives_public_newest", table_name="initiatives")
