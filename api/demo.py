"""Demo data: the 17th US–China Human Rights Dialogue, Washington, 23–24 July 2012.

The round, its dates, its place and its agenda are historical, and so are the facts of
the case. The accounts, submissions, responses and assessments are illustrative, written
for the demo: they are not records of what anyone said. Instants are UTC (Washington was
UTC−4). The builder replays the round in time order, through the record log, so the feed
reads as the round happened.
"""

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.config import Settings
from api.db import make_engine, open_session
from api.security import Security
from api.services import accounts, audit, cases, dialogues, events, submissions, themes
from models.case import (
    Benchmark,
    BenchmarkCase,
    BenchmarkCreate,
    BenchmarkTheme,
    Case,
    CaseCreate,
    CaseReview,
    CaseTimelineEntry,
    ProgressAssessment,
    ProgressCreate,
    Side,
    TimelineCreate,
)
from models.dialogue import Delegation, DelegationCreate, Dialogue, DialogueCreate
from models.response import (
    AnswerAssessment,
    AssessmentCreate,
    Response,
    ResponseCreate,
    ResponseRevision,
    RevisionCreate,
)
from models.round import Round, RoundCreate
from models.submission import (
    Endorsement,
    Status,
    Submission,
    SubmissionAddressee,
    SubmissionCreate,
    SubmissionTheme,
)
from models.user import Role, User

log = logging.getLogger("civic_input")

SLUG = "us-china-human-rights"
DIALOGUE = {
    "title": "US–China Human Rights Dialogue",
    "description": (
        "The annual bilateral human-rights dialogue between the United States and the "
        "People's Republic of China. Demo data: the 2012 Washington round is historical; "
        "its accounts, submissions and responses are illustrative."
    ),
}
DELEGATIONS = {"US": "United States", "CN": "China"}
ROUND: dict[str, Any] = {
    "number": 17,
    "title": "2012 Washington round",
    "location": "Washington, D.C.",
}
WINDOW = {
    "submissions_open_at": "2012-06-04 13:00",
    "submissions_close_at": "2012-07-16 04:00",
    "starts_at": "2012-07-23 13:00",  # Monday, 09:00 in Washington
    "ends_at": "2012-07-24 21:30",
    "responses_due_at": "2012-09-07 21:00",
}
ORGANISATION = "Dialogue Accountability Network"
MODERATOR = "demo-moderator"
# handle: (role, delegation code). Nobody can sign in as them: see `seed`.
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    MODERATOR: (Role.moderator, None),
    "demo-official-us": (Role.official, "US"),
    "demo-official-cn": (Role.official, "CN"),
    "lotus-reader": (Role.activist, None),
    "paper-crane": (Role.activist, None),
    "mingjing": (Role.activist, None),
    "rain-on-stone": (Role.activist, None),
    "night-ferry": (Role.activist, None),
}
OFFICIALS = {"US": "demo-official-us", "CN": "demo-official-cn"}

CASE: dict[str, Any] = {
    "name": "Chen Guangcheng",
    "name_native": "陈光诚",
    "location": "Dongshigu village, Linyi, Shandong",
    "summary": (
        "A blind, self-taught legal advocate who exposed forced abortions and sterilisations "
        "in Linyi. Imprisoned, then confined at home with his family after his release; "
        "escaped in April 2012 and left for the United States in May. Relatives who stayed "
        "behind face reprisals."
    ),
    "restricted_details": "Relatives are reached only through the caseworker (demo: no contact).",
    "recorded_by": "night-ferry",
    "published": "2012-06-07 12:00",
    "status": ("exiled", "2012-05-19"),  # when the case was recorded
    "history": [
        ("imprisoned", "2006-08-24", "Sentenced to four years and three months."),
        ("under_surveillance", "2010-09-09", "Released from prison into house arrest at home."),
    ],
}
# Set before the round, tied to the case; assessed by the moderator (civil society) and by
# the delegation's official: (assessor, status, date, note).
BENCHMARK: dict[str, Any] = {
    "delegation": "CN",
    "title": "Chen Kegui is defended by lawyers his family chose",
    "description": (
        "Met when lawyers retained by Chen Guangcheng's family have visited his nephew Chen "
        "Kegui and represent him at any trial."
    ),
    "themes": ["rule-of-law", "human-rights-defenders"],
    "adopted": "2012-07-18 15:00",
    "progress": [
        (MODERATOR, "not_met", "2012-12-03 12:00", "Sentenced; tried without family lawyers."),
        ("demo-official-cn", "met", "2012-12-10 12:00", "He was defended according to law."),
    ],
}

# In publication order. Defaults: kind `concern`, language `en`; attribution `organisation`
# means ORGANISATION. Responses by delegation code: kind, at, body, and optionally reason_code,
# language, revisions [{at, body, reason}], assessments [(rater, rating, comment)]. An
# addressed delegation that never responded is silence.
SUBMISSIONS: list[dict[str, Any]] = [
    {
        "kind": "case",
        "title": "Chen Guangcheng's relatives in Shandong",
        "body": (
            "Chen Guangcheng, the blind self-taught legal advocate from Linyi, Shandong, was "
            "confined at home after his prison term ended. He escaped in April 2012 and left "
            "for the United States in May. His relatives paid for it: his nephew Chen Kegui was "
            "detained after officials forced their way into the family home.\n\n"
            "On what legal basis was Chen Guangcheng confined? Where is Chen Kegui held, and "
            "may he see lawyers his family chose? Will the officials responsible be investigated?"
        ),
        "themes": ["human-rights-defenders", "arbitrary-detention", "rule-of-law"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-06-08 14:30",
        "endorsed_by": ["lotus-reader", "paper-crane", "mingjing", "rain-on-stone"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "ongoing_judicial_proceedings",
                "at": "2012-08-03 08:00",
                "body": (
                    "Chen Kegui is suspected of a crime; the judicial authorities of Shandong "
                    "handle his case according to law, and we do not comment on a pending case. "
                    "Chen Guangcheng, like any Chinese citizen, may study abroad."
                ),
                "assessments": [
                    ("night-ferry", "non_responsive", "None of the three questions answered."),
                    (MODERATOR, "non_responsive", None),
                ],
            }
        },
    },
    {
        "title": "Self-immolations by Tibetans",
        "body": (
            "Dozens of Tibetans, many of them monks and nuns, have set themselves on fire since "
            "2011. Monasteries are under heavy security; journalists and diplomats are kept out. "
            "Will the government let observers and the press in, ease the restrictions on "
            "monasteries, and talk with Tibetans about the grievances behind the protests?"
        ),
        "themes": ["tibet", "freedom-of-religion", "minority-rights"],
        "to": ["CN"],
        "author": ("paper-crane", "handle"),
        "published": "2012-06-13 16:00",
        "endorsed_by": ["lotus-reader", "mingjing"],
        "responses": {
            "CN": {
                "kind": "declined",
                "reason_code": "internal_affairs",
                "at": "2012-08-03 08:10",
                "body": (
                    "Tibet affairs are China's internal affairs. Tibet is stable and its "
                    "people enjoy freedom of religious belief."
                ),
                "assessments": [
                    ("paper-crane", "non_responsive", "The self-immolations go on."),
                    (MODERATOR, "evasive", None),
                ],
            }
        },
    },
    {
        "title": "Action Plan 2012–2015: who enforces “preventing unnecessary detention”?",
        "body": (
            "The new National Human Rights Action Plan (2012–2015) promises judicial review of "
            "the need for detention but obliges no one to release anybody, and it qualifies "
            "universal rights by undefined “national conditions”. Legal reform has stalled. "
            "Which body reviews detentions, how many people has it freed, and will a yearly "
            "report on the plan be published?"
        ),
        "themes": ["rule-of-law", "arbitrary-detention"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-06-20 15:10",
        "responses": {
            "CN": {
                "kind": "answer",
                "at": "2012-08-21 07:00",
                "body": (
                    "Under the Action Plan (2011–2015) and the revised Criminal Procedure Law, "
                    "in force from 2013, procuratorates review the need for continued detention."
                ),
                "revisions": [
                    {
                        "at": "2012-08-28 06:30",
                        "body": (
                            "Under the Action Plan (2012–2015) and the revised Criminal "
                            "Procedure Law, in force from 2013, procuratorates review the need for "
                            "continued detention."
                        ),
                        "reason": "Correction: the plan runs 2012–2015, not 2011–2015.",
                    }
                ],
                "assessments": [
                    ("night-ferry", "partial", "A body is named; no numbers, no yearly report."),
                    (MODERATOR, "partial", None),
                ],
            }
        },
    },
    {
        "title": "请保障维权律师的执业权利和会见权",
        "body": (
            "2012年3月修订的《刑事诉讼法》写入了律师会见权，"
            "但也允许“指定居所监视居住”长达六个月，期间律师往往见不到当事人；"
            "代理敏感案件的律师还可能在年度考核中不获注册。"
            "新法生效后如何保证律师及时会见当事人？"
        ),
        "language": "zh-Hans",
        "themes": ["human-rights-defenders", "rule-of-law"],
        "to": ["CN"],
        "author": ("mingjing", "handle"),
        "published": "2012-06-26 13:20",
        "endorsed_by": ["paper-crane", "rain-on-stone"],
        "responses": {
            "CN": {
                "kind": "holding",
                "language": "zh-Hans",
                "at": "2012-09-05 09:00",
                "body": "该问题已转交有关部门研究，我们将在适当时候答复。",
            }
        },
    },
    {
        "title": "未登记家庭教会的聚会自由",
        "body": (
            "未登记的家庭教会常被禁止租用场地聚会，有信徒在户外礼拜时被带走。"
            "未登记的信众可以通过什么合法途径和平聚会？"
        ),
        "language": "zh-Hans",
        "themes": ["freedom-of-religion", "freedom-of-assembly"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2012-07-03 13:05",
    },
    {
        "title": "Strike organisers detained; workers cannot choose their representatives",
        "body": (
            "Workers who organise strikes over unpaid wages are dismissed or detained, and "
            "workplace union branches are often run by management. Will workers be allowed to "
            "elect their own representatives, and will the detention of organisers stop?"
        ),
        "themes": ["labour-rights", "freedom-of-assembly"],
        "to": ["CN"],
        "author": ("night-ferry", "organisation"),
        "published": "2012-07-05 18:45",
        "endorsed_by": ["mingjing"],
        "responses": {
            "CN": {
                "kind": "answer",
                "at": "2012-10-16 07:30",  # after responses_due_at: late
                "body": (
                    "The Trade Union Law guarantees the right to organise; direct elections "
                    "of enterprise union leaders are being piloted in Shenzhen."
                ),
                "assessments": [("night-ferry", "partial", "Late, and silent on detentions.")],
            }
        },
    },
    {
        "title": "微博删帖与以“散布谣言”为由拘留网民",
        "body": (
            "2012年4月至5月，有关陈光诚出走的微博几分钟内即被删除，他的名字在搜索中被屏蔽；"
            "网民常以“散布谣言”为由被拘留。屏蔽搜索依据哪条法律？用户如何对删帖提出异议？"
        ),
        "language": "zh-Hans",
        "themes": ["freedom-of-expression", "internet-freedom"],
        "to": ["CN"],
        "author": ("rain-on-stone", "anonymous"),
        "published": "2012-07-10 14:00",
    },
    {
        "title": "Civilian deaths in US drone strikes",
        "body": (
            "Civilians are reported killed in US drone strikes in Pakistan, Yemen and Somalia; "
            "China's 2012 report on human rights in the United States says so too. Will the US "
            "publish its legal standard for such strikes and a count of civilian deaths?"
        ),
        "themes": ["use-of-force"],
        "to": ["US"],
        "author": ("lotus-reader", "handle"),
        "published": "2012-07-12 15:30",
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2012-08-14 19:00",
                "body": (
                    "US counterterrorism operations comply with domestic and international "
                    "law, as senior officials set out publicly this year. We do not discuss "
                    "specific operations."
                ),
                "assessments": [("lotus-reader", "evasive", "No standard, no figures.")],
            }
        },
    },
    {
        "title": "Gun violence and the killing of Trayvon Martin",
        "body": (
            "Trayvon Martin, an unarmed Black 17-year-old, was shot dead in Sanford, Florida, "
            "in February 2012; his killer was not charged for six weeks. What will the US do "
            "about racial profiling and gun violence?"
        ),
        "themes": ["racial-discrimination", "rule-of-law"],
        "to": ["US"],
        "author": ("night-ferry", "anonymous"),
        "published": "2012-07-13 16:10",
        "responses": {
            "US": {
                "kind": "holding",
                "at": "2012-08-30 20:00",
                "body": (
                    "A federal civil-rights investigation is ongoing; we will answer when "
                    "it concludes."
                ),
            }
        },
    },
    {
        "title": "Open the dialogue: a press conference and a public account",
        "body": (
            "Past rounds ended with no public account of what was said. We ask both "
            "delegations to take journalists' questions after this round, to hear Chinese "
            "activists before the next, and to publish benchmarks for progress."
        ),
        "themes": ["human-rights-defenders", "freedom-of-expression"],
        "to": ["CN", "US"],
        "author": ("lotus-reader", "handle"),
        "published": "2012-07-16 14:00",
        "endorsed_by": ["paper-crane", "night-ferry"],
        "responses": {
            "US": {
                "kind": "answer",
                "at": "2012-07-26 15:00",
                "body": (
                    "The head of the US delegation briefed journalists after the session; "
                    "we meet civil-society groups before and after each round."
                ),
                "assessments": [("lotus-reader", "satisfactory", "A start; benchmarks next.")],
            }
        },
    },
]

WRITTEN_BEFORE = timedelta(days=1)  # a submission was written a day before it was published
ASSESSED_AFTER = timedelta(days=3)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class DemoConflict(RuntimeError):
    """The demo accounts' handles are taken by real accounts."""


def seed_if_empty(settings: Settings) -> bool:
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine) as session:
            empty = session.exec(select(sa.func.count()).select_from(Dialogue)).one() == 0
    finally:
        engine.dispose()
    if not empty:
        return False
    try:
        return seed(settings)
    except DemoConflict as exc:
        log.warning("demo data not loaded: %s", exc)
        return False


def seed(settings: Settings) -> bool:
    """Load the demo dialogue once; answer False when it is already there."""
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine, write=True) as session:
            if _present(session):
                return False
            # One hash of a random, forgotten password for every demo account: none can sign in.
            password_hash = Security(settings).hash_password(secrets.token_urlsafe(32))
            try:
                _build(session, password_hash=password_hash)
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()  # another process loaded it at the same moment
                if _present(session):
                    return False
                raise
            return True
    finally:
        engine.dispose()


def _present(session: Session) -> bool:
    return session.exec(select(Dialogue.id).where(Dialogue.slug == SLUG)).first() is not None


@dataclass
class _Demo:
    session: Session
    rnd: Round
    users: dict[str, User]
    delegations: dict[str, Delegation]
    steps: list[tuple[datetime, Callable[[], None]]] = field(default_factory=list)

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        self.steps.append((when, step))

    def replay(self) -> None:
        for _, step in sorted(self.steps, key=lambda s: s[0]):
            step()
            self.session.flush()

    def audit(self, when: datetime, action: str, target_id: uuid.UUID, **detail: Any) -> None:
        """The moderator's decision, as the services record it, dated when it was made."""
        entry = audit.record(
            self.session,
            actor=self.users[MODERATOR],
            action=action,
            target_type=action.split(".")[0],
            target_id=target_id,
            detail=detail,
        )
        entry.at = when


def _build(session: Session, *, password_hash: str) -> None:
    keys = [accounts.handle_key(handle) for handle in ACCOUNTS]
    taken = session.exec(select(User.handle).where(col(User.handle_key).in_(keys))).all()
    if taken:
        raise DemoConflict(f"handles already in use: {', '.join(sorted(taken))}")
    dialogue = dialogues.create(session, data=DialogueCreate(slug=SLUG, **DIALOGUE))
    delegations = {
        code: dialogues.add_delegation(
            session, dialogue=dialogue, data=DelegationCreate(code=code, name=name)
        )
        for code, name in DELEGATIONS.items()
    }
    window = {name: _at(text) for name, text in WINDOW.items()}
    rnd = Round(dialogue_id=dialogue.id, **RoundCreate(**ROUND, **window).model_dump())
    users = {
        handle: User(
            handle=handle,
            handle_key=accounts.handle_key(handle),
            password_hash=password_hash,
            role=role.value,
            delegation_id=delegations[code].id if code else None,
        )
        for handle, (role, code) in ACCOUNTS.items()
    }
    session.add(rnd)
    session.add_all(users.values())
    session.flush()
    demo = _Demo(session, rnd, users, delegations)
    case = _case(demo)
    for item in SUBMISSIONS:
        submission = _submission(demo, item, case=case)
        for code, spec in item.get("responses", {}).items():
            _response(demo, spec, submission=submission, delegation=delegations[code])
    _benchmark(demo, case=case)
    demo.replay()


def _case(demo: _Demo) -> Case:
    """Recorded by an activist (with its current status), its history added, published."""
    status, since = CASE["status"]
    data = CaseCreate(
        name=CASE["name"],
        name_native=CASE["name_native"],
        name_consent=True,
        status=status,
        status_date=date.fromisoformat(since),
        location=CASE["location"],
        summary=CASE["summary"],
        restricted_details=CASE["restricted_details"],
    )
    published = _at(CASE["published"])
    case = cases.create(demo.session, data=data, activist=demo.users[CASE["recorded_by"]])
    case.created_at = published - WRITTEN_BEFORE
    for status, on, note in CASE["history"]:
        entry = TimelineCreate(status=status, event_date=date.fromisoformat(on), note=note)
        demo.session.add(
            CaseTimelineEntry(
                case_id=case.id,
                status=entry.status.value,
                event_date=entry.event_date,
                note=entry.note,
                created_by_id=demo.users[MODERATOR].id,
                created_at=published,
            )
        )

    def publish() -> None:
        case.review, case.published_at = CaseReview.published.value, published
        demo.session.flush()
        events.case_changed(demo.session, case=case, event_type="case.published")
        demo.audit(published, "case.published", case.id)

    demo.at(published, publish)
    return case


def _submission(demo: _Demo, item: dict[str, Any], *, case: Case) -> Submission:
    # The same validation as the API's input: demo text obeys the same limits.
    handle, attribution = item["author"]
    kind = item.get("kind", "concern")
    data = SubmissionCreate(
        kind=kind,
        title=item["title"],
        body=item["body"],
        language=item.get("language", "en"),
        themes=item["themes"],
        addressed_to=item["to"],
        attribution=attribution,
        organisation=ORGANISATION if attribution == "organisation" else None,
        case_id=case.id if kind == "case" else None,
    )
    published = _at(item["published"])
    submission = Submission(
        round_id=demo.rnd.id,
        author_id=demo.users[handle].id,
        status=Status.published.value,
        search_text=submissions.search_text(data.title, data.body),
        created_at=published - WRITTEN_BEFORE,
        updated_at=published,
        published_at=published,
        **data.model_dump(mode="json", exclude={"themes", "addressed_to", "case_id"}),
        case_id=data.case_id,
    )

    def publish() -> None:
        session = demo.session
        session.add(submission)
        session.flush()
        theme_ids = themes.ids_for(session, slugs=data.themes)
        session.add_all(SubmissionTheme(submission_id=submission.id, theme_id=t) for t in theme_ids)
        session.add_all(
            SubmissionAddressee(
                submission_id=submission.id, delegation_id=demo.delegations[code].id
            )
            for code in data.addressed_to
        )
        session.add_all(
            Endorsement(
                submission_id=submission.id,
                user_id=demo.users[endorser].id,
                created_at=published + timedelta(days=n),
            )
            for n, endorser in enumerate(item.get("endorsed_by", []), start=1)
        )
        session.flush()
        demo.audit(published, "submission.publish", submission.id)
        events.submission_published(session, submission=submission)

    demo.at(published, publish)
    return submission


def _response(
    demo: _Demo, spec: dict[str, Any], *, submission: Submission, delegation: Delegation
) -> None:
    """The response, then each revision, then the assessments, each when it happened."""
    data = ResponseCreate(
        kind=spec["kind"],
        body=spec["body"],
        language=spec.get("language", "en"),
        reason_code=spec.get("reason_code"),
    )
    official = demo.users[OFFICIALS[delegation.code]]
    at = _at(spec["at"])
    response = Response(submission_id=submission.id, delegation_id=delegation.id, responded_at=at)

    def revision(number: int, body: str, reason: str | None, when: datetime) -> None:
        demo.session.add(response)
        demo.session.add(
            ResponseRevision(
                response_id=response.id,
                number=number,
                kind=data.kind.value,
                body=body,
                language=data.language,
                reason_code=data.reason_code.value if data.reason_code else None,
                reason=reason,
                official_id=official.id,
                created_at=when,
            )
        )
        response.revision_count = number
        demo.session.flush()
        kind = "response.published" if number == 1 else "response.revised"
        events.response_published(demo.session, response=response, event_type=kind)

    def assessment(rater: str, rating: str, comment: str | None, when: datetime) -> None:
        valid = AssessmentCreate(rating=rating, comment=comment)
        row = AnswerAssessment(
            response_id=response.id,
            rater_id=demo.users[rater].id,
            rating=valid.rating.value,
            comment=valid.comment,
            created_at=when,
            updated_at=when,
        )
        demo.session.add(row)
        demo.session.flush()
        events.answer_assessed(demo.session, assessment=row, response=response)

    demo.at(at, partial(revision, 1, data.body, None, at))
    last = at
    for number, raw in enumerate(spec.get("revisions", []), start=2):
        valid = RevisionCreate(body=raw["body"], reason=raw["reason"])
        last = _at(raw["at"])
        demo.at(last, partial(revision, number, valid.body, valid.reason, last))
    for rater, rating, comment in spec.get("assessments", []):
        when = last + ASSESSED_AFTER
        demo.at(when, partial(assessment, rater, rating, comment, when))


def _benchmark(demo: _Demo, *, case: Case) -> None:
    data = BenchmarkCreate(
        delegation=BENCHMARK["delegation"],
        title=BENCHMARK["title"],
        description=BENCHMARK["description"],
        cases=[case.id],
        themes=BENCHMARK["themes"],
    )
    adopted = _at(BENCHMARK["adopted"])
    benchmark = Benchmark(
        round_id=demo.rnd.id,
        delegation_id=demo.delegations[data.delegation].id,
        title=data.title,
        description=data.description,
        adopted_by_id=demo.users[MODERATOR].id,
        created_at=adopted,
    )

    def adopt() -> None:
        session = demo.session
        session.add(benchmark)
        session.flush()
        session.add(BenchmarkCase(benchmark_id=benchmark.id, case_id=case.id))
        session.add_all(
            BenchmarkTheme(benchmark_id=benchmark.id, theme_id=t)
            for t in themes.ids_for(session, slugs=data.themes)
        )
        session.flush()
        events.benchmark_adopted(session, benchmark=benchmark)
        demo.audit(adopted, "benchmark.adopt", benchmark.id, title=benchmark.title)

    def assess(assessor: User, valid: ProgressCreate, when: datetime) -> None:
        side = Side.civil_society if assessor.role == Role.moderator.value else Side.delegation
        row = ProgressAssessment(
            target_type="benchmark",
            target_id=benchmark.id,
            side=side.value,
            status=valid.status.value,
            note=valid.note,
            assessed_on=when.date(),
            assessed_by_id=assessor.id,
            created_at=when,
        )
        demo.session.add(row)
        demo.session.flush()
        events.progress_assessed(demo.session, assessment=row, round_id=demo.rnd.id)
        if side == Side.civil_society:
            demo.audit(when, "benchmark.assess", benchmark.id, status=row.status)

    demo.at(adopted, adopt)
    for handle, status, on, note in BENCHMARK["progress"]:
        when = _at(on)
        valid = ProgressCreate(status=status, note=note, assessed_on=when.date())
        demo.at(when, partial(assess, demo.users[handle], valid, when))
