"""Drop rate_event: rate limits are kept by Flask-Limiter's storage

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _has_table() -> bool:
    return sa.inspect(op.get_bind()).has_table('rate_event')


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which made no rate_event table with the current models.
    if not _has_table():
        return
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_event_lookup')
    op.drop_table('rate_event')


def downgrade():
    op.create_table('rate_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_event'))
    )
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.create_index('ix_rate_event_lookup', ['bucket', 'key', 'created_at'], unique=False)
