"""Old addresses of imported posts, old comment ids, tags, post search

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 21:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _comment_columns() -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns('comment')}


# The search index as blog/models.py makes it for create_all (SEARCH_*), as it
# was at this revision.
SEARCH_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(title, body,"
    " content='post', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS post_fts_insert AFTER INSERT ON post BEGIN"
    " INSERT INTO post_fts(rowid, title, body)"
    " VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS post_fts_delete AFTER DELETE ON post BEGIN"
    " INSERT INTO post_fts(post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS post_fts_update AFTER UPDATE ON post BEGIN"
    " INSERT INTO post_fts(post_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO post_fts(rowid, title, body)"
    " VALUES (new.id, new.title, new.body); END",
)
SEARCH_POSTGRESQL = (
    "CREATE INDEX IF NOT EXISTS ix_post_search ON post USING gin"
    " (to_tsvector('italian', title || ' ' || body))",
)


def _create_search_index():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        made = 'post_fts' in _tables()
        for statement in SEARCH_SQLITE:
            op.execute(statement)
        if not made:
            # Posts written before this revision go into the index too.
            op.execute("INSERT INTO post_fts(post_fts) VALUES ('rebuild')")
    elif dialect == 'postgresql':
        for statement in SEARCH_POSTGRESQL:
            op.execute(statement)


def _drop_search_index():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS post_fts_{trigger}')
        op.execute('DROP TABLE IF EXISTS post_fts')
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_post_search')


def upgrade():
    # A database adopted from init-db (blog/ops/schema.py) is stamped 0001 after
    # create_all, which already made these with the current models.
    tables = _tables()
    if 'legacy_id' not in _comment_columns():
        with op.batch_alter_table('comment', schema=None) as batch_op:
            batch_op.add_column(sa.Column('legacy_id', sa.Integer(), nullable=True))
    if 'old_path' not in tables:
        op.create_table('old_path',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=1000), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_old_path_post_id_post'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_old_path')),
        sa.UniqueConstraint('path', name=op.f('uq_old_path_path'))
        )
        with op.batch_alter_table('old_path', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_old_path_post_id'), ['post_id'], unique=False)
    if 'tag' not in tables:
        op.create_table('tag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
        sa.UniqueConstraint('slug', name=op.f('uq_tag_slug'))
        )
    if 'post_tags' not in tables:
        op.create_table('post_tags',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('tag_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_tags_post_id_post'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_post_tags_tag_id_tag'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('post_id', 'tag_id', name=op.f('pk_post_tags'))
        )
    _create_search_index()


def downgrade():
    _drop_search_index()
    op.drop_table('post_tags')
    op.drop_table('tag')
    with op.batch_alter_table('old_path', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_old_path_post_id'))
    op.drop_table('old_path')
    # In place (SQLite's ALTER TABLE ... DROP COLUMN): a copy of the table,
    # dropped with foreign keys on, would take the rows that point to it.
    with op.batch_alter_table('comment', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('legacy_id')
