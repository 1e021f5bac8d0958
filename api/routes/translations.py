"""Translations of submissions and responses, and a response's authoritative text."""

from fastapi import APIRouter, status
from fastapi import Response as HttpResponse

from api.deps import CurrentUser, Official, SessionDep
from api.errors import error_responses
from api.routes.responses import ResponseDep, response_view
from api.routes.submissions import SubmissionDep
from api.services import translations
from api.views import translations as translation_views
from models.response import ResponsePublic
from models.translation import (
    AuthoritativeText,
    ResponseTranslationCreate,
    ResponseTranslationPublic,
    SubmissionTranslationCreate,
    SubmissionTranslationPublic,
)

router = APIRouter(prefix="/api/v1", tags=["translations"])


@router.post(
    "/submissions/{submission_id}/translations",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionTranslationPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def translate_submission(
    data: SubmissionTranslationCreate,
    submission: SubmissionDep,
    user: CurrentUser,
    session: SessionDep,
) -> SubmissionTranslationPublic | ResponseTranslationPublic:
    """Add a translation of a published submission (its author or a moderator); one per
    language: posting again in a language replaces that translation.

    `translated_by` is set by the server (`author` or `moderator`). 422 for the
    submission's own language; 409 once it is no longer published.
    """
    translation = translations.translate_submission(
        session, submission=submission, data=data, user=user
    )
    return translation_views.public(translation)


@router.post(
    "/responses/{response_id}/translations",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponseTranslationPublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def translate_response(
    data: ResponseTranslationCreate,
    response: ResponseDep,
    user: CurrentUser,
    session: SessionDep,
) -> SubmissionTranslationPublic | ResponseTranslationPublic:
    """Add a translation of a response's current revision (an official of its delegation,
    or a moderator); one per language: posting again in a language replaces it.

    `translated_by` is set by the server (`delegation` or `moderator`). 422 for the
    response's own language; 409 for a moderator replacing the text the delegation made
    authoritative.
    """
    translation = translations.translate_response(session, response=response, data=data, user=user)
    return translation_views.public(translation)


@router.put(
    "/responses/{response_id}/authoritative",
    response_model=ResponsePublic,
    responses=error_responses(401, 403, 404, 409, 422),
)
def set_authoritative_text(
    data: AuthoritativeText,
    response: ResponseDep,
    official: Official,
    session: SessionDep,
    http: HttpResponse,
) -> ResponsePublic:
    """Choose the text the delegation stands behind (its officials): the original, by its
    own language, or a translation the delegation made of the current revision.

    Audited, and recorded in the record log (`translation.authoritative`); a revision of
    the response makes the original authoritative again.
    """
    translations.set_authoritative(session, response=response, data=data, official=official)
    return response_view(session, response, http)
