"""SQLModel tables and their request/response schemas; importing this registers every table."""

from sqlmodel import SQLModel

from models import case, dialogue, ledger, response, round, submission, user  # noqa: F401  (registers tables)

metadata = SQLModel.metadata
