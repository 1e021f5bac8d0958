"""Which text of a translated submission or response a view shows first: the language
named by `?lang=`, else the one negotiated from `Accept-Language` (`api.i18n`). The
answer then depends on that header, so it says `Vary: Accept-Language`; the server's
response cache keys its entries by the negotiated language already (api/cache.py)."""

from typing import Annotated

from fastapi import Depends, Query, Response

from api import i18n

LANG_PATTERN = r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,6}$"


async def preferred_text(
    response: Response,
    lang: Annotated[
        str | None,
        Query(
            max_length=35,
            pattern=LANG_PATTERN,
            description="The language whose text (original or translation) to show first "
            "(BCP 47, e.g. `zh-Hans`); else `Accept-Language` decides.",
        ),
    ] = None,
) -> str:
    # async: no worker-thread hop on the record page's hot path for a header
    response.headers.append("Vary", "Accept-Language")
    return lang or i18n.current()


# A route's dependency: the language whose text to show first.
PreferredText = Annotated[str, Depends(preferred_text)]
