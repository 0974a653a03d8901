"""Index replies by thread and parent, and imported ids, only where the row has
one: a new top-level comment's INSERT skips the three indexes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# Name: (columns, the column whose NULL rows no query asks for).
INDEXES = {
    'ix_comment_thread_status': (['thread_id', 'status'], 'thread_id'),
    'ix_comment_parent_status': (['parent_id', 'status'], 'parent_id'),
    'ix_comment_post_legacy': (['post_id', 'legacy_id'], 'legacy_id'),
}


def _partial(name):
    # A database made by init-db with these models has them partial already.
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        definition = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
            {'name': name},
        ).scalar()
        return definition is not None and ' WHERE ' in definition.upper()
    # The index of that name in the schema the migration runs in.
    return bool(
        bind.execute(
            sa.text('SELECT indpred IS NOT NULL FROM pg_index WHERE indexrelid = to_regclass(:name)'),
            {'name': name},
        ).scalar()
    )


def upgrade():
    for name, (columns, set_) in INDEXES.items():
        if _partial(name):
            continue
        where = sa.text(f'{set_} IS NOT NULL')
        op.drop_index(name, table_name='comment', if_exists=True)
        op.create_index(
            name, 'comment', columns, sqlite_where=where, postgresql_where=where
        )


def downgrade():
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name='comment')
        op.create_index(name, 'comment', columns)
