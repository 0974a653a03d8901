"""Each subscription confirmed on its own, from the browser that asked for it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns('subscription')}


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made these columns with the current models.
    if 'confirmed_at' in _columns():
        return
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
    # Subscriptions of an address confirmed before this revision mail as they
    # did; their browser is unknown, so a new one asks again.
    op.execute(
        "UPDATE subscription SET confirmed_at = (SELECT confirmed_address.confirmed_at"
        " FROM confirmed_address WHERE confirmed_address.email = subscription.email)"
    )


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+): a batch would copy the table and reflect
    # the comment table it refers to, whose expression index SQLAlchemy cannot.
    op.execute('ALTER TABLE subscription DROP COLUMN confirmed_at')
    op.execute('ALTER TABLE subscription DROP COLUMN owner_token_hash')
