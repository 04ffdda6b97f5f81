"""organisation versions: who made each version of the register, and its rota file

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 09:00:00

A load from a file and every console edit (an override in the Vaktplan) make a version.
Its text lets `helpline load` of a file dumped from an older version list what changed
since. The table outlives reloads of the register: no foreign keys to it.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('org_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('version')
    )


def downgrade() -> None:
    op.drop_table('org_versions')
