"""console access: the `[[access]]` entries of the rota file in the register

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00

Register tables, replaced on every load like the others: a person's console role, and
the kommuner of a koordinator. Every team member may log in as vakt without a row here.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('console_access',
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('console_access_kommuner',
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('kommune_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['console_access.person_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kommune_id'], ['kommuner.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'kommune_id')
    )


def downgrade() -> None:
    op.drop_table('console_access_kommuner')
    op.drop_table('console_access')
