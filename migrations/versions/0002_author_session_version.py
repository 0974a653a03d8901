"""Author session version

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns('author')
    return any(column['name'] == 'session_version' for column in columns)


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made this column with the current models.
    if _has_column():
        return
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    # In place (SQLite's ALTER TABLE ... DROP COLUMN): a copy of the table,
    # dropped with foreign keys on, would take the rows that point to it.
    with op.batch_alter_table('author', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('session_version')
