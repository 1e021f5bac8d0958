"""Dialogues and the delegations that take part in them."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.round import RoundPublic
from models.types import DelegationCode, Description, ShortLine, Slug, Title


class Dialogue(SQLModel, table=True):
    __tablename__ = "dialogue"

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = instant_field(default_now=True)


class Delegation(SQLModel, table=True):
    __tablename__ = "delegation"
    __table_args__ = (sa.UniqueConstraint("dialogue_id", "code"),)

    id: uuid.UUID = id_field()
    dialogue_id: uuid.UUID = Field(foreign_key="dialogue.id", index=True)
    code: str = Field(max_length=8)
    name: str = Field(max_length=80)


class DialogueCreate(Strict):
    slug: Slug
    title: Title
    description: Description = ""


class DelegationCreate(Strict):
    code: DelegationCode
    name: ShortLine


class DelegationPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class DialogueSummary(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    description: str


class DialogueDetail(DialogueSummary):
    delegations: list[DelegationPublic]
    rounds: list[RoundPublic]
