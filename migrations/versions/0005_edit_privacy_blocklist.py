"""Edited comments and the blocklist (#14)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _inspector():
    return sa.inspect(op.get_bind())


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made these with the current models.
    columns = _inspector().get_columns('comment')
    if not any(column['name'] == 'edited_at' for column in columns):
        with op.batch_alter_table('comment', schema=None) as batch_op:
            batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
    if not _inspector().has_table('block'):
        op.create_table('block',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=254), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_block')),
        sa.UniqueConstraint('value', 'kind', name='uq_block_value_kind')
        )


def downgrade():
    op.drop_table('block')
    # In place (SQLite's ALTER TABLE ... DROP COLUMN): a copy of the table,
    # dropped with foreign keys on, would take the rows that point to it.
    with op.batch_alter_table('comment', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('edited_at')
