"""SQLModel tables and their request/response schemas, one module per aggregate;
importing this registers every table."""

from sqlmodel import SQLModel

from models import (  # noqa: F401  (registers tables)
    audit,
    benchmark,
    case,
    commitment,
    dialogue,
    idempotency,
    ledger,
    progress,
    release,
    response,
    round,
    search,
    submission,
    theme,
    translation,
    user,
)

metadata = SQLModel.metadata
