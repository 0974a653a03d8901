"""Index a post's threads in date order, replies by thread, held ones by browser

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# A post's page of threads, its replies and, for a writer, their held responses
# on the post. Without these, SQLite walked the post's every response in date
# order (for the replies; for a page deep in the post or its first page in
# newest-first order, looking each row up) and the writer's held ones row by row.
OLD = {
    'ix_comment_post_status_thread': ['post_id', 'status', 'parent_id', 'id'],
    'ix_comment_thread_id': ['thread_id'],
    'ix_comment_owner_token_status': ['owner_token_hash', 'status'],
}
NEW = {
    'ix_comment_post_status_parent_created': [
        'post_id', 'status', 'parent_id', 'created_at', 'id'
    ],
    'ix_comment_thread_status': ['thread_id', 'status'],
    'ix_comment_owner_post': [
        'owner_token_hash', 'status', 'post_id', 'parent_id', 'created_at', 'id'
    ],
}


def upgrade():
    # A database made by init-db with these models has the new indexes already
    # and never had the old ones.
    for name in OLD:
        op.drop_index(name, table_name='comment', if_exists=True)
    for name, columns in NEW.items():
        op.create_index(name, 'comment', columns, unique=False, if_not_exists=True)


def downgrade():
    for name in NEW:
        op.drop_index(name, table_name='comment')
    for name, columns in OLD.items():
        op.create_index(name, 'comment', columns, unique=False)
