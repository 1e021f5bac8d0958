"""drop-redundant-submission-round-index: `ix_submission_round_id` duplicates the leading
column of `ix_submission_round_status_published`, which serves every lookup by round
(the record, the foreign key); each submission stored wrote both.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_submission_round_id', table_name='submission')


def downgrade() -> None:
    op.create_index('ix_submission_round_id', 'submission', ['round_id'], unique=False)
