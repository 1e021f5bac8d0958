"""What each public event writes into the record log: the public view of the object at
that moment, less the parts that change without an event of their own. Entries are
hashed, so these bytes are part of the public record."""

from typing import Any

from sqlmodel import Session

from api.views import benchmarks, cases, commitments, responses, submissions
from models.benchmark import Benchmark
from models.case import Case, CaseTimelineEntry
from models.commitment import Commitment
from models.progress import ProgressAssessment
from models.response import Response
from models.submission import Submission

# Parts of a view that change without an event of their own (counts, what is scheduled),
# or with events of their own (translations: `translation.*`), left out of content.
_VOLATILE = {
    "responses",
    "scheduled",
    "endorsement_count",
    "ratings",
    "authoritative_language",
    "translations",
}


def _dump(view: Any, exclude: set[str] = _VOLATILE) -> dict[str, Any]:
    content: dict[str, Any] = view.model_dump(mode="json", exclude=exclude)
    return content


def submission(session: Session, *, submission: Submission) -> dict[str, Any]:
    view = submissions.views(session, [submission], view=submissions.View.public)[0]
    return _dump(view)


def submission_gone(submission: Submission) -> dict[str, Any]:
    return {"id": str(submission.id), "status": submission.status}


def response(session: Session, *, response: Response) -> dict[str, Any]:
    view = responses.views(session, response_ids=[response.id])[response.submission_id][0]
    return _dump(view) | {"revision": response.revision_count}


def case(session: Session, *, case: Case) -> dict[str, Any]:
    """Its summary: the name only while consent stands."""
    return _dump(cases.summaries(session, [case])[0], exclude={"rounds_raised"})


def case_gone(case: Case, *, status: str) -> dict[str, Any]:
    return {"id": str(case.id), "status": status}


def timeline(entry: CaseTimelineEntry) -> dict[str, Any]:
    return {
        "case_id": str(entry.case_id),
        "status": entry.status,
        "event_date": entry.event_date.isoformat(),
        "note": entry.note,
        "source_url": entry.source_url,
    }


def benchmark(session: Session, *, benchmark: Benchmark) -> dict[str, Any]:
    return _dump(benchmarks.views(session, [benchmark])[0], exclude={"progress"})


def commitment(session: Session, *, commitment: Commitment) -> dict[str, Any]:
    return _dump(commitments.views(session, [commitment])[0], exclude={"progress", "overdue"})


def assessment(assessment: ProgressAssessment) -> dict[str, Any]:
    return {
        "side": assessment.side,
        "status": assessment.status,
        "note": assessment.note,
        "evidence_url": assessment.evidence_url,
        "assessed_on": assessment.assessed_on.isoformat(),
    }


def rating(response: Response, *, rating: str) -> dict[str, Any]:
    return {"response_id": str(response.id), "rating": rating}
