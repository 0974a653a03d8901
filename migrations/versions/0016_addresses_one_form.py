"""Stored addresses in the one form normalised_email gives (domain as IDNA reads it)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:05:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _one_form(email):
    # blog.core.text.normalised_email as this revision knows it: a stored
    # address must be the value later requests compare with.
    value = (email or '').strip()
    if value.isascii() and 'xn--' not in value.lower():
        return value.lower()
    try:
        value = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        value = unicodedata.normalize('NFC', value)
    return value.lower()


def _rewrite(connection, table, column, key='id', kind=None, merge=None):
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
        kept = merge and connection.execute(
            sa.text(f'SELECT {key} FROM {table} WHERE {column} = :new {same_kind}'),
            {'new': new},
        ).first()
        if kept:
            # The same address stored in another spelling: one row stays,
            # with what the other one said.
            merge(connection, kept[0], row_key)
            connection.execute(
                sa.text(f'DELETE FROM {table} WHERE {key} = :key'), {'key': row_key}
            )
        else:
            connection.execute(
                sa.text(f'UPDATE {table} SET {column} = :new WHERE {key} = :key'),
                {'new': new, 'key': row_key},
            )


def _earliest_confirmation(connection, kept, gone):
    connection.execute(
        sa.text(
            'UPDATE confirmed_address SET confirmed_at = (SELECT confirmed_at'
            ' FROM confirmed_address WHERE email = :gone) WHERE email = :kept'
            ' AND confirmed_at > (SELECT confirmed_at FROM confirmed_address'
            ' WHERE email = :gone)'
        ),
        {'kept': kept, 'gone': gone},
    )


def _both_reasons(connection, kept, gone):
    reasons = dict(
        connection.execute(
            sa.text('SELECT id, reason FROM block WHERE id IN (:kept, :gone)'),
            {'kept': kept, 'gone': gone},
        ).all()
    )
    if reasons[gone] and reasons[gone] != reasons[kept]:
        joined = '; '.join(r for r in (reasons[kept], reasons[gone]) if r)[:300]
        connection.execute(
            sa.text('UPDATE block SET reason = :reason WHERE id = :id'),
            {'reason': joined, 'id': kept},
        )


def upgrade():
    connection = op.get_bind()
    # Two spellings subscribed to one post stay two rows: the mail goes to
    # the address once (recipients are distinct), and either link ends it.
    _rewrite(connection, 'subscription', 'email')
    _rewrite(connection, 'mail_outbox', 'recipient')
    _rewrite(
        connection, 'confirmed_address', 'email', key='email',
        merge=_earliest_confirmation,
    )
    _rewrite(connection, 'block', 'value', kind='email', merge=_both_reasons)


def downgrade():
    pass  # the old spellings named the same mailboxes
