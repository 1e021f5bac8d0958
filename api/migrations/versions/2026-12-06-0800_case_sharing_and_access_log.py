"""case-sharing-and-access-log: the delegations a case's recorder shared its restricted
details with, and the log of every read of them by anyone but the recorder.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_share',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('delegation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_share_case_id_case_file')),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_case_share_delegation_id_delegation')),
    sa.PrimaryKeyConstraint('case_id', 'delegation_id', name=op.f('pk_case_share'))
    )
    op.create_table('case_access',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('delegation', sa.String(length=8), nullable=True),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_access_case_id_case_file')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_access_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_access'))
    )
    with op.batch_alter_table('case_access', schema=None) as batch_op:
        batch_op.create_index('ix_case_access_case_id_at', ['case_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_access', schema=None) as batch_op:
        batch_op.drop_index('ix_case_access_case_id_at')

    op.drop_table('case_access')
    op.drop_table('case_share')
