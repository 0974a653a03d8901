"""Categories and tags keep the slug WordPress gave them, when it is not theirs
here, so that the old archive addresses still lead to them

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TABLES = ('category', 'tag')


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made the columns with the current models.
    for table in TABLES:
        columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}
        if 'wp_slug' not in columns:
            # NULL for every existing term: a second import fills it in.
            op.add_column(table, sa.Column('wp_slug', sa.String(length=200), nullable=True))
        op.create_index(
            f'ix_{table}_wp_slug', table, ['wp_slug'], unique=False, if_not_exists=True
        )


def downgrade():
    for table in TABLES:
        op.drop_index(f'ix_{table}_wp_slug', table_name=table)
        # Plain ALTER TABLE: a batch would copy the table and drop the old
        # one, and with foreign keys on, SQLite would cascade that drop into
        # every post's categories and tags.
        op.execute(f'ALTER TABLE {table} DROP COLUMN wp_slug')
