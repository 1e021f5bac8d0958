"""Translations of submissions and responses, and the delegation's choice of the
authoritative text of its response.

A submission is translated by its author or a moderator, once published and while it
stays so; a response by an official of its delegation or a moderator, while it is
public. One translation per (object, language): posting again replaces it. Every
change is a record-log event in the same transaction (`translation.added`,
`translation.replaced`, `translation.authoritative`) and brings the search index into
step; a submission's translations are erased with it (`erase`), and its withdrawal or
removal takes every entry about it, these included, out of the public record.
"""

import uuid

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api import clock
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.permissions import Permission, can
from api.search import index as search_index
from api.services import audit, ledger, releases
from api.views import translations as views
from models.response import Response, ResponseRevision
from models.submission import Status, Submission
from models.translation import (
    AuthoritativeText,
    ResponseTranslationCreate,
    SubmissionTranslationCreate,
    TranslatedBy,
    TranslatedObject,
    Translation,
)
from models.user import User


def _same_language(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _existing(
    session: Session, *, object_type: TranslatedObject, object_id: uuid.UUID, language: str
) -> Translation | None:
    return session.exec(
        select(Translation)
        .where(
            Translation.object_type == object_type,
            Translation.object_id == object_id,
            sa.func.lower(col(Translation.language)) == language.lower(),
        )
        .with_for_update()
    ).first()


def _record(
    session: Session,
    *,
    event_type: str,
    translation: Translation,
    round_id: uuid.UUID,
) -> None:
    """The event, and the translated object's search entry rewritten with the text."""
    session.flush()
    if translation.object_type == TranslatedObject.submission:
        search_index.sync(session.connection(), "submission", [translation.object_id])
    else:
        search_index.sync(session.connection(), "response", [translation.object_id])
    ledger.append(
        session,
        event_type=event_type,
        object_type=translation.object_type.value,
        object_id=translation.object_id,
        # the submission: its withdrawal or removal takes this entry down with it
        subject_id=translation.submission_id,
        round_id=round_id,
        content=views.record_content(translation),
    )


def _put(
    session: Session,
    *,
    object_type: TranslatedObject,
    object_id: uuid.UUID,
    submission: Submission,
    language: str,
    title: str | None,
    body: str,
    translated_by: TranslatedBy,
    translator: User,
    revision: int | None,
) -> Translation:
    now = clock.now()
    translation = _existing(
        session, object_type=object_type, object_id=object_id, language=language
    )
    event_type = "translation.replaced"
    if translation is None:
        event_type = "translation.added"
        translation = Translation(
            object_type=object_type,
            object_id=object_id,
            submission_id=submission.id,
            language=language,
            created_at=now,
            body=body,
            translated_by=translated_by,
            translator_id=translator.id,
        )
    translation.title = title
    translation.body = body
    translation.translated_by = translated_by
    translation.translator_id = translator.id
    translation.revision = revision
    translation.updated_at = now
    session.add(translation)
    _record(session, event_type=event_type, translation=translation, round_id=submission.round_id)
    return translation


def translate_submission(
    session: Session, *, submission: Submission, data: SubmissionTranslationCreate, user: User
) -> Translation:
    """The author or a moderator adds (or replaces) a translation of a published submission."""
    if user.id == submission.author_id:
        translated_by = TranslatedBy.author
    elif can(user.role, Permission.moderate):
        translated_by = TranslatedBy.moderator
    elif submission.status == Status.published:
        # the submission is public, so refusing hides nothing: 403
        raise Forbidden("Only the submission's author and moderators translate it.")
    else:
        raise NotFound("No such submission.")
    if submission.status != Status.published:
        raise Conflict("Only a published submission is translated.")
    if _same_language(data.language, submission.language):
        raise Unprocessable(
            "A translation must be in another language than the original.", field="language"
        )
    return _put(
        session,
        object_type=TranslatedObject.submission,
        object_id=submission.id,
        submission=submission,
        language=data.language,
        title=data.title,
        body=data.body,
        translated_by=translated_by,
        translator=user,
        revision=None,
    )


HELD = "The response is held for a joint release: translate it once it is public."


def public_response(session: Session, *, response: Response, user: User) -> Submission:
    """The response's submission, if the public sees the response; NotFound otherwise.
    What makes a response public (its submission published, as
    `responses.published_submission` says, and not held for a joint release) is decided
    here once for translations: a response the public does not see is not translated,
    and so no translation of it reaches the record log, the index or a view. A held
    response is 404 to all but those who may see it (`releases.may_see`), who are told
    to wait for its release."""
    submission = session.get_one(Submission, response.submission_id)
    if submission.status != Status.published or not releases.may_see(user, response):
        raise NotFound("No such response.")
    if releases.held(response):
        raise Conflict(HELD)
    return submission


def _current_revision(session: Session, *, response: Response) -> ResponseRevision:
    return session.exec(
        select(ResponseRevision).where(
            ResponseRevision.response_id == response.id,
            ResponseRevision.number == response.revision_count,
        )
    ).one()


def _of_delegation(user: User, response: Response) -> bool:
    return user.delegation_id is not None and user.delegation_id == response.delegation_id


def translate_response(
    session: Session, *, response: Response, data: ResponseTranslationCreate, user: User
) -> Translation:
    """An official of the responding delegation or a moderator adds (or replaces) a
    translation of the response's current revision. A translation the delegation made
    authoritative is replaced only by the delegation (and stays authoritative)."""
    submission = public_response(session, response=response, user=user)
    if _of_delegation(user, response) and can(user.role, Permission.respond):
        translated_by = TranslatedBy.delegation
    elif can(user.role, Permission.moderate):
        translated_by = TranslatedBy.moderator
    else:
        raise Forbidden(
            "Only officials of the delegation that responded and moderators translate a response."
        )
    session.refresh(response, with_for_update=True)
    current = _current_revision(session, response=response)
    if _same_language(data.language, current.language):
        raise Unprocessable(
            "A translation must be in another language than the original.", field="language"
        )
    existing = _existing(
        session,
        object_type=TranslatedObject.response,
        object_id=response.id,
        language=data.language,
    )
    if existing is not None and existing.authoritative and translated_by != TranslatedBy.delegation:
        raise Conflict("Only the delegation replaces the text it made authoritative.")
    return _put(
        session,
        object_type=TranslatedObject.response,
        object_id=response.id,
        submission=submission,
        language=existing.language if existing is not None else data.language,
        title=None,
        body=data.body,
        translated_by=translated_by,
        translator=user,
        revision=response.revision_count,
    )


def _authoritative(session: Session, *, response: Response) -> Translation | None:
    return session.exec(
        select(Translation).where(
            Translation.object_type == TranslatedObject.response,
            Translation.object_id == response.id,
            col(Translation.authoritative).is_(True),
        )
    ).first()


def _mark(
    session: Session,
    *,
    response: Response,
    submission: Submission,
    to: Translation | None,
    original_language: str,
    actor: User | None,
    reason: str,
) -> None:
    """Make `to` (None: the original) the authoritative text, with its event (and, when
    an official chose it, its audit entry)."""
    previous = _authoritative(session, response=response)
    if previous is not None:
        previous.authoritative = False
        session.add(previous)
        session.flush()  # at most one authoritative row at every instant (a unique index)
    if to is not None:
        to.authoritative = True
        session.add(to)
        session.flush()
    language = to.language if to is not None else original_language
    before = previous.language if previous is not None else original_language
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="response.authoritative",
            target_type="response",
            target_id=response.id,
            detail={"language": language, "previous": before},
        )
    ledger.append(
        session,
        event_type="translation.authoritative",
        object_type=TranslatedObject.response.value,
        object_id=response.id,
        subject_id=submission.id,
        round_id=submission.round_id,
        content={
            "authoritative_language": language,
            "revision": response.revision_count,
            "reason": reason,
        },
    )


def set_authoritative(
    session: Session, *, response: Response, data: AuthoritativeText, official: User
) -> None:
    """The delegation chooses the text it stands behind: the original (its own language)
    or a translation it made of the current revision. Audited; a record-log event."""
    submission = public_response(session, response=response, user=official)
    if not _of_delegation(official, response):
        raise Forbidden("Only the delegation that responded chooses its authoritative text.")
    session.refresh(response, with_for_update=True)
    current = _current_revision(session, response=response)
    previous = _authoritative(session, response=response)
    if _same_language(data.language, current.language):
        if previous is not None:
            _mark(
                session,
                response=response,
                submission=submission,
                to=None,
                original_language=current.language,
                actor=official,
                reason="chosen",
            )
        return
    chosen = _existing(
        session,
        object_type=TranslatedObject.response,
        object_id=response.id,
        language=data.language,
    )
    if chosen is None:
        raise Unprocessable("The response has no translation in that language.", field="language")
    if chosen.translated_by != TranslatedBy.delegation:
        raise Conflict("Only a translation the delegation made can be its authoritative text.")
    if chosen.revision != response.revision_count:
        raise Conflict(
            "That translation is of an earlier revision: translate the current one first."
        )
    if previous is not None and previous.id == chosen.id:
        return
    _mark(
        session,
        response=response,
        submission=submission,
        to=chosen,
        original_language=current.language,
        actor=official,
        reason="chosen",
    )


def revised(session: Session, *, response: Response) -> None:
    """A response was revised: a translation of an earlier revision is no longer the text
    the delegation stands behind, so the new original is authoritative again."""
    if _authoritative(session, response=response) is None:
        return
    submission = session.get_one(Submission, response.submission_id)
    _mark(
        session,
        response=response,
        submission=submission,
        to=None,
        original_language=_current_revision(session, response=response).language,
        actor=None,
        reason="revised",
    )


def erase(session: Session, *, submission_id: uuid.UUID) -> None:
    """The submission's own translations leave the database with its text (withdrawal, or
    removal past retention). Its responses' translations stay, as the responses do, out
    of every public view for as long as the submission is not published."""
    session.execute(
        sa.delete(Translation).where(
            col(Translation.submission_id) == submission_id,
            col(Translation.object_type) == TranslatedObject.submission,
        )
    )
