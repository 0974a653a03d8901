"""Old addresses with doubled slashes made single, as requests are read now

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 07:20:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # normalise_path now makes "//" one slash: a path recorded with two would
    # never be asked for again. Where the single-slash path is recorded too,
    # that one stays.
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, path FROM old_path WHERE path LIKE '%//%' ORDER BY id")
    ).all()
    for row_id, path in rows:
        single = re.sub('/{2,}', '/', path).rstrip('/') or '/'
        taken = connection.execute(
            sa.text("SELECT id FROM old_path WHERE path = :path"), {'path': single}
        ).first()
        if taken or single == '/':
            connection.execute(sa.text("DELETE FROM old_path WHERE id = :id"), {'id': row_id})
        else:
            connection.execute(
                sa.text("UPDATE old_path SET path = :path WHERE id = :id"),
                {'path': single, 'id': row_id},
            )


def downgrade():
    pass  # the doubled slashes were never an address a browser sends
