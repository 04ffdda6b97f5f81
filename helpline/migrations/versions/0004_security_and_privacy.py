"""security and privacy: hashed calendar tokens, scoped API tokens, the access log,
flood control, retention, and outbox recovery

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:40:00

Existing calendar URLs keep working: their tokens are replaced by the tokens' SHA-256.
Existing API tokens had no scope and saw everything: they become `admin` tokens that
expire 30 days after this migration, so an operator re-issues them with a scope.
The old `content_reads` audit rows move into the access log.
"""
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _now(bind: sa.Connection) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now


def upgrade() -> None:
    bind = op.get_bind()
    now = _now(bind)

    # Calendar feed tokens: stored as SHA-256 only.
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.alter_column('token', new_column_name='token_hash',
                              existing_type=sa.String(length=64), existing_nullable=False)
        batch_op.add_column(sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True))
    feeds = sa.table('calendar_feeds', sa.column('token_hash', sa.String))
    for (token,) in bind.execute(sa.select(feeds.c.token_hash)).all():
        digest = hashlib.sha256(token.encode()).hexdigest()
        bind.execute(feeds.update().where(feeds.c.token_hash == token)
                     .values(token_hash=digest))

    # API tokens: a person, a role, a kommune scope and an expiry.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=False,
                                      server_default='admin'))
        batch_op.add_column(sa.Column('kommuner', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime(timezone=True)))
    bind.execute(tokens.update().values(expires_at=now + timedelta(days=30)))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    # The access log (innsynslogg): append-only, no foreign keys.
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
    reads = sa.table('content_reads', sa.column('contact_id', sa.Integer),
                     sa.column('reader', sa.String), sa.column('read_at', sa.DateTime))
    access = sa.table('access_log', sa.column('at', sa.DateTime), sa.column('actor', sa.String),
                      sa.column('source', sa.String), sa.column('action', sa.String),
                      sa.column('target', sa.String))
    for contact_id, reader, read_at in bind.execute(
        sa.select(reads.c.contact_id, reads.c.reader, reads.c.read_at)
    ).all():
        bind.execute(access.insert().values(
            at=read_at, actor=reader, source=reader.partition(":")[0] or "api",
            action="contact.read", target=str(contact_id)))
    op.drop_table('content_reads')

    # Flood control, batched follow-ups and retention.
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flood', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('followup_notified_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('content_purged_at', sa.DateTime(timezone=True),
                                      nullable=True))

    # Outbox recovery: when a row went to `sending` (a crash leaves it so).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('content_purged_at')
        batch_op.drop_column('followup_notified_at')
        batch_op.drop_column('flood')
    op.create_table('content_reads',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('reader', sa.String(length=100), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_at'))
    op.drop_table('access_log')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        for column in ('last_used_at', 'revoked_at', 'expires_at', 'kommuner', 'role',
                       'person_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('calendar_feeds', schema=None) as batch_op:
        batch_op.drop_column('rotated_at')
        batch_op.alter_column('token_hash', new_column_name='token',
                              existing_type=sa.String(length=64), existing_nullable=False)
