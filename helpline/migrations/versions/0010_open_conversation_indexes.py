"""open conversations by foster home and by caller: the lookup of every inbound message

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 09:00:00

An SMS or Telegram message looks up the sender's open conversation (the newest one not
closed). Without an index that lookup scanned every contact ever stored, so each message
cost more the longer the service ran. Partial indexes hold only the open contacts.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "closed_at IS NULL"
UNKNOWN = "closed_at IS NULL AND foster_home_id IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_contacts_open_by_home', ['foster_home_id', 'id'], unique=False,
            postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
        )
        batch_op.create_index(
            'ix_contacts_open_by_caller', ['caller', 'id'], unique=False,
            postgresql_where=sa.text(UNKNOWN), sqlite_where=sa.text(UNKNOWN),
        )


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_open_by_caller')
        batch_op.drop_index('ix_contacts_open_by_home')
