"""Cases: people tracked across rounds, named only with consent; their status timeline.
What the public sees of them is `api.views.cases`."""

from api.services.cases.access import (
    PUBLIC,
    Access,
    access,
    access_log,
    get_or_404,
    is_recorder,
    log_read,
    refuse,
    shown,
)
from api.services.cases.commands import add_timeline, create, moderate, page, set_consent
from api.services.cases.sharing import read_sharing, set_sharing, sharing

__all__ = [
    "PUBLIC",
    "Access",
    "access",
    "access_log",
    "add_timeline",
    "create",
    "get_or_404",
    "is_recorder",
    "log_read",
    "moderate",
    "page",
    "read_sharing",
    "refuse",
    "set_consent",
    "set_sharing",
    "sharing",
    "shown",
]
