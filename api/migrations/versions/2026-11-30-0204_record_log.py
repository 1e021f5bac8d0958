"""record-log: the hash-chained log of public events, its head, and checkpoint keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 02:04:23.020079
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('record_entry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('object_type', sa.String(length=24), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=True),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_record_entry'))
    )
    with op.batch_alter_table('record_entry', schema=None) as batch_op:
        batch_op.create_index('ix_record_entry_round_seq', ['round_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_entry_subject_id'), ['subject_id'], unique=False)

    op.create_table('record_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_head'))
    )
    head = sa.table(
        "record_head", sa.column("id", sa.Integer()), sa.column("seq", sa.Integer()),
        sa.column("hash", sa.String()),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table('signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('retired_at', models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )


def downgrade() -> None:
    op.drop_table('signing_key')
    op.drop_table('record_head')
    with op.batch_alter_table('record_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_entry_subject_id'))
        batch_op.drop_index('ix_record_entry_round_seq')

    op.drop_table('record_entry')
