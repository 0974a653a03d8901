"""A held response's notice to the author is a mark on its row, which the
mail job turns into an outbox row: storing a held comment writes one row

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made the column and index with these models.
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('comment')}
    if 'notice_due' not in columns:
        # Rows stored before have their notice in the outbox already (or sent).
        op.add_column(
            'comment',
            sa.Column('notice_due', sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    # Apart, so that an upgrade stopped after the column (SQLite's DDL is not
    # transactional) makes the index when it runs again.
    due = sa.column('notice_due', sa.Boolean()) == sa.true()
    op.create_index(
        'ix_comment_notice_due',
        'comment',
        ['id'],
        unique=False,
        sqlite_where=due,
        postgresql_where=due,
        if_not_exists=True,
    )


def downgrade():
    # The marks not yet taken become outbox rows, as 0020's code queued them.
    op.execute(
        "INSERT INTO mail_outbox"
        " (kind, ref_id, recipient, status, attempts, last_error,"
        " next_attempt_at, created_at)"
        " SELECT 'held', id, '', 'queued', 0, '', created_at, created_at"
        " FROM comment WHERE notice_due AND status = 'pending'"
    )
    op.drop_index('ix_comment_notice_due', table_name='comment')
    op.execute('ALTER TABLE comment DROP COLUMN notice_due')
