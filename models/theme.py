"""Themes: the shared vocabulary submissions and benchmarks are filed under."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from models.base import Strict, id_field, instant_field
from models.types import LanguageTag, Slug, ThemeName


class Theme(SQLModel, table=True):
    __tablename__ = "theme"

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=64, unique=True)
    names: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = instant_field(default_now=True)


class ThemeCreate(Strict):
    slug: Slug
    names: dict[LanguageTag, ThemeName] = PField(
        description='Names by BCP 47 language tag, e.g. {"en": "Rule of law", "zh-Hans": "法治"}.',
        min_length=1,
        max_length=20,
    )


class ThemePublic(BaseModel):
    slug: str
    name: str = PField(
        description="The name in the answer's language (its Content-Language), else in "
        "English: the same as one of `names`."
    )
    names: dict[str, str]


class Vocabulary(BaseModel):
    """The readable label of every enum value in the API, in one language."""

    language: str = PField(description="`en` or `zh-Hans`: the labels' language.")
    labels: dict[str, dict[str, str]] = PField(
        description="By vocabulary (`case_status`, `phase`, `rating`, ...), each value "
        "with its label."
    )
