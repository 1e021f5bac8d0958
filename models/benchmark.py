"""Benchmarks: checkable goals set before a round, adopted by a moderator, with the cases
and themes they concern."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.progress import Progress
from models.types import Body, DelegationCode, Slug, Title


class Benchmark(SQLModel, table=True):
    """A checkable goal set before a round, adopted by a moderator."""

    __tablename__ = "benchmark"

    id: uuid.UUID = id_field()
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    delegation_id: uuid.UUID = Field(foreign_key="delegation.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    adopted_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    created_at: datetime = instant_field(default_now=True)


class BenchmarkCase(SQLModel, table=True):
    __tablename__ = "benchmark_case"

    benchmark_id: uuid.UUID = Field(foreign_key="benchmark.id", primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True)


class BenchmarkTheme(SQLModel, table=True):
    __tablename__ = "benchmark_theme"

    benchmark_id: uuid.UUID = Field(foreign_key="benchmark.id", primary_key=True)
    theme_id: uuid.UUID = Field(foreign_key="theme.id", primary_key=True)


class BenchmarkCreate(Strict):
    delegation: DelegationCode = PField(description="The delegation expected to act.")
    title: Title
    description: Body
    cases: list[uuid.UUID] = PField(default_factory=list, max_length=20)
    themes: list[Slug] = PField(default_factory=list, max_length=10)


class BenchmarkPublic(BaseModel):
    id: uuid.UUID
    round_id: uuid.UUID
    delegation: str
    title: str
    description: str
    cases: list[uuid.UUID]
    themes: list[str]
    progress: Progress
