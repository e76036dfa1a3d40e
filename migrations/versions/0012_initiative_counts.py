"""the number of published initiatives per state, for the showcase's count

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# The number of published initiatives (``published_at`` set) per state follows the initiatives:
# the database adds and subtracts on every insert, change of state or of publication, and delete,
# so the showcase's count without filters (or with only a status) reads a few rows instead of
# counting 20,000 initiatives. Public = a public state and published, so the showcase sums the
# rows of the public states. On PostgreSQL one statement-level trigger per kind of change applies
# the net changes of the whole statement (a COPY of 20,000 initiatives is one upsert), in a fixed
# order of rows; an UPDATE that changes neither state nor publication (a support, an edit) nets to
# nothing and writes nothing. (On SQLite a later batch migration of ``initiatives`` that
# recreates the table must drop these triggers first and create them again afterwards.)
UPSERT_SQLITE = """INSERT INTO initiative_counts (state, total)
       SELECT NEW.state, 1 WHERE NEW.published_at IS NOT NULL
       ON CONFLICT (state) DO UPDATE SET total = total + 1"""
SUBTRACT_SQLITE = """UPDATE initiative_counts SET total = total - 1
       WHERE state = OLD.state AND OLD.published_at IS NOT NULL"""
COUNTS_SQLITE = [
    f"""CREATE TRIGGER initiative_counts_insert AFTER INSERT ON initiatives
       WHEN NEW.published_at IS NOT NULL
       BEGIN {UPSERT_SQLITE}; END""",
    f"""CREATE TRIGGER initiative_counts_update AFTER UPDATE OF state, published_at
       ON initiatives
       WHEN OLD.state IS NOT NEW.state
         OR (OLD.published_at IS NULL) <> (NEW.published_at IS NULL)
       BEGIN {SUBTRACT_SQLITE}; {UPSERT_SQLITE}; END""",
    f"""CREATE TRIGGER initiative_counts_delete AFTER DELETE ON initiatives
       WHEN OLD.published_at IS NOT NULL
       BEGIN {SUBTRACT_SQLITE}; END""",
]
APPLY_POSTGRESQL = """INSERT INTO initiative_counts AS c (state, total)
         SELECT state, sum(delta) FROM ({changes}) AS changes
         GROUP BY state HAVING sum(delta) <> 0
         ORDER BY state
       ON CONFLICT (state) DO UPDATE SET total = c.total + EXCLUDED.total"""
ADDED = "SELECT state, 1 AS delta FROM new_rows WHERE published_at IS NOT NULL"
REMOVED = "SELECT state, -1 AS delta FROM old_rows WHERE published_at IS NOT NULL"
KINDS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows", ADDED),
    "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", f"{ADDED} UNION ALL {REMOVED}"),
    "delete": ("DELETE", "OLD TABLE AS old_rows", REMOVED),
}
COUNTS_POSTGRESQL = [
    statement
    for kind, (event, tables, changes) in KINDS.items()
    for statement in (
        f"""CREATE FUNCTION initiative_counts_{kind}() RETURNS trigger AS $$
       BEGIN {APPLY_POSTGRESQL.format(changes=changes)}; RETURN NULL; END;
       $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER initiative_counts_{kind} AFTER {event} ON initiatives
       REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION initiative_counts_{kind}()""",
    )
]
BACKFILL = """INSERT INTO initiative_counts (state, total)
    SELECT state, count(*) FROM initiatives WHERE published_at IS NOT NULL GROUP BY state"""

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('initiative_counts',
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_initiative_counts'))
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Filled and then kept in the same transaction: no initiative is missed or counted twice.
    if postgresql:
        op.execute("LOCK TABLE initiatives IN SHARE ROW EXCLUSIVE MODE")
    op.execute(BACKFILL)
    for statement in COUNTS_POSTGRESQL if postgresql else COUNTS_SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for kind in KINDS:
            op.execute(f"DROP TRIGGER initiative_counts_{kind} ON initiatives")
            op.execute(f"DROP FUNCTION initiative_counts_{kind}()")
    else:
        for kind in KINDS:
            op.execute(f"DROP TRIGGER initiative_counts_{kind}")
    op.drop_table('initiative_counts')
