"""Index the outbox by kind and time, for the confirmations a mailbox got today

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 16:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # The daily limit of confirmation requests counts one mailbox in all its
    # tagged spellings (name+tag@domain), which no index on the recipient can
    # find; the day's requests are found by kind and time instead. A database
    # made by init-db with these models has the index already.
    op.create_index(
        'ix_mail_outbox_kind_created',
        'mail_outbox',
        ['kind', 'created_at'],
        unique=False,
        if_not_exists=True,
    )


def downgrade():
    op.drop_index('ix_mail_outbox_kind_created', table_name='mail_outbox')
