"""What each public event writes to the record log: the public content, never more.

Services call these in the same transaction as the change they record; each also
brings the search index into step with what the public now sees (`api.search.index`).
"""

import uuid

from sqlmodel import Session

from api.search import index as search_index
from api.services import answer_groups, ledger
from api.views import record_log
from models.benchmark import Benchmark
from models.case import Case, CaseReview, CaseTimelineEntry
from models.commitment import Commitment
from models.progress import ProgressAssessment
from models.response import AnswerAssessment, Response
from models.submission import Submission


def _indexed(session: Session, doc_type: str, doc_id: uuid.UUID) -> None:
    session.flush()
    if doc_type == "submission":
        search_index.sync_submission(session.connection(), doc_id)
    else:
        search_index.sync(session.connection(), doc_type, [doc_id])


def submission_published(session: Session, *, submission: Submission) -> None:
    _indexed(session, "submission", submission.id)
    ledger.append(
        session,
        event_type="submission.published",
        object_type="submission",
        object_id=submission.id,
        subject_id=submission.id,
        round_id=submission.round_id,
        content=record_log.submission(session, submission=submission),
    )


def submission_gone(session: Session, *, submission: Submission, event_type: str) -> None:
    """Withdrawn or removed: every earlier entry about it loses its content; a tombstone
    entry says when. It and its responses leave the search index; a grouped answer stays
    for its other submissions."""
    answer_groups.member_gone(session, submission=submission)
    _indexed(session, "submission", submission.id)
    ledger.tombstone(session, subject_id=submission.id)
    ledger.append(
        session,
        event_type=event_type,
        object_type="submission",
        object_id=submission.id,
        subject_id=uuid.uuid4(),
        round_id=submission.round_id,
        content=record_log.submission_gone(submission),
    )


def response_published(session: Session, *, response: Response, event_type: str) -> None:
    _indexed(session, "response", response.id)
    round_id = session.get_one(Submission, response.submission_id).round_id
    ledger.append(
        session,
        event_type=event_type,
        object_type="response",
        object_id=response.id,
        subject_id=response.submission_id,
        round_id=round_id,
        content=record_log.response(session, response=response),
    )


def answer_assessed(session: Session, *, assessment: AnswerAssessment, response: Response) -> None:
    round_id = session.get_one(Submission, response.submission_id).round_id
    ledger.append(
        session,
        event_type="response.assessed",
        object_type="response",
        object_id=response.id,
        subject_id=response.submission_id,
        round_id=round_id,
        content=record_log.rating(response, rating=assessment.rating),
    )


def case_changed(session: Session, *, case: Case, event_type: str) -> None:
    """A case published, or its consent changed: earlier entries about it are redacted
    and the new one carries the name only while consent stands (in the index too)."""
    _indexed(session, "case", case.id)
    ledger.tombstone(session, subject_id=case.id)
    ledger.append(
        session,
        event_type=event_type,
        object_type="case",
        object_id=case.id,
        subject_id=case.id,
        round_id=None,
        content=record_log.case(session, case=case),
    )


def case_removed(session: Session, *, case: Case) -> None:
    """A moderator took a published case down: every entry about it, its timeline
    included, loses its content; a tombstone entry says when."""
    _indexed(session, "case", case.id)
    ledger.tombstone(session, subject_id=case.id)
    ledger.tombstone_object(session, object_type="case", object_id=case.id)
    ledger.append(
        session,
        event_type="case.removed",
        object_type="case",
        object_id=case.id,
        subject_id=uuid.uuid4(),
        round_id=None,
        content=record_log.case_gone(case, status=CaseReview.removed.value),
    )


def case_timeline(session: Session, *, entry: CaseTimelineEntry) -> None:
    ledger.append(
        session,
        event_type="case.timeline",
        object_type="case",
        object_id=entry.case_id,
        subject_id=entry.id,
        round_id=None,
        content=record_log.timeline(entry),
    )


def benchmark_adopted(session: Session, *, benchmark: Benchmark) -> None:
    _indexed(session, "benchmark", benchmark.id)
    ledger.append(
        session,
        event_type="benchmark.adopted",
        object_type="benchmark",
        object_id=benchmark.id,
        subject_id=benchmark.id,
        round_id=benchmark.round_id,
        content=record_log.benchmark(session, benchmark=benchmark),
    )


def commitment_recorded(session: Session, *, commitment: Commitment) -> None:
    _indexed(session, "commitment", commitment.id)
    ledger.append(
        session,
        event_type="commitment.recorded",
        object_type="commitment",
        object_id=commitment.id,
        subject_id=commitment.id,
        round_id=commitment.round_id,
        content=record_log.commitment(session, commitment=commitment),
    )


def progress_assessed(
    session: Session, *, assessment: ProgressAssessment, round_id: uuid.UUID
) -> None:
    ledger.append(
        session,
        event_type=f"{assessment.target_type}.assessed",
        object_type=assessment.target_type,
        object_id=assessment.target_id,
        subject_id=assessment.id,
        round_id=round_id,
        content=record_log.assessment(assessment),
    )
