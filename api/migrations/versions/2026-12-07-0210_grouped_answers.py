"""grouped-answers: `response_submission` lists each submission a response answers (one
row for an ordinary response, one per member of a grouped answer), keyed by (submission,
delegation) so that a delegation answers a submission once, alone or in a group; and
`response.grouped`. Every existing response answers its one submission: its row is
written from `response` as it stands.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("grouped", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "response_submission",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("delegation_id", sa.Uuid(), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delegation_id"],
            ["delegation.id"],
            name=op.f("fk_response_submission_delegation_id_delegation"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_response_submission_response_id_response"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_response_submission_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "delegation_id", name=op.f("pk_response_submission")
        ),
    )
    with op.batch_alter_table("response_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_submission_response_id"), ["response_id"], unique=False
        )
    op.execute(
        "INSERT INTO response_submission (submission_id, delegation_id, response_id) "
        "SELECT submission_id, delegation_id, id FROM response"
    )
    if op.get_bind().dialect.name == "postgresql":
        # the planner's figures for the new table before the first record page joins it
        # (without them, a round of 5,000 answered submissions took seconds to read)
        op.execute("ANALYZE response_submission")


def downgrade() -> None:
    # a grouped answer cannot be told apart into one response per submission: going back
    # keeps it as the answer to the submission it names (`response.submission_id`)
    with op.batch_alter_table("response_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_submission_response_id"))
    op.drop_table("response_submission")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("grouped")
