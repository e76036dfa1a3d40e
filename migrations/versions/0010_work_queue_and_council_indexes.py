"""indexes for the work queue and the council's requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# The number of applications per district and state follows the applications: the database
# adds and subtracts on every insert, change of state or district, and delete, so the work
# queue's counts per status read a few rows instead of counting tens of thousands. On PostgreSQL
# one statement-level trigger per kind of change applies the net changes of the whole statement
# (a COPY of 100,000 applications is one upsert), in a fixed order of rows; an UPDATE that
# changes neither state nor district nets to nothing and writes nothing. (On SQLite a later batch
# migration of ``applications`` that recreates the table must drop these triggers first and
# create them again afterwards.)
UPSERT_SQLITE = """INSERT INTO application_counts (district_id, state, total)
       VALUES (NEW.district_id, NEW.state, 1)
       ON CONFLICT (district_id, state) DO UPDATE SET total = total + 1"""
SUBTRACT_SQLITE = """UPDATE application_counts SET total = total - 1
       WHERE district_id = OLD.district_id AND state = OLD.state"""
COUNTS_SQLITE = [
    f"""CREATE TRIGGER application_counts_insert AFTER INSERT ON applications
       BEGIN {UPSERT_SQLITE}; END""",
    f"""CREATE TRIGGER application_counts_update AFTER UPDATE OF state, district_id
       ON applications
       WHEN OLD.state IS NOT NEW.state OR OLD.district_id IS NOT NEW.district_id
       BEGIN {SUBTRACT_SQLITE}; {UPSERT_SQLITE}; END""",
    f"""CREATE TRIGGER application_counts_delete AFTER DELETE ON applications
       BEGIN {SUBTRACT_SQLITE}; END""",
]
APPLY_POSTGRESQL = """INSERT INTO application_counts AS c (district_id, state, total)
         SELECT district_id, state, sum(delta) FROM ({changes}) AS changes
         GROUP BY district_id, state HAVING sum(delta) <> 0
         ORDER BY district_id, state
       ON CONFLICT (district_id, state) DO UPDATE SET total = c.total + EXCLUDED.total"""
ADDED = "SELECT district_id, state, 1 AS delta FROM new_rows"
REMOVED = "SELECT district_id, state, -1 AS delta FROM old_rows"
KINDS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows", ADDED),
    "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", f"{ADDED} UNION ALL {REMOVED}"),
    "delete": ("DELETE", "OLD TABLE AS old_rows", REMOVED),
}
COUNTS_POSTGRESQL = [
    statement
    for kind, (event, tables, changes) in KINDS.items()
    for statement in (
        f"""CREATE FUNCTION application_counts_{kind}() RETURNS trigger AS $$
       BEGIN {APPLY_POSTGRESQL.format(changes=changes)}; RETURN NULL; END;
       $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER application_counts_{kind} AFTER {event} ON applications
       REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION application_counts_{kind}()""",
    )
]
BACKFILL = """INSERT INTO application_counts (district_id, state, total)
    SELECT district_id, state, count(*) FROM applications GROUP BY district_id, state"""

NOT_DRAFT = "state <> 'draft'"

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('application_counts',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_application_counts_district_id_districts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_id', 'state', name=op.f('pk_application_counts'))
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Filled and then kept in the same transaction: no application is missed or counted twice.
    if postgresql:
        op.execute("LOCK TABLE applications IN SHARE ROW EXCLUSIVE MODE")
    op.execute(BACKFILL)
    for statement in COUNTS_POSTGRESQL if postgresql else COUNTS_SQLITE:
        op.execute(statement)

    op.create_index('ix_applications_queue', 'applications', ['decision_deadline', 'id'], unique=False, postgresql_include=['district_id', 'state', 'requested_cents'], postgresql_where=sa.text(NOT_DRAFT), sqlite_where=sa.text(NOT_DRAFT))
    op.create_index('ix_applications_queue_district', 'applications', ['district_id', 'decision_deadline', 'id'], unique=False, postgresql_include=['state', 'requested_cents'], postgresql_where=sa.text(NOT_DRAFT), sqlite_where=sa.text(NOT_DRAFT))
    op.create_index('ix_applications_queue_state', 'applications', ['state', 'decision_deadline', 'id'], unique=False, postgresql_include=['district_id', 'requested_cents'])
    op.create_index('ix_advice_requests_council', 'advice_requests', ['council_id', 'id'], unique=False)
    op.create_index('ix_advice_requests_unanswered', 'advice_requests', ['council_id', 'due_date', 'id'], unique=False, postgresql_include=['application_id'], postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))


def downgrade():
    op.drop_index('ix_advice_requests_unanswered', table_name='advice_requests')
    op.drop_index('ix_advice_requests_council', table_name='advice_requests')
    op.drop_index('ix_applications_queue_state', table_name='applications')
    op.drop_index('ix_applications_queue_district', table_name='applications')
    op.drop_index('ix_applications_queue', table_name='applications')
    if op.get_bind().dialect.name == "postgresql":
        for kind in KINDS:
            op.execute(f"DROP TRIGGER application_counts_{kind} ON applications")
            op.execute(f"DROP FUNCTION application_counts_{kind}()")
    else:
        for kind in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER application_counts_{kind}")
    op.drop_table('application_counts')
