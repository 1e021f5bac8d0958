"""cases-benchmarks-commitments: cases and their timelines, benchmarks, commitments,
progress assessments; submissions point at cases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:01:17.242672
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('benchmark',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=False),
    sa.Column('delegation_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('adopted_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['adopted_by_id'], ['user_account.id'], name=op.f('fk_benchmark_adopted_by_id_user_account')),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_benchmark_delegation_id_delegation')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_benchmark_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmark'))
    )
    with op.batch_alter_table('benchmark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benchmark_round_id'), ['round_id'], unique=False)

    op.create_table('case_file',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_native', sa.String(length=200), nullable=True),
    sa.Column('name_consent', sa.Boolean(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('restricted_details', sa.Text(), nullable=True),
    sa.Column('review', sa.String(length=16), nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('search_names', sa.String(length=410), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('published_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_file_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_file_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('commitment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=False),
    sa.Column('delegation_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_commitment_delegation_id_delegation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_commitment_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_commitment_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment'))
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_round_id'), ['round_id'], unique=False)

    op.create_table('progress_assessment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessed_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['user_account.id'], name=op.f('fk_progress_assessment_assessed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_assessment'))
    )
    with op.batch_alter_table('progress_assessment', schema=None) as batch_op:
        batch_op.create_index('ix_progress_assessment_target', ['target_type', 'target_id'], unique=False)

    op.create_table('benchmark_case',
    sa.Column('benchmark_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark.id'], name=op.f('fk_benchmark_case_benchmark_id_benchmark')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_benchmark_case_case_id_case_file')),
    sa.PrimaryKeyConstraint('benchmark_id', 'case_id', name=op.f('pk_benchmark_case'))
    )
    op.create_table('benchmark_theme',
    sa.Column('benchmark_id', sa.Uuid(), nullable=False),
    sa.Column('theme_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark.id'], name=op.f('fk_benchmark_theme_benchmark_id_benchmark')),
    sa.ForeignKeyConstraint(['theme_id'], ['theme.id'], name=op.f('fk_benchmark_theme_theme_id_theme')),
    sa.PrimaryKeyConstraint('benchmark_id', 'theme_id', name=op.f('pk_benchmark_theme'))
    )
    op.create_table('case_timeline_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_timeline_entry_case_id_case_file')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_timeline_entry_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_timeline_entry'))
    )
    with op.batch_alter_table('case_timeline_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_timeline_entry_case_id'), ['case_id'], unique=False)

    op.create_table('commitment_link',
    sa.Column('commitment_id', sa.Uuid(), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitment.id'], name=op.f('fk_commitment_link_commitment_id_commitment')),
    sa.PrimaryKeyConstraint('commitment_id', 'target_type', 'target_id', name=op.f('pk_commitment_link'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submission_case_id_case_file'), 'case_file', ['case_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submission_case_id_case_file'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submission_case_id'))
        batch_op.drop_column('case_id')

    op.drop_table('commitment_link')
    with op.batch_alter_table('case_timeline_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_timeline_entry_case_id'))

    op.drop_table('case_timeline_entry')
    op.drop_table('benchmark_theme')
    op.drop_table('benchmark_case')
    with op.batch_alter_table('progress_assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_assessment_target')

    op.drop_table('progress_assessment')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_round_id'))

    op.drop_table('commitment')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_file_created_by_id'))

    op.drop_table('case_file')
    with op.batch_alter_table('benchmark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benchmark_round_id'))

    op.drop_table('benchmark')
