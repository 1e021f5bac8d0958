"""What becomes of a grouped answer when one of its submissions leaves the public record
(withdrawn or removed): it stays for the others. Called by `api.services.events`."""

from sqlmodel import Session, col, select

from api.services import ledger
from models.response import Response, ResponseSubmission
from models.submission import Status, Submission


def member_gone(session: Session, *, submission: Submission) -> None:
    """A submission left the public record: each grouped answer it was part of stays for
    its other published members (named by the first of them from now on), or, with none
    left, leaves the record log too (its entries are about itself, not one submission).
    In the caller's transaction, before the search index is brought into step."""
    grouped = session.exec(
        select(Response)
        .join(ResponseSubmission, col(ResponseSubmission.response_id) == col(Response.id))
        .where(
            col(ResponseSubmission.submission_id) == submission.id,
            col(Response.grouped).is_(True),
        )
    ).all()
    for response in grouped:
        remaining = session.exec(
            select(ResponseSubmission.submission_id)
            .join(Submission, col(Submission.id) == col(ResponseSubmission.submission_id))
            .where(
                col(ResponseSubmission.response_id) == response.id,
                col(ResponseSubmission.submission_id) != submission.id,
                col(Submission.status) == Status.published,
            )
            .order_by(col(ResponseSubmission.submission_id))
        ).first()
        if remaining is None:
            ledger.tombstone(session, subject_id=response.id)
        elif response.submission_id == submission.id:
            response.submission_id = remaining
            session.add(response)
    session.flush()
