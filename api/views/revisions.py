"""A response's revisions as the public sees them: every one, with its time and reason."""

from collections.abc import Sequence

from models.response import ResponseRevision, RevisionPublic


def views(revisions: Sequence[ResponseRevision]) -> list[RevisionPublic]:
    return [RevisionPublic.model_validate(r, from_attributes=True) for r in revisions]
