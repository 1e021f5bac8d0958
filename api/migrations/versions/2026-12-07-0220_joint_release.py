"""joint-release: a response may be held until an instant (`embargo_until`) and says when
it was released (`released_at`); a delegation may set one release instant for its
responses in a round (`delegation_release`). Responses already posted have no
`embargo_until`: they were public at once, and stay so.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("embargo_until", models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("released_at", models.base.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_response_embargo_until"), ["embargo_until"])
    op.create_table(
        "delegation_release",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("delegation_id", sa.Uuid(), nullable=False),
        sa.Column("release_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("set_by_id", sa.Uuid(), nullable=False),
        sa.Column("set_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delegation_id"],
            ["delegation.id"],
            name=op.f("fk_delegation_release_delegation_id_delegation"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_delegation_release_round_id_round")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_delegation_release_set_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegation_release")),
        sa.UniqueConstraint(
            "round_id",
            "delegation_id",
            name=op.f("uq_delegation_release_round_id_delegation_id"),
        ),
    )


def downgrade() -> None:
    # Held responses would become public at once under the older code: release nothing
    # silently, refuse instead.
    held = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM response "
            "WHERE embargo_until IS NOT NULL AND released_at IS NULL"
        )
    )
    if held.scalar_one():
        raise RuntimeError(
            "responses are held for a joint release; release them (civic-input release-due, "
            "or DELETE the delegation's release) before downgrading"
        )
    op.drop_table("delegation_release")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_embargo_until"))
        batch_op.drop_column("released_at")
        batch_op.drop_column("embargo_until")
