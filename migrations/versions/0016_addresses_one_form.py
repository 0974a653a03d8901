"""Stored addresses in the one form normalised_email gives (domain as IDNA reads it)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:05:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _one_form(email):
    # blog.core.text.normalised_email as this revision knows it: a stored
    # address must be the value later requests compare with.
    value = unicodedata.normalize('NFC', (email or '').strip()).lower()
    local, at, domain = value.rpartition('@')
    if not at or (domain.isascii() and 'xn--' not in domain):
        return value
    domain = unicodedata.normalize('NFKC', domain.replace('\u3002', '.')).lower()
    return f"{local}@{'.'.join(_unicode_label(label) for label in domain.split('.'))}"


def _unicode_label(label):
    if not label.startswith('xn--'):
        return label
    try:
        decoded = label[4:].encode('ascii').decode('punycode')
    except (UnicodeError, ValueError):
        return label
    return unicodedata.normalize('NFKC', decoded).lower()


def _rewrite(connection, table, column, key='id', kind=None, unique=False):
    # Rows of a block name an address only for the email kind. A value that
    # keeps its form is left alone (every ASCII one: already lower case).
    where = f"WHERE kind = '{kind}'" if kind else ''
    same_kind = f"AND kind = '{kind}'" if kind else ''
    rows = connection.execute(
        sa.text(f'SELECT {key}, {column} FROM {table} {where} ORDER BY {key}')
    ).all()
    for row_key, value in rows:
        new = _one_form(value)
        if new == value:
            continue
        taken = unique and connection.execute(
            sa.text(f'SELECT 1 FROM {table} WHERE {column} = :new {same_kind}'),
            {'new': new},
        ).first()
        if taken:
            # The same address stored in another spelling: one row stays.
            connection.execute(
                sa.text(f'DELETE FROM {table} WHERE {key} = :key'), {'key': row_key}
            )
        else:
            connection.execute(
                sa.text(f'UPDATE {table} SET {column} = :new WHERE {key} = :key'),
                {'new': new, 'key': row_key},
            )


def upgrade():
    connection = op.get_bind()
    _rewrite(connection, 'subscription', 'email')
    _rewrite(connection, 'mail_outbox', 'recipient')
    _rewrite(connection, 'confirmed_address', 'email', key='email', unique=True)
    _rewrite(connection, 'block', 'value', kind='email', unique=True)


def downgrade():
    pass  # the old spellings named the same mailboxes
