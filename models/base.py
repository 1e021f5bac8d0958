"""What every table shares: the constraint naming convention, UUID ids and UTC instants."""

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from api import clock

E = TypeVar("E", bound=StrEnum)

# Set before the first table is declared, so every constraint has a stable name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return clock.now()  # a default timestamp follows the clock, as every rule does


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware instant, always UTC, on SQLite as on PostgreSQL.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    marked UTC on the way out; a naive value is a programming error.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(sa.types.TypeDecorator[E]):
    """A column of one of an enum's values, stored as its text (a VARCHAR, no database enum
    type, so a new value needs no DDL) and read back as the enum member: code compares
    enum members, never `.value` strings. Text that is not a member fails on the way in."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def enum_field(
    enum: type[E],
    *,
    length: int = 16,
    default: E | None = None,
    nullable: bool = False,
    **kwargs: Any,
) -> Any:
    """A column holding a member of `enum` (`EnumText`)."""
    if default is not None or nullable:
        kwargs["default"] = default
    return Field(sa_type=EnumText(enum, length), nullable=nullable, **kwargs)


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def instant_field(*, nullable: bool = False, index: bool = False, default_now: bool = False) -> Any:
    """A `_at` column: UTC with time zone."""
    kwargs: dict[str, Any] = {"sa_type": UTCDateTime, "nullable": nullable, "index": index}
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs["default"] = None
    return Field(**kwargs)


class Strict(BaseModel):
    """A request body: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid")
