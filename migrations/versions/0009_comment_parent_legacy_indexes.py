"""Index replies by parent and imported ids by post, for two public pages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 05:15:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The reader's edit and delete pages ask whether a comment has replies, and a
# comment's permalink whether an imported comment of its post took its id as
# an anchor: without these, each read every comment (of the site, of the post).
INDEXES = {
    'ix_comment_parent_status': ['parent_id', 'status'],
    'ix_comment_post_legacy': ['post_id', 'legacy_id'],
}


def upgrade():
    # A database made by init-db with these models has them already.
    for name, columns in INDEXES.items():
        op.create_index(name, 'comment', columns, unique=False, if_not_exists=True)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='comment')
