"""HEAD on every GET route (RFC 9110 §9.3.2): the route answers it as the GET, with the
same status and headers, and the body is left out.

The layers inside see a GET (so the response cache, ETags and 304s work as for a GET);
`is_head` tells a route whose body is costly or endless (an export, the live feed) to
skip making it. Unknown paths and routes without GET answer HEAD as they answer GET
(404, 405)."""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HEAD = "civic.head"


def is_head(request: Request) -> bool:
    return bool(request.scope.get(_HEAD))


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET", _HEAD: True}, receive, headers_only)
