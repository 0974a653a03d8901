"""Sign-ins kept in the database, so that signing out ends a copied session

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made this table with the current models.
    if sa.inspect(op.get_bind()).has_table('sign_in'):
        return
    # Sessions made before this revision name no sign-in: their authors sign
    # in once more.
    op.create_table('sign_in',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['author.id'], name=op.f('fk_sign_in_author_id_author'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_sign_in'))
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_author_id'), ['author_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_author_id'))
    op.drop_table('sign_in')
