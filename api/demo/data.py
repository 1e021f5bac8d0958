"""The demo dialogue as data: `dialogue.toml`, shipped with the package, read with tomllib
and checked item by item by the create schemas the API checks requests with. A wrong item
is a `DemoDataError` that names it."""

import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from models.benchmark import BenchmarkCreate
from models.case import CaseCreate, TimelineCreate
from models.commitment import CommitmentCreate
from models.dialogue import DelegationCreate, DialogueCreate
from models.progress import ProgressCreate
from models.release import ReleaseSet
from models.response import (
    AssessmentCreate,
    GroupedResponseCreate,
    ResponseCreate,
    RevisionCreate,
)
from models.round import RoundCreate
from models.submission import SubmissionCreate
from models.translation import (
    AuthoritativeText,
    ResponseTranslationCreate,
    SubmissionTranslationCreate,
)
from models.types import Handle
from models.user import Role

FILE = "dialogue.toml"

M = TypeVar("M", bound=BaseModel)

_HANDLE: TypeAdapter[str] = TypeAdapter(Handle)  # as registration checks it


class DemoDataError(ValueError):
    """The demo data is wrong: the message names the item and what is wrong with it."""


@dataclass(frozen=True)
class Account:
    handle: str
    role: Role
    delegation: str | None


@dataclass(frozen=True)
class Dated:
    """Something someone did at an instant: `data` is what the API would have received."""

    at: datetime
    by: str
    data: Any
    where: str


@dataclass
class CaseItem:
    key: str
    where: str
    recorded_by: str
    published_at: datetime
    data: CaseCreate
    history: list[TimelineCreate]
    later: list[Dated]


@dataclass
class ResponseItem:
    where: str
    delegation: str
    at: datetime
    data: ResponseCreate
    revisions: list[Dated]
    assessments: list[Dated]
    # translations (ResponseTranslationCreate); `authoritative` the delegation's marks
    # (AuthoritativeText), a minute after the translation they choose
    translations: list[Dated] = field(default_factory=list)
    authoritative: list[Dated] = field(default_factory=list)


@dataclass
class GroupedResponseItem:
    """One response answering several submissions (given by their `ref`)."""

    where: str
    round: int
    delegation: str
    at: datetime
    data: GroupedResponseCreate  # `submission_ids` placeholders
    refs: list[str]
    revisions: list[Dated]


@dataclass
class SubmissionItem:
    where: str
    round: int
    author: str
    published_at: datetime
    data: SubmissionCreate  # `case_id` a placeholder until the case exists
    case: str | None
    ref: str | None
    endorsed_by: list[str]
    responses: list[ResponseItem]
    translations: list[Dated] = field(default_factory=list)  # SubmissionTranslationCreate


@dataclass
class BenchmarkItem:
    where: str
    round: int
    adopted_at: datetime
    data: BenchmarkCreate  # `cases` placeholders
    cases: list[str]
    progress: list[Dated]


@dataclass
class CommitmentItem:
    where: str
    round: int
    recorded_by: str
    recorded_at: datetime
    data: CommitmentCreate  # `submissions` placeholders
    refs: list[str]
    progress: list[Dated]


@dataclass
class ReleaseItem:
    """A delegation's joint release in a round: set by its official at `set_at`; what it
    holds there becomes public at `data.release_at`."""

    where: str
    round: int
    delegation: str
    set_at: datetime
    data: ReleaseSet


@dataclass
class DemoData:
    about: str
    slug: str
    organisation: str
    set_up_at: datetime
    written_before: timedelta
    assessed_after: timedelta
    dialogue: DialogueCreate
    delegations: list[DelegationCreate]
    accounts: dict[str, Account]
    rounds: dict[int, RoundCreate]
    cases: dict[str, CaseItem] = field(default_factory=dict)
    submissions: list[SubmissionItem] = field(default_factory=list)
    grouped_responses: list[GroupedResponseItem] = field(default_factory=list)
    benchmarks: list[BenchmarkItem] = field(default_factory=list)
    commitments: list[CommitmentItem] = field(default_factory=list)
    releases: list[ReleaseItem] = field(default_factory=list)

    def one(self, role: Role, delegation: str | None = None) -> str:
        """The handle of the one account with this role (and delegation)."""
        (handle,) = [
            a.handle
            for a in self.accounts.values()
            if a.role == role and (delegation is None or a.delegation == delegation)
        ]
        return handle

    def counts(self) -> dict[str, int]:
        responses = [r for s in self.submissions for r in s.responses]
        return {
            "accounts": len(self.accounts),
            "rounds": len(self.rounds),
            "cases": len(self.cases),
            "timeline entries": sum(len(c.history) + len(c.later) for c in self.cases.values()),
            "submissions": len(self.submissions),
            "endorsements": sum(len(s.endorsed_by) for s in self.submissions),
            "responses": len(responses),
            "grouped responses": len(self.grouped_responses),
            "revisions": sum(len(r.revisions) for r in responses)
            + sum(len(g.revisions) for g in self.grouped_responses),
            "ratings": sum(len(r.assessments) for r in responses),
            "translations": sum(len(s.translations) for s in self.submissions)
            + sum(len(r.translations) for r in responses),
            "authoritative translations": sum(len(r.authoritative) for r in responses),
            "benchmarks": len(self.benchmarks),
            "commitments": len(self.commitments),
            "progress assessments": sum(len(b.progress) for b in self.benchmarks)
            + sum(len(c.progress) for c in self.commitments),
        }


def placeholder(kind: str, key: str) -> uuid.UUID:
    """A stand-in id for a reference, so a schema can check the item before the row exists."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"civic-input-demo:{kind}:{key}")


def check(schema: type[M], raw: dict[str, Any], where: str) -> M:
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or schema.__name__}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise DemoDataError(f"{where}: {problems}") from None


def _take(raw: dict[str, Any], where: str, *names: str) -> list[Any]:
    """Pop the replay's own keys (who, when, references) and leave the schema's."""
    missing = [n for n in names if n not in raw]
    if missing:
        raise DemoDataError(f"{where}: missing {', '.join(missing)}")
    return [raw.pop(n) for n in names]


def _ref(known: Any, name: str, where: str, what: str) -> None:
    if name not in known:
        raise DemoDataError(f"{where}: no {what} {name!r} in the demo data")


def _dated(
    raw: dict[str, Any], schema: type[BaseModel], where: str, accounts: dict[str, Account]
) -> Dated:
    raw = dict(raw)
    at, by = _take(raw, where, "at", "by")
    _ref(accounts, by, where, "account")
    return Dated(at=_instant(at, where), by=by, data=check(schema, raw, where), where=where)


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise DemoDataError(f"{where}: {value!r} is not an instant with a zone (…Z)")
    return value


def load(text: str | None = None) -> DemoData:
    """The demo dialogue, every item checked; `text` replaces the shipped file (tests)."""
    if text is None:
        text = resources.files(__package__).joinpath(FILE).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{FILE}: {exc}") from None
    top = dict(raw)
    about, slug, organisation, set_up_at, written, assessed, dialogue, delegations = _take(
        top,
        FILE,
        "about",
        "slug",
        "organisation",
        "set_up_at",
        "written_days_before",
        "assessed_days_after",
        "dialogue",
        "delegations",
    )
    accounts_raw, rounds_raw = _take(top, FILE, "accounts", "rounds")
    cases_raw = top.pop("cases", {})
    submissions_raw = top.pop("submissions", [])
    grouped_raw = top.pop("grouped_responses", [])
    benchmarks_raw = top.pop("benchmarks", [])
    commitments_raw = top.pop("commitments", [])
    releases_raw = top.pop("releases", [])
    if top:
        raise DemoDataError(f"{FILE}: unknown keys {', '.join(sorted(top))}")
    data = DemoData(
        about=about,
        slug=slug,
        organisation=organisation,
        set_up_at=_instant(set_up_at, "set_up_at"),
        written_before=timedelta(days=written),
        assessed_after=timedelta(days=assessed),
        dialogue=check(DialogueCreate, {"slug": slug, **dialogue}, "dialogue"),
        delegations=[
            check(DelegationCreate, {"code": code, "name": name}, f"delegations.{code}")
            for code, name in delegations.items()
        ],
        accounts={},
        rounds={},
    )
    codes = {d.code for d in data.delegations}
    for handle, spec in accounts_raw.items():
        where = f"accounts.{handle}"
        try:
            _HANDLE.validate_python(handle)
        except ValidationError as exc:
            raise DemoDataError(f"{where}: {exc.errors()[0]['msg']}") from None
        try:
            role = Role(spec["role"])
        except (KeyError, ValueError):
            raise DemoDataError(f"{where}: role must be one of {[r.value for r in Role]}") from None
        if spec.get("delegation") is not None:
            _ref(codes, spec["delegation"], where, "delegation")
        data.accounts[handle] = Account(handle, role, spec.get("delegation"))
    for n, spec in enumerate(rounds_raw):
        rnd = check(RoundCreate, spec, f"rounds[{n}]")
        data.rounds[rnd.number] = rnd
    for key, spec in cases_raw.items():
        data.cases[key] = _case(data, key, dict(spec))
    for n, spec in enumerate(submissions_raw):
        data.submissions.append(_submission(data, n, dict(spec)))
    for n, spec in enumerate(benchmarks_raw):
        data.benchmarks.append(_benchmark(data, n, dict(spec)))
    refs = {s.ref for s in data.submissions if s.ref}
    for n, spec in enumerate(grouped_raw):
        data.grouped_responses.append(_grouped(data, n, dict(spec), refs))
    for n, spec in enumerate(commitments_raw):
        data.commitments.append(_commitment(data, n, dict(spec), refs))
    for n, spec in enumerate(releases_raw):
        data.releases.append(_release(data, n, dict(spec), codes))
    return data


def _release(data: DemoData, n: int, raw: dict[str, Any], codes: set[str]) -> ReleaseItem:
    where = f"releases[{n}]"
    number, delegation, set_at = _take(raw, where, "round", "delegation", "set_at")
    _ref(data.rounds, number, where, "round")
    _ref(codes, delegation, where, "delegation")
    return ReleaseItem(
        where=where,
        round=number,
        delegation=delegation,
        set_at=_instant(set_at, where),
        data=check(ReleaseSet, raw, where),
    )


def _case(data: DemoData, key: str, raw: dict[str, Any]) -> CaseItem:
    where = f"cases.{key}"
    recorded_by, published_at = _take(raw, where, "recorded_by", "published_at")
    _ref(data.accounts, recorded_by, where, "account")
    history = [
        check(TimelineCreate, entry, f"{where}.history[{n}]")
        for n, entry in enumerate(raw.pop("history", []))
    ]
    later = []
    for n, entry in enumerate(raw.pop("later", [])):
        entry, place = dict(entry), f"{where}.later[{n}]"
        (at,) = _take(entry, place, "at")
        valid = check(TimelineCreate, entry, place)
        later.append(Dated(_instant(at, place), data.one(Role.moderator), valid, place))
    return CaseItem(
        key=key,
        where=where,
        recorded_by=recorded_by,
        published_at=_instant(published_at, where),
        data=check(CaseCreate, raw, where),
        history=history,
        later=later,
    )


def _submission(data: DemoData, n: int, raw: dict[str, Any]) -> SubmissionItem:
    where = f"submissions[{n}] ({raw.get('title', '?')!r})"
    number, author, published_at = _take(raw, where, "round", "author", "published_at")
    _ref(data.rounds, number, where, "round")
    _ref(data.accounts, author, where, "account")
    case, ref = raw.pop("case", None), raw.pop("ref", None)
    if case is not None:
        _ref(data.cases, case, where, "case")
        raw["case_id"] = placeholder("case", case)
    if raw.get("attribution") == "organisation":
        raw.setdefault("organisation", data.organisation)
    endorsed_by = raw.pop("endorsed_by", [])
    for handle in endorsed_by:
        _ref(data.accounts, handle, where, "account")
    responses = []
    for m, spec in enumerate(raw.pop("responses", [])):
        spec, place = dict(spec), f"{where}.responses[{m}]"
        delegation, at = _take(spec, place, "delegation", "at")
        revisions = [
            _revision(r, f"{place}.revisions[{k}]", data, delegation)
            for k, r in enumerate(spec.pop("revisions", []))
        ]
        # Rated a while after the last text, unless the item says when.
        rated = (revisions[-1].at if revisions else _instant(at, place)) + data.assessed_after
        assessments = [
            _dated({"at": rated} | a, AssessmentCreate, f"{place}.assessments[{k}]", data.accounts)
            for k, a in enumerate(spec.pop("assessments", []))
        ]
        translations, authoritative = [], []
        for k, t in enumerate(spec.pop("translations", [])):
            t, here = dict(t), f"{place}.translations[{k}]"
            chosen = t.pop("authoritative", False)
            translation = _dated(t, ResponseTranslationCreate, here, data.accounts)
            translations.append(translation)
            if chosen:
                mark = AuthoritativeText(language=translation.data.language)
                at_once = translation.at + timedelta(minutes=1)
                authoritative.append(Dated(at_once, translation.by, mark, here))
        responses.append(
            ResponseItem(
                where=place,
                delegation=delegation,
                at=_instant(at, place),
                data=check(ResponseCreate, spec, place),
                revisions=revisions,
                assessments=assessments,
                translations=translations,
                authoritative=authoritative,
            )
        )
    translations = [
        _dated(t, SubmissionTranslationCreate, f"{where}.translations[{k}]", data.accounts)
        for k, t in enumerate(raw.pop("translations", []))
    ]
    return SubmissionItem(
        where=where,
        round=number,
        author=author,
        published_at=_instant(published_at, where),
        data=check(SubmissionCreate, raw, where),
        case=case,
        ref=ref,
        endorsed_by=endorsed_by,
        responses=responses,
        translations=translations,
    )


def _grouped(data: DemoData, n: int, raw: dict[str, Any], refs: set[str]) -> GroupedResponseItem:
    where = f"grouped_responses[{n}]"
    number, delegation, at, named = _take(raw, where, "round", "delegation", "at", "submissions")
    _ref(data.rounds, number, where, "round")
    for ref in named:
        _ref(refs, ref, where, "submission ref")
    revisions = [
        _revision(r, f"{where}.revisions[{k}]", data, delegation)
        for k, r in enumerate(raw.pop("revisions", []))
    ]
    raw["submission_ids"] = [placeholder("submission", ref) for ref in named]
    return GroupedResponseItem(
        where=where,
        round=number,
        delegation=delegation,
        at=_instant(at, where),
        data=check(GroupedResponseCreate, raw, where),
        refs=named,
        revisions=revisions,
    )


def _revision(raw: dict[str, Any], where: str, data: DemoData, delegation: str) -> Dated:
    raw = dict(raw)
    (at,) = _take(raw, where, "at")
    official = data.one(Role.official, delegation)
    return Dated(_instant(at, where), official, check(RevisionCreate, raw, where), where)


def _benchmark(data: DemoData, n: int, raw: dict[str, Any]) -> BenchmarkItem:
    where = f"benchmarks[{n}] ({raw.get('title', '?')!r})"
    number, adopted_at = _take(raw, where, "round", "adopted_at")
    _ref(data.rounds, number, where, "round")
    progress = [
        _dated(p, ProgressCreate, f"{where}.progress[{k}]", data.accounts)
        for k, p in enumerate(raw.pop("progress", []))
    ]
    cases = raw.get("cases", [])
    for key in cases:
        _ref(data.cases, key, where, "case")
    raw["cases"] = [placeholder("case", key) for key in cases]
    return BenchmarkItem(
        where=where,
        round=number,
        adopted_at=_instant(adopted_at, where),
        data=check(BenchmarkCreate, raw, where),
        cases=cases,
        progress=progress,
    )


def _commitment(data: DemoData, n: int, raw: dict[str, Any], refs: set[str]) -> CommitmentItem:
    where = f"commitments[{n}]"
    number, recorded_by, recorded_at = _take(raw, where, "round", "recorded_by", "recorded_at")
    _ref(data.rounds, number, where, "round")
    _ref(data.accounts, recorded_by, where, "account")
    progress = [
        _dated(p, ProgressCreate, f"{where}.progress[{k}]", data.accounts)
        for k, p in enumerate(raw.pop("progress", []))
    ]
    named = raw.get("submissions", [])
    for ref in named:
        _ref(refs, ref, where, "submission ref")
    raw["submissions"] = [placeholder("submission", ref) for ref in named]
    return CommitmentItem(
        where=where,
        round=number,
        recorded_by=recorded_by,
        recorded_at=_instant(recorded_at, where),
        data=check(CommitmentCreate, raw, where),
        refs=named,
        progress=progress,
    )
