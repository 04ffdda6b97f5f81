"""the network: groups in the register, mutes, opt-outs, group messages, broadcasts,
and message classes on the outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00

Groups and their members and staff are register tables, replaced on every load. Mutes,
opt-outs, group messages and broadcasts outlive loads: they name groups, foster homes and
people by id, with no foreign key to the register. Every message already in the outbox
is of class `help`.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('org_meta', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours', sa.String(length=11), nullable=False,
                                      server_default='21:00-08:00'))
        batch_op.add_column(sa.Column('ressursfamilie_size', sa.Integer(), nullable=False,
                                      server_default='5'))

    # The register: replaced on every load, like the other register tables.
    op.create_table('groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('kommune_id', sa.String(length=64), nullable=False),
    sa.Column('hub_id', sa.String(length=64), nullable=True),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['kommune_id'], ['kommuner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hub_id'], ['foster_homes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_table('group_members',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('foster_home_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['foster_home_id'], ['foster_homes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'foster_home_id')
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_members_foster_home_id'), ['foster_home_id'],
                              unique=False)
    op.create_table('group_staff',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'person_id')
    )
    with op.batch_alter_table('group_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_staff_person_id'), ['person_id'], unique=False)

    # State that outlives loads: no foreign keys to the register.
    op.create_table('group_mutes',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('foster_home_id', sa.String(length=64), nullable=False),
    sa.Column('muted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('muted_by', sa.String(length=200), nullable=True),
    sa.Column('told_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('group_id', 'foster_home_id')
    )
    op.create_table('opt_outs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'address', 'scope')
    )
    op.create_table('group_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('foster_home_id', sa.String(length=64), nullable=True),
    sa.Column('sender_person_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('relayed', sa.Boolean(), nullable=False),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('content_purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_messages', schema=None) as batch_op:
        batch_op.create_index('ix_group_messages_group_id_created_at',
                              ['group_id', 'created_at'], unique=False)
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )

    # Message classes, holding, pacing and delivery state on the outbox.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('msg_class', sa.String(length=10), nullable=False,
                                      server_default='help'))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('group_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('disable_notification', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_broadcast_id'), ['broadcast_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_provider_id'), ['provider_id'],
                              unique=False)

    with op.batch_alter_table('telegram_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('telegram_links', schema=None) as batch_op:
        batch_op.drop_column('blocked_at')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_provider_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_broadcast_id'))
        for column in ('error_code', 'delivered_at', 'disable_notification', 'segments',
                       'group_id', 'broadcast_id', 'not_before', 'msg_class'):
            batch_op.drop_column(column)
    op.drop_table('broadcasts')
    with op.batch_alter_table('group_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_group_messages_group_id_created_at')
    op.drop_table('group_messages')
    op.drop_table('opt_outs')
    op.drop_table('group_mutes')
    with op.batch_alter_table('group_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_staff_person_id'))
    op.drop_table('group_staff')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_members_foster_home_id'))
    op.drop_table('group_members')
    op.drop_table('groups')
    with op.batch_alter_table('org_meta', schema=None) as batch_op:
        for column in ('ressursfamilie_size', 'quiet_hours', 'network_number'):
            batch_op.drop_column(column)
