"""dialogue-loop: rounds, themes (seeded in English and Chinese), submissions,
endorsements, responses and revisions, assessments, idempotency, the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 01:56:14.425548
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


THEMES = [
    ("labour-rights", "Labour rights", "劳工权利"),
    ("rule-of-law", "Rule of law", "法治"),
    ("freedom-of-religion", "Freedom of religion", "宗教自由"),
    ("freedom-of-expression", "Freedom of expression", "言论自由"),
    ("tibet", "Tibet", "西藏"),
    ("xinjiang", "Xinjiang", "新疆"),
    ("death-penalty", "Death penalty", "死刑"),
    ("arbitrary-detention", "Arbitrary detention", "任意拘留"),
    ("torture", "Torture and ill-treatment", "酷刑和虐待"),
    ("enforced-disappearance", "Enforced disappearance", "强迫失踪"),
    ("human-rights-defenders", "Human rights defenders and lawyers", "人权捍卫者和律师"),
    ("press-freedom", "Press freedom", "新闻自由"),
    ("internet-freedom", "Internet freedom", "互联网自由"),
    ("freedom-of-assembly", "Freedom of assembly and association", "集会和结社自由"),
    ("minority-rights", "Rights of ethnic minorities", "少数民族权利"),
    ("womens-rights", "Women's rights", "妇女权利"),
    ("hong-kong", "Hong Kong", "香港"),
    ("racial-discrimination", "Racial discrimination", "种族歧视"),
    ("use-of-force", "Use of force and armed conflict", "使用武力和武装冲突"),
    ("economic-social-rights", "Economic and social rights", "经济和社会权利"),
]
THEME_NAMESPACE = uuid.UUID("6f1c9a52-3a55-4a8e-9d1e-4b1f0f3c2a10")


def upgrade() -> None:
    op.create_table('theme',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme')),
    sa.UniqueConstraint('slug', name=op.f('uq_theme_slug'))
    )
    theme = sa.table(
        "theme",
        sa.column("id", sa.Uuid()),
        sa.column("slug", sa.String()),
        sa.column("names", sa.JSON()),
        sa.column("created_at", models.base.UTCDateTime()),
    )
    seeded_at = datetime(2012, 7, 1, tzinfo=UTC)
    op.bulk_insert(
        theme,
        [
            {
                "id": uuid.uuid5(THEME_NAMESPACE, slug),
                "slug": slug,
                "names": {"en": en, "zh-Hans": zh},
                "created_at": seeded_at,
            }
            for slug, en, zh in THEMES
        ],
    )
    op.create_table('round',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('dialogue_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('submissions_open_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('submissions_close_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('ends_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('responses_due_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dialogue_id'], ['dialogue.id'], name=op.f('fk_round_dialogue_id_dialogue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round')),
    sa.UniqueConstraint('dialogue_id', 'number', name=op.f('uq_round_dialogue_id_number'))
    )
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_dialogue_id'), ['dialogue_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_target_id'), ['target_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotency_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_record_user_id_key'))
    )
    op.create_table('submission',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('attribution', sa.String(length=16), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('published_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_submission_author_id_user_account')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_submission_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_round_id'), ['round_id'], unique=False)
        batch_op.create_index('ix_submission_round_status_published', ['round_id', 'status', 'published_at', 'id'], unique=False)

    op.create_table('endorsement',
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_endorsement_submission_id_submission')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_endorsement_user_id_user_account')),
    sa.PrimaryKeyConstraint('submission_id', 'user_id', name=op.f('pk_endorsement'))
    )
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_user_id'), ['user_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('delegation_id', sa.Uuid(), nullable=False),
    sa.Column('revision_count', sa.Integer(), nullable=False),
    sa.Column('responded_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_response_delegation_id_delegation')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_response_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('submission_id', 'delegation_id', name=op.f('uq_response_submission_id_delegation_id'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_submission_id'), ['submission_id'], unique=False)

    op.create_table('submission_addressee',
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('delegation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_submission_addressee_delegation_id_delegation')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_addressee_submission_id_submission')),
    sa.PrimaryKeyConstraint('submission_id', 'delegation_id', name=op.f('pk_submission_addressee'))
    )
    with op.batch_alter_table('submission_addressee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_addressee_delegation_id'), ['delegation_id'], unique=False)

    op.create_table('submission_theme',
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('theme_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_theme_submission_id_submission')),
    sa.ForeignKeyConstraint(['theme_id'], ['theme.id'], name=op.f('fk_submission_theme_theme_id_theme')),
    sa.PrimaryKeyConstraint('submission_id', 'theme_id', name=op.f('pk_submission_theme'))
    )
    with op.batch_alter_table('submission_theme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_theme_theme_id'), ['theme_id'], unique=False)

    op.create_table('answer_assessment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('rater_id', sa.Uuid(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rater_id'], ['user_account.id'], name=op.f('fk_answer_assessment_rater_id_user_account')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_answer_assessment_response_id_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_assessment')),
    sa.UniqueConstraint('response_id', 'rater_id', name=op.f('uq_answer_assessment_response_id_rater_id'))
    )
    with op.batch_alter_table('answer_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_assessment_response_id'), ['response_id'], unique=False)

    op.create_table('response_revision',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('official_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['official_id'], ['user_account.id'], name=op.f('fk_response_revision_official_id_user_account')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_response_revision_response_id_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_revision')),
    sa.UniqueConstraint('response_id', 'number', name=op.f('uq_response_revision_response_id_number'))
    )


def downgrade() -> None:
    op.drop_table('response_revision')
    with op.batch_alter_table('answer_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_assessment_response_id'))

    op.drop_table('answer_assessment')
    with op.batch_alter_table('submission_theme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_theme_theme_id'))

    op.drop_table('submission_theme')
    with op.batch_alter_table('submission_addressee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_addressee_delegation_id'))

    op.drop_table('submission_addressee')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_submission_id'))
        batch_op.drop_index(batch_op.f('ix_response_delegation_id'))

    op.drop_table('response')
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_user_id'))

    op.drop_table('endorsement')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_round_status_published')
        batch_op.drop_index(batch_op.f('ix_submission_round_id'))
        batch_op.drop_index(batch_op.f('ix_submission_author_id'))

    op.drop_table('submission')
    op.drop_table('idempotency_record')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_target_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_dialogue_id'))

    op.drop_table('round')
    op.drop_table('theme')
