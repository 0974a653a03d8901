"""Index the outbox by kind, status and time sent, for the last digest's time;
subscriptions by address and post, for a wave's moved to spam

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # The author's held notices are spaced from the last one sent: found at
    # the end of this index, however many rows wait behind it in a wave. A
    # database made by init-db with these models has the index already.
    op.create_index(
        'ix_mail_outbox_kind_sent',
        'mail_outbox',
        ['kind', 'status', 'sent_at'],
        unique=False,
        if_not_exists=True,
    )
    # A wave's held comments each keep their subscription until approved;
    # moved to spam, each ends its own, found by address and post.
    op.create_index(
        'ix_subscription_email_post',
        'subscription',
        ['email', 'post_id'],
        unique=False,
        if_not_exists=True,
    )


def downgrade():
    op.drop_index('ix_subscription_email_post', table_name='subscription')
    op.drop_index('ix_mail_outbox_kind_sent', table_name='mail_outbox')
