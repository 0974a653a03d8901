"""Pages beside articles: post.kind, and the pages' menu order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made the column with the current models.
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('post')}
    if 'kind' in columns:
        return
    # Plain ALTER TABLE: every existing row is an article.
    op.add_column(
        'post',
        sa.Column('kind', sa.String(length=10), nullable=False, server_default='post'),
    )
    op.add_column(
        'post',
        sa.Column('menu_order', sa.Integer(), nullable=False, server_default='0'),
    )


def downgrade():
    op.execute('ALTER TABLE post DROP COLUMN menu_order')
    op.execute('ALTER TABLE post DROP COLUMN kind')
