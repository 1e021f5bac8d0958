"""erasure-and-sealed-signing-keys: a submission records when it was removed (its text
is erased `CIVIC_REMOVED_RETENTION_DAYS` later) and when its text was erased; a signing
key may be kept sealed (AES-GCM) in `private_sealed` instead of as a plain PEM.

Submissions removed before this migration count as removed when they were last updated.
Text withdrawn before it is erased by the first purge pass (`civic-input purge`, or
`serve` soon after start). Plain PEMs in `private_pem` are moved out by `civic-input
migrate-key` or at the next start, and the column is cleared. A downgrade drops the
sealed keys: the older code then makes a new key (old public keys stay published).

Revision ID: 0007
Revises: 0005 (0006 once the case sharing migration is in)
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("erased_at", models.base.UTCDateTime(), nullable=True))
    op.execute(sa.text("UPDATE submission SET removed_at = updated_at WHERE status = 'removed'"))
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.drop_column("private_sealed")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("removed_at")
