"""Mail outbox, readers' subscriptions, confirmed addresses, used tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made these tables with the current models.
    if _has_table('mail_outbox'):
        return
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_mail_outbox_recipient', ['recipient', 'kind', 'created_at'], unique=False)
        batch_op.create_index('ix_mail_outbox_ref', ['kind', 'ref_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_subscription_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_subscription_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_post_id'), ['post_id'], unique=False)

    op.create_table('confirmed_address',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_confirmed_address'))
    )
    op.create_table('used_token',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_used_token'))
    )


def downgrade():
    op.drop_table('used_token')
    op.drop_table('confirmed_address')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_post_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_email'))
        batch_op.drop_index(batch_op.f('ix_subscription_comment_id'))
    op.drop_table('subscription')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_ref')
        batch_op.drop_index('ix_mail_outbox_recipient')
        batch_op.drop_index('ix_mail_outbox_due')
    op.drop_table('mail_outbox')
