"""The naive peer: the same page of the record, built the way a tutorial builds it.

Offset pagination, relationships loaded lazily one object at a time, and a
`response_model` list of table-backed models. It reads the same database as Civic
Input (run it with CIVIC_DATABASE_URL) and serves `GET /rounds/{id}/record?offset=&limit=`.

    CIVIC_DATABASE_URL=sqlite:///bench/data/bench.db uvicorn bench.naive:app
"""

import os
import uuid
from datetime import datetime

from fastapi import Depends, FastAPI
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select


class Base(SQLModel, registry=registry()):
    pass


class SubmissionTheme(Base, table=True):
    __tablename__ = "submission_theme"
    submission_id: uuid.UUID = Field(foreign_key="submission.id", primary_key=True)
    theme_id: uuid.UUID = Field(foreign_key="theme.id", primary_key=True)


class Theme(Base, table=True):
    __tablename__ = "theme"
    id: uuid.UUID = Field(primary_key=True)
    slug: str


class ResponseRevision(Base, table=True):
    __tablename__ = "response_revision"
    id: uuid.UUID = Field(primary_key=True)
    response_id: uuid.UUID = Field(foreign_key="response.id")
    number: int
    kind: str
    body: str
    language: str


class Response(Base, table=True):
    __tablename__ = "response"
    id: uuid.UUID = Field(primary_key=True)
    submission_id: uuid.UUID = Field(foreign_key="submission.id")
    delegation_id: uuid.UUID
    revision_count: int
    responded_at: datetime
    submission: "Submission" = Relationship(back_populates="responses")
    revisions: list[ResponseRevision] = Relationship()


class Submission(Base, table=True):
    __tablename__ = "submission"
    id: uuid.UUID = Field(primary_key=True)
    round_id: uuid.UUID
    kind: str
    title: str
    body: str
    language: str
    attribution: str
    status: str
    published_at: datetime | None
    responses: list[Response] = Relationship(back_populates="submission")
    themes: list[Theme] = Relationship(link_model=SubmissionTheme)


class RevisionRead(SQLModel):
    number: int
    kind: str
    body: str
    language: str


class ResponseRead(SQLModel):
    id: uuid.UUID
    delegation_id: uuid.UUID
    revision_count: int
    responded_at: datetime
    revisions: list[RevisionRead]


class ThemeRead(SQLModel):
    slug: str


class SubmissionRead(SQLModel):
    id: uuid.UUID
    round_id: uuid.UUID
    kind: str
    title: str
    body: str
    language: str
    attribution: str
    published_at: datetime | None
    themes: list[ThemeRead]
    responses: list[ResponseRead]


url = os.environ.get("CIVIC_DATABASE_URL", "sqlite:///bench/data/bench.db").replace(
    "postgresql://", "postgresql+psycopg://"
)
engine = create_engine(
    url, connect_args={"check_same_thread": False} if url.startswith("sqlite") else {}
)
app = FastAPI()


def get_session():  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        yield session


@app.get("/rounds/{round_id}/record", response_model=list[SubmissionRead])
def record(
    round_id: uuid.UUID, offset: int = 0, limit: int = 50, session: Session = Depends(get_session)
):  # type: ignore[no-untyped-def]
    return session.exec(
        select(Submission)
        .where(Submission.round_id == round_id, Submission.status == "published")
        .order_by(Submission.published_at)
        .offset(offset)
        .limit(limit)
    ).all()
