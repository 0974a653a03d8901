"""Index the start of each comment's text on its post, for the duplicate rule

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # As blog/models.py declares it (content_head, CONTENT_HEAD = 64) at this
    # revision: the duplicate rule's query names the same expression. A
    # database made by init-db with these models has it already.
    op.create_index(
        "ix_comment_post_content",
        "comment",
        ["post_id", sa.text("substr(content, 1, 64)")],
        unique=False,
        if_not_exists=True,
    )


def downgrade():
    op.drop_index("ix_comment_post_content", table_name="comment")
