"""What every table shares: the constraint naming convention, UUID ids and UTC instants."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from api import clock

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
