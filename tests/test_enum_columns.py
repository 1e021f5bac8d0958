"""Enum columns (`EnumText`): stored as their text, read back as enum members, and a
text that is no member of the enum never reaches the table."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from api.db import open_session
from models.submission import Status, Submission
from models.user import Role, User
from tests import factories


def test_a_member_is_stored_as_its_text_and_read_back_as_the_member(
    engine: sa.Engine, make: factories.Factory
) -> None:
    user = make.user(Role.official)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT role FROM user_account WHERE handle = :h"), {"h": user.handle}
        ).scalar_one()
    assert stored == "official"
    assert type(stored) is str
    with open_session(engine) as session:
        read = session.get(User, user.id)
        assert read is not None
        assert type(read.role) is Role
        assert read.role is Role.official


def test_a_query_compares_with_the_member(engine: sa.Engine, make: factories.Factory) -> None:
    make.user(Role.moderator)
    make.user(Role.activist)
    with open_session(engine) as session:
        roles = session.execute(sa.select(User.role).where(User.role == Role.moderator)).scalars()
        assert list(roles) == [Role.moderator]


def test_text_that_is_no_member_is_refused_and_nothing_is_stored(
    engine: sa.Engine, db: Session, make: factories.Factory
) -> None:
    rnd = make.round()
    submission = make.submission(rnd)
    with open_session(engine, write=True) as session:
        row = session.get_one(Submission, submission.id)
        row.status = "hidden"  # type: ignore[assignment]
        with pytest.raises(sa.exc.StatementError, match="'hidden' is not a valid SubmissionStatus"):
            session.commit()
    with open_session(engine) as session:
        assert session.get_one(Submission, submission.id).status is Status.published
