"""What becomes of a grouped answer when one of its submissions leaves the public record
(withdrawn or removed): it stays for the others. Called by `api.services.events`.

A response is named by one of the submissions it answers (`Response.submission_id`), and
its record-log entries have that submission for subject, as an ordinary response's do:
when that one goes while others stay, both move on to the next, so the withdrawal's
tombstone leaves the answer alone; when the last one goes, its tombstone takes the
answer's entries down with it, and the log says when (`ledger.taken_down_at`)."""

from sqlmodel import Session, col, select

from api.services import ledger
from models.response import Response, ResponseSubmission
from models.submission import Status, Submission


def member_gone(session: Session, *, submission: Submission) -> None:
    """A submission left the public record: each grouped answer it named moves on to the
    first (by id) of its other published submissions, if any is left. In the caller's
    transaction, before the submission's entries are tombstoned and the search index is
    brought into step."""
    grouped = session.exec(
        select(Response).where(
            col(Response.submission_id) == submission.id,
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
        if remaining is not None:
            response.submission_id = remaining
            session.add(response)
            ledger.move_subject(
                session,
                object_type="response",
                object_id=response.id,
                old=submission.id,
                new=remaining,
            )
    session.flush()
