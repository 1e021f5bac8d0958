"""Security headers on every response the app sends, errors and static files included.

- `X-Content-Type-Options: nosniff`: a JSON answer is never run as a script or page;
- `Referrer-Policy: no-referrer`: a link followed from here tells no one where from;
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no page frames this one;
- a Content-Security-Policy that allows nothing (`default-src 'none'`) unless the route
  set its own (the docs pages, api/docs.py);
- `Strict-Transport-Security` when `CIVIC_ENV=production` (TLS in front is then a given);
- `Cache-Control: no-store` on every answer to a signed-in request (an `Authorization`
  header), and to every request that is not a read (tokens come from POSTs): what is
  shown to one person is never kept by a browser or a proxy.

Pure ASGI and cheap: the header tuples are built once; per response, one pass over its
headers.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = b"content-security-policy"
BASE_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = b"max-age=63072000; includeSubDomains"
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        always = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        if hsts:
            always.append((b"strict-transport-security", HSTS))
        self.always = tuple(always)
        # names this middleware decides alone: a route's own value is replaced
        self.owned = frozenset(name for name, _ in always)
        self.owned_no_store = self.owned | {b"cache-control"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["method"] not in ("GET", "HEAD") or any(
            name == b"authorization" for name, _ in scope.get("headers", ())
        )
        owned = self.owned_no_store if no_store else self.owned

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                has_csp = False
                for name, value in message.get("headers", ()):
                    lower = name.lower()
                    if lower in owned:
                        continue
                    has_csp = has_csp or lower == CSP
                    headers.append((name, value))
                headers.extend(self.always)
                if not has_csp:
                    headers.append((CSP, BASE_CSP))
                if no_store:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
