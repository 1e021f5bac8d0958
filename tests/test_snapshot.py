"""`api.sql.snapshot`: a read-only copy of a row that reads like the row, even as the first
thing a fresh process does (before any ORM query has configured the mappers)."""

import subprocess
import sys
import textwrap

from tests.live import REPO

SCRIPT = textwrap.dedent(
    """
    import sys, uuid
    from datetime import UTC, datetime, timedelta
    import sqlalchemy as sa
    from sqlmodel import Session
    from api.cli import migrate
    from api.db import make_engine
    from api.sql.snapshot import snapshot
    from models.dialogue import Dialogue
    from models.round import Round

    url = sys.argv[1]
    migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    dialogue_id, round_id = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(sa.insert(Dialogue.__table__), [{
            "id": dialogue_id, "slug": "snap", "title": "Snap", "description": "",
            "created_at": now}])
        conn.execute(sa.insert(Round.__table__), [{
            "id": round_id, "dialogue_id": dialogue_id, "number": 7, "title": "Seventh",
            "location": None, "submissions_open_at": now, "submissions_close_at": now,
            "starts_at": now, "ends_at": now + timedelta(days=1),
            "responses_due_at": now + timedelta(days=2), "version": 1, "created_at": now}])
    with Session(engine) as session:
        rnd = snapshot(session, Round, round_id)
        missing = snapshot(session, Round, uuid.uuid4())
    print(rnd.id == round_id, rnd.number, rnd.title, rnd.ends_at.tzinfo is not None,
          missing is None)
    """
)


def test_a_snapshot_reads_like_the_row_in_a_fresh_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'snapshot.db'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "7", "Seventh", "True", "True"]
