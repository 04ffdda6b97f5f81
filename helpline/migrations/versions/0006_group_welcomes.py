"""group welcomes: the foster homes welcomed to each group, once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 09:00:00

A foster home gets one welcome text when it joins a group. Who was welcomed outlives
loads of the register, which replace the groups: no foreign keys to it.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('group_welcomes',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('foster_home_id', sa.String(length=64), nullable=False),
    sa.Column('welcomed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'foster_home_id')
    )


def downgrade() -> None:
    op.drop_table('group_welcomes')
