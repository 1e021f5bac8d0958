"""translations: translations of submissions and responses (`translation`), one per
object and language, and which of a response's texts is authoritative (at most one
translation row per object says so; none means the original).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "translation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("translated_by", sa.String(length=16), nullable=False),
        sa.Column("translator_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("authoritative", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_translation_submission_id_submission"),
        ),
        sa.ForeignKeyConstraint(
            ["translator_id"],
            ["user_account.id"],
            name=op.f("fk_translation_translator_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation")),
        sa.UniqueConstraint(
            "object_type",
            "object_id",
            "language",
            name=op.f("uq_translation_object_type_object_id_language"),
        ),
    )
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_translation_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index(
            "uq_translation_authoritative",
            ["object_type", "object_id"],
            unique=True,
            sqlite_where=sa.text("authoritative"),
            postgresql_where=sa.text("authoritative"),
        )


def downgrade() -> None:
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.drop_index("uq_translation_authoritative")
        batch_op.drop_index(batch_op.f("ix_translation_submission_id"))
    op.drop_table("translation")
    # the search index remembers the table on the connection (api/search/index.py)
    op.get_bind().info.pop("civic_translation_table", None)
