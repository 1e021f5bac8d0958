"""`json_text`: ids and instants read as text are exactly what pydantic writes for the
values the ORM reads, NULL included, on the database under test; text ids bind back."""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session

from api.sql.json_text import UUID_TEXT, instant_text, uuid_text
from models.round import Phase
from models.submission import Status, Submission

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FRACTIONS = (0, 1, 120_000, 999_999, 500_000)
AS_JSON = TypeAdapter(uuid.UUID | datetime | None)

S = sa.inspect(Submission).columns


def _json_string(value: object) -> str | None:
    return None if value is None else AS_JSON.dump_json(value).decode().strip('"')


def test_ids_and_instants_read_as_the_text_pydantic_writes(make, engine):
    rnd = make.round(phase=Phase.accepting_responses)
    for n, fraction in enumerate(FRACTIONS):
        make.submission(rnd, published_at=BASE + timedelta(days=n * 400, microseconds=fraction))
    make.submission(rnd, status=Status.pending)  # no published_at: NULL
    with Session(engine) as session:
        typed = session.execute(
            sa.select(S.id, S.round_id, S.case_id, S.published_at, S.created_at).order_by(S.id)
        ).all()
        text = session.execute(
            sa.select(
                uuid_text(S.id),
                uuid_text(S.round_id),
                uuid_text(S.case_id),
                instant_text(S.published_at),
                instant_text(S.created_at),
            ).order_by(S.id)
        ).all()
    assert len(typed) == len(FRACTIONS) + 1
    expected = [tuple(_json_string(value) for value in row) for row in typed]
    assert [tuple(row) for row in text] == expected
    fractions = {row[3][19:] for row in text if row[3] is not None}
    assert fractions == {"Z", ".000001Z", ".120000Z", ".999999Z", ".500000Z"}
    assert sum(row[2] is None for row in text) == len(text)  # case_id: NULL stays NULL


def test_ids_as_text_bind_back(make, engine):
    rnd = make.round(phase=Phase.accepting_responses)
    chosen = [make.submission(rnd) for _ in range(3)]
    make.submission(rnd)
    wanted = sorted(str(s.id) for s in chosen)
    ids = sa.bindparam("ids", expanding=True, type_=UUID_TEXT)
    with Session(engine) as session:
        found = session.execute(
            sa.select(uuid_text(S.id)).where(S.id.in_(ids)), {"ids": wanted}
        ).scalars()
        assert sorted(found) == wanted
