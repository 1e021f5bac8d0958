"""Fill a database with a realistic public record, fast, through the project's own tables.

    python -m bench.seed sqlite:///bench/data/bench.db [--submissions 100000]

2 dialogues × 10 rounds; 100,000 published submissions (30% in Chinese); about
65,000 responses with 65,000 revisions (about 130,000 rows); endorsements; cases;
and the record log with its hash chain. Bulk inserts in batches, with a progress line.
"""

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from api.cli import migrate
from api.db import make_engine
from api.services import ledger
from api.services.submissions import search_text
from models.case import Case, CaseTimelineEntry
from models.dialogue import Delegation, Dialogue
from models.ledger import RecordEntry, RecordHead
from models.response import Response, ResponseRevision, ResponseSubmission
from models.round import Round
from models.submission import Endorsement, Submission, SubmissionAddressee, SubmissionTheme
from models.theme import Theme
from models.user import User

BATCH = 5_000
ZH_WORDS = [
    "维权律师",
    "被拘留",
    "家属",
    "无法会见",
    "宗教自由",
    "劳工",
    "工厂",
    "罢工",
    "西藏",
    "自焚",
    "法治",
    "审判",
    "言论自由",
    "网络审查",
    "记者",
    "上访",
    "强迫失踪",
    "酷刑",
    "新疆",
    "少数民族",
    "死刑",
    "人权捍卫者",
    "律师",
    "公民社会",
    "请说明",
    "下落",
]
EN_WORDS = [
    "detained",
    "lawyer",
    "family",
    "access",
    "court",
    "trial",
    "labour",
    "factory",
    "strike",
    "religion",
    "freedom",
    "expression",
    "censorship",
    "journalist",
    "petition",
    "disappearance",
    "torture",
    "minority",
    "penalty",
    "defender",
    "civil",
    "society",
    "please",
    "explain",
    "whereabouts",
    "release",
    "charges",
    "held",
    "without",
]


def _zh(rng: random.Random, n: int) -> str:
    return "，".join("".join(rng.choices(ZH_WORDS, k=3)) for _ in range(n)) + "。"


def _en(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(EN_WORDS, k=n)).capitalize() + "."


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.began = total, 0, time.perf_counter()

    def add(self, n: int, what: str) -> None:
        self.done += n
        rate = self.done / max(time.perf_counter() - self.began, 1e-6)
        print(
            f"\r{what:<14} {self.done:>9,}/{self.total:,} rows  {rate:,.0f} rows/s",
            end="",
            file=sys.stderr,
            flush=True,
        )


def _insert(
    conn: sa.Connection, table: Any, rows: list[dict[str, Any]], progress: Progress, what: str
) -> None:
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        conn.execute(sa.insert(table.__table__), chunk)
        progress.add(len(chunk), what)


def seed(
    url: str, *, submissions: int = 100_000, rounds_per_dialogue: int = 10, seed_value: int = 7
) -> None:
    rng = random.Random(seed_value)
    migrate(url)
    engine = make_engine(url)
    start = datetime(2015, 1, 5, tzinfo=UTC)
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(Submission.__table__)).scalar_one():
            print("the database holds submissions already; nothing done", file=sys.stderr)
            return
        theme_ids = [row.id for row in conn.execute(sa.select(Theme.__table__.c.id))]
        progress = Progress(submissions * 6)
        users = [
            {
                "id": uuid.uuid4(),
                "handle": f"bench-{i}",
                "handle_key": f"bench-{i}",
                "password_hash": "!",
                "role": "activist",
                "is_active": True,
                "session_version": 0,
                "created_at": start,
            }
            for i in range(2_000)
        ]
        dialogues, delegations, rounds = [], [], []
        for d in range(2):
            dialogue_id = uuid.uuid4()
            dialogues.append(
                {
                    "id": dialogue_id,
                    "slug": f"bench-dialogue-{d}",
                    "title": f"Bench dialogue {d}",
                    "description": "",
                    "created_at": start,
                }
            )
            codes = {}
            for code in ("US", "CN"):
                codes[code] = uuid.uuid4()
                delegations.append(
                    {"id": codes[code], "dialogue_id": dialogue_id, "code": code, "name": code}
                )
            for n in range(1, rounds_per_dialogue + 1):
                opens = start + timedelta(days=180 * n)
                rounds.append(
                    {
                        "id": uuid.uuid4(),
                        "dialogue_id": dialogue_id,
                        "number": n,
                        "title": f"Round {n}",
                        "location": "Geneva",
                        "submissions_open_at": opens,
                        "submissions_close_at": opens + timedelta(days=30),
                        "starts_at": opens + timedelta(days=31),
                        "ends_at": opens + timedelta(days=32),
                        "responses_due_at": opens + timedelta(days=60),
                        "version": 1,
                        "created_at": opens,
                        "_codes": codes,
                    }
                )
        officials = [
            {
                "id": uuid.uuid4(),
                "handle": f"bench-official-{i}",
                "handle_key": f"bench-official-{i}",
                "password_hash": "!",
                "role": "official",
                "is_active": True,
                "session_version": 0,
                "created_at": start,
                "delegation_id": d["id"],
            }
            for i, d in enumerate(delegations)
        ]
        conn.execute(sa.insert(Dialogue.__table__), dialogues)
        conn.execute(sa.insert(Delegation.__table__), delegations)
        conn.execute(sa.insert(User.__table__), users + officials)
        conn.execute(
            sa.insert(Round.__table__),
            [{k: v for k, v in r.items() if k != "_codes"} for r in rounds],
        )
        official_by_delegation = {o["delegation_id"]: o["id"] for o in officials}

        cases = []
        for i in range(500):
            cases.append(
                {
                    "id": uuid.uuid4(),
                    "created_by_id": rng.choice(users)["id"],
                    "name": f"Person {i}",
                    "name_native": None,
                    "name_consent": i % 3 == 0,
                    "location": None,
                    "summary": "A person raised in the dialogue.",
                    "restricted_details": None,
                    "review": "published",
                    "review_reason": None,
                    "search_names": f"person {i}",
                    "created_at": start,
                    "published_at": start,
                }
            )
        conn.execute(sa.insert(Case.__table__), cases)
        conn.execute(
            sa.insert(CaseTimelineEntry.__table__),
            [
                {
                    "id": uuid.uuid4(),
                    "case_id": c["id"],
                    "status": "detained",
                    "event_date": start.date(),
                    "note": "",
                    "source_url": None,
                    "created_by_id": c["created_by_id"],
                    "created_at": start,
                }
                for c in cases
            ],
        )

        subs, addressees, sub_themes, responses, revisions, endorsements, log = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        per_round = submissions // len(rounds)
        prev = ledger.GENESIS
        seq = 0
        for rnd in rounds:
            for k in range(per_round):
                sid = uuid.uuid4()
                chinese = rng.random() < 0.3
                title = _zh(rng, 1) if chinese else _en(rng, 6)
                body = _zh(rng, 12) if chinese else _en(rng, 90)
                kind = "case" if rng.random() < 0.2 else "concern"
                published = rnd["submissions_open_at"] + timedelta(seconds=k * 20 + 1)
                subs.append(
                    {
                        "id": sid,
                        "round_id": rnd["id"],
                        "author_id": rng.choice(users)["id"],
                        "kind": kind,
                        "title": title[:200],
                        "body": body,
                        "language": "zh-Hans" if chinese else "en",
                        "attribution": rng.choice(["anonymous", "anonymous", "handle"]),
                        "organisation": None,
                        "case_id": rng.choice(cases)["id"] if kind == "case" else None,
                        "status": "published",
                        "status_reason": None,
                        "search_text": search_text(title, body),
                        "created_at": published - timedelta(hours=1),
                        "updated_at": published,
                        "published_at": published,
                        "withdrawn_at": None,
                        "removed_at": None,
                        "erased_at": None,
                    }
                )
                targets = ["CN"] if rng.random() < 0.7 else ["CN", "US"]
                for code in targets:
                    addressees.append({"submission_id": sid, "delegation_id": rnd["_codes"][code]})
                for theme_id in rng.sample(theme_ids, 2):
                    sub_themes.append({"submission_id": sid, "theme_id": theme_id})
                for code in targets:
                    if rng.random() < 0.5:
                        rid = uuid.uuid4()
                        delegation_id = rnd["_codes"][code]
                        at = rnd["ends_at"] + timedelta(hours=rng.randint(1, 24 * 40))
                        responses.append(
                            {
                                "id": rid,
                                "submission_id": sid,
                                "delegation_id": delegation_id,
                                "revision_count": 1,
                                "responded_at": at,
                            }
                        )
                        kind_r = rng.choice(["answer", "answer", "holding", "declined"])
                        revisions.append(
                            {
                                "id": uuid.uuid4(),
                                "response_id": rid,
                                "number": 1,
                                "kind": kind_r,
                                "body": _en(rng, 40),
                                "language": "en",
                                "reason_code": "internal_affairs" if kind_r == "declined" else None,
                                "reason": None,
                                "official_id": official_by_delegation[delegation_id],
                                "created_at": at,
                            }
                        )
                for _ in range(rng.randint(0, 2)):
                    endorsements.append(
                        {
                            "submission_id": sid,
                            "user_id": rng.choice(users)["id"],
                            "created_at": published,
                        }
                    )
                content = {
                    "id": str(sid),
                    "round_id": str(rnd["id"]),
                    "kind": kind,
                    "title": title[:200],
                    "body": body,
                    "language": "zh-Hans" if chinese else "en",
                }
                seq += 1
                digest = ledger.content_hash(content)
                entry_hash = ledger.entry_hash(
                    seq=seq,
                    event_type="submission.published",
                    at=published,
                    object_type="submission",
                    object_id=sid,
                    round_id=rnd["id"],
                    content_digest=digest,
                    prev_hash=prev,
                )
                log.append(
                    {
                        "seq": seq,
                        "event_type": "submission.published",
                        "at": published,
                        "object_type": "submission",
                        "object_id": sid,
                        "round_id": rnd["id"],
                        "subject_id": sid,
                        "content": content,
                        "content_hash": digest,
                        "prev_hash": prev,
                        "hash": entry_hash,
                    }
                )
                prev = entry_hash
        endorsements = list({(e["submission_id"], e["user_id"]): e for e in endorsements}.values())
        progress.total = sum(
            map(len, (subs, addressees, sub_themes, responses, revisions, endorsements, log))
        )
        _insert(conn, Submission, subs, progress, "submissions")
        _insert(conn, SubmissionAddressee, addressees, progress, "addressees")
        _insert(conn, SubmissionTheme, sub_themes, progress, "themes")
        _insert(conn, Response, responses, progress, "responses")
        links = [
            {
                "submission_id": r["submission_id"],
                "delegation_id": r["delegation_id"],
                "response_id": r["id"],
            }
            for r in responses
        ]
        _insert(conn, ResponseSubmission, links, progress, "responses' submissions")
        _insert(conn, ResponseRevision, revisions, progress, "revisions")
        _insert(conn, Endorsement, endorsements, progress, "endorsements")
        _insert(conn, RecordEntry, log, progress, "record log")
        conn.execute(
            sa.update(RecordHead.__table__)
            .where(RecordHead.__table__.c.id == 1)
            .values(seq=seq, hash=prev)
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(
        f"\nseeded {len(subs):,} submissions, "
        f"{len(responses) + len(revisions):,} responses and revisions, "
        f"{len(log):,} log entries in {time.perf_counter() - progress.began:.0f}s",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--submissions", type=int, default=100_000)
    args = parser.parse_args()
    seed(args.url, submissions=args.submissions)


if __name__ == "__main__":
    main()
