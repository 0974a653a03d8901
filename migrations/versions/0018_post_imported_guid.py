"""An imported post keeps its guid, so that feed readers know its entries

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made the column with the current models.
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('post')}
    if 'imported_guid' in columns:
        return
    # Plain ALTER TABLE: every existing post is named by its ?p=ID here.
    op.add_column(
        'post',
        sa.Column('imported_guid', sa.String(length=2000), nullable=False, server_default=sa.text("''")),
    )


def downgrade():
    op.execute('ALTER TABLE post DROP COLUMN imported_guid')
