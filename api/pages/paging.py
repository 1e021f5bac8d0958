"""What the record's pages share to read their queries and link their cursor pages."""

from api.errors import BadRequest
from api.pages.render import Reader

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_BACK = 30  # cursors kept for "previous" links


def bounded(value: str | None, limit: int) -> str | None:
    """A query value of at most `limit` characters; a longer one makes the page a 400."""
    if value is not None and len(value) > limit:
        raise BadRequest("A value in the query is too long.")
    return value


def page_size(value: str | None) -> int:
    if value is None:
        return PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit is a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(value)


def page_links(
    reader: Reader,
    here: str,
    base: dict[str, str],
    *,
    cursor: str | None,
    back: list[str],
    next_cursor: str | None,
) -> dict[str, str]:
    """First, previous and next links of a cursor page: each link carries the cursors of
    the pages before it (`back`, the newest `MAX_BACK`), so "previous" needs no state."""
    trail = back[-MAX_BACK:]
    links: dict[str, str] = {}
    if cursor:
        links["first"] = reader.url(here, base)
        previous = trail[-1] if trail else ""
        links["previous"] = reader.url(
            here, {**base, "cursor": previous or None, "back": trail[:-1] or None}
        )
    if next_cursor:
        links["next"] = reader.url(
            here, {**base, "cursor": next_cursor, "back": [*trail, cursor or ""][-MAX_BACK:]}
        )
    return links
