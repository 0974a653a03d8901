"""Index a browser's responses by status, for the returning commenter's proof

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 05:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # The proof ("an approved response from this browser") read every response
    # of the token, held ones included; (token, status) goes straight to it.
    # A database made by init-db with these models has the new index already
    # and never had the old one.
    op.drop_index(
        'ix_comment_owner_token_hash', table_name='comment', if_exists=True
    )
    op.create_index(
        'ix_comment_owner_token_status',
        'comment',
        ['owner_token_hash', 'status'],
        unique=False,
        if_not_exists=True,
    )


def downgrade():
    op.drop_index('ix_comment_owner_token_status', table_name='comment')
    op.create_index(
        'ix_comment_owner_token_hash', 'comment', ['owner_token_hash'], unique=False
    )
