"""`Prepared`: a select run on the DB-API cursor gives the rows SQLAlchemy gives for the
same select and values, on the database under test: ids, instants and booleans bound
and read through their types, literals carried by the statement, NULL; in the
session's transaction; seen by the engine's cursor events. Inserts, of one row or many,
store what SQLAlchemy would and count as writes for the response cache."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api import cache
from api.sql.json_text import comma_joined, instant_text, uuid_text
from api.sql.prepared import WROTE, Prepared, one_of, one_of_values
from models.round import Phase
from models.submission import Status, Submission
from models.theme import Theme

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
S = sa.inspect(Submission).columns
OTHER = sa.orm.aliased(Submission)

# every kind of value the record page binds and reads: a UUID and an instant bound, a
# literal fixed in the statement, typed columns (UUID, instant, boolean, integer,
# text), the text forms, an aggregate
STATEMENT = (
    sa.select(
        S.id,
        uuid_text(S.id),
        S.published_at,
        instant_text(S.published_at),
        (S.published_at > sa.bindparam("at", type_=S.published_at.type)).label("later"),
        S.case_id,
        S.title,
        sa.select(sa.func.count())
        .select_from(OTHER)
        .where(OTHER.round_id == sa.bindparam("round_id", type_=S.round_id.type))
        .scalar_subquery(),
        sa.select(comma_joined(OTHER.status)).where(OTHER.round_id == S.round_id).scalar_subquery(),
    )
    .where(
        S.round_id == sa.bindparam("round_id", type_=S.round_id.type),
        S.status == Status.published.value,
    )
    .order_by(S.published_at, S.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


def _values(make):
    rnd = make.round(phase=Phase.accepting_responses)
    for n in range(4):
        make.submission(rnd, published_at=BASE + timedelta(days=n, microseconds=n * 250_000))
    make.submission(rnd, status=Status.pending)
    make.submission(make.round(phase=Phase.accepting_responses))  # another round
    return {"round_id": rnd.id, "at": BASE + timedelta(days=1), "limit": 3}


def test_rows_are_what_sqlalchemy_reads(make, engine):
    params = _values(make)
    with Session(engine) as session:
        expected = [tuple(row) for row in session.execute(STATEMENT, params)]
        rows = [tuple(row) for row in Prepared(STATEMENT).rows(session, params)]
    assert len(expected) == 3
    assert rows == expected
    # the values are what they say: typed, text, boolean, NULL, the count
    first = rows[0]
    assert isinstance(first[0], uuid.UUID) and first[1] == str(first[0])
    assert first[2] == BASE and first[3] == "2026-03-01T09:00:00Z"
    assert [row[4] for row in rows] == [False, True, True]
    assert {type(row[4]) for row in rows} == {bool}  # not SQLite's 0 and 1
    assert first[5] is None and first[7] == 5
    assert sorted(first[8].split(",")) == ["pending"] + ["published"] * 4


def test_the_limit_and_the_values_are_bound_at_each_execution(make, engine):
    params = _values(make)
    statement = Prepared(STATEMENT)
    with Session(engine) as session:
        assert len(statement.rows(session, params)) == 3
        assert len(statement.rows(session, {**params, "limit": 1})) == 1
        assert statement.rows(session, {**params, "round_id": uuid.uuid4()}) == []


def test_it_runs_in_the_session_transaction_and_sees_what_is_pending(make, engine):
    params = _values(make)
    with Session(engine) as session:
        before = len(Prepared(STATEMENT).rows(session, {**params, "limit": 10}))
        session.execute(
            sa.update(Submission)
            .where(S.round_id == params["round_id"], S.status == Status.pending.value)
            .values(status=Status.published.value, published_at=BASE)
        )
        assert len(Prepared(STATEMENT).rows(session, {**params, "limit": 10})) == before + 1
        session.rollback()
        assert len(Prepared(STATEMENT).rows(session, {**params, "limit": 10})) == before


def test_the_engine_cursor_events_see_the_statement(make, engine):
    params = _values(make)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            Prepared(STATEMENT).rows(session, params)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [s for s in seen if "FROM submission" in s] != []


def test_an_expanding_list_is_refused(engine):
    statement = sa.select(S.id).where(S.id.in_(sa.bindparam("ids", expanding=True)))
    with Session(engine) as session, pytest.raises(ValueError, match="plain named parameters"):
        Prepared(statement).rows(session, {"ids": [uuid.uuid4()]})


# --- inserts ------------------------------------------------------------------------

THEME = sa.inspect(Theme).columns
INSERT_THEME = Prepared(sa.insert(Theme.__table__))
THEMES = Prepared(
    sa.select(THEME.id, THEME.slug, THEME.names, THEME.created_at)
    .where(THEME.created_at == sa.bindparam("at", type_=THEME.created_at.type))  # not seeded
    .order_by(THEME.slug)
)


# themes are reference data, kept between tests (and the OpenAPI examples create one
# called "detention"): these slugs are this module's own
RUN = uuid.uuid4().hex[:8]


def _theme(slug: str) -> dict:
    return {
        "id": uuid.uuid4(),
        "slug": f"{slug}-{RUN}",
        "names": {"en": slug.title(), "zh": "律师"},
        "created_at": BASE,
    }


def test_an_insert_stores_one_row_or_many_as_sqlalchemy_would(engine):
    rows = [_theme("assembly"), _theme("detention"), _theme("expression")]
    with Session(engine) as session:
        INSERT_THEME.execute(session, rows[0])
        INSERT_THEME.execute(session, rows[1:])
        session.commit()
    with Session(engine) as session:
        stored = [tuple(row) for row in session.execute(THEMES.statement, {"at": BASE})]
        assert stored == [(r["id"], r["slug"], r["names"], BASE) for r in rows]
        assert [tuple(row) for row in THEMES.rows(session, {"at": BASE})] == stored
        first = THEMES.first(session, {"at": BASE})
    assert first == {**rows[0], "slug": f"assembly-{RUN}"}


def test_an_insert_wants_every_column_and_the_database_error_is_sqlalchemys(engine):
    with Session(engine) as session:
        with pytest.raises(KeyError):
            INSERT_THEME.execute(session, {"id": uuid.uuid4(), "slug": "no-names"})
        INSERT_THEME.execute(session, _theme("twice"))
        with pytest.raises(sa.exc.IntegrityError):
            INSERT_THEME.execute(session, _theme("twice"))  # the slug is unique


def test_an_insert_counts_as_a_write_for_the_response_cache(engine):
    before = cache._version
    with Session(engine) as session:
        INSERT_THEME.execute(session, _theme("cached"))
        assert session.info.get(WROTE) is True
        session.commit()
    assert cache._version != before


def test_one_of_binds_a_list_of_a_given_length(make, engine):
    rnd = make.round(phase=Phase.accepting_responses)
    made = [make.submission(rnd) for _ in range(4)]
    wanted = [made[0].id, made[2].id, made[3].id]
    statement = Prepared(sa.select(S.id).where(one_of(S.id, len(wanted))).order_by(S.id))
    with Session(engine) as session:
        rows = statement.rows(session, one_of_values(wanted))
        assert [row[0] for row in rows] == sorted(wanted)
        with pytest.raises(KeyError):  # fewer values than the statement's list
            statement.rows(session, one_of_values(wanted[:2]))
