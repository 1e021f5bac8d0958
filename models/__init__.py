"""SQLModel tables and their request/response schemas; importing this registers every table."""

from sqlmodel import SQLModel

from models import dialogue, user  # noqa: F401  (registers the tables)

metadata = SQLModel.metadata
