"""The worker's HTTP server: the API, metrics and probes, nothing else, and every error in JSON.

Faust's aiohttp driver serves its own blueprints on the same port: `/table/{name}/{key}/` reads table
data (the members' ledgers), `/router/` lists every worker's URL, `/` and, with `debug`, `/graph/`,
`/stats/` and `/assignment/` show internals. `ApiWeb` is that driver with none of them: the query API's
forwarding to a partition's owner needs only the group's assignment (`stream.routing`), not `/router/`.

It also bounds requests (request line, header fields, number of headers; no body: every route is a
GET), answers what aiohttp and its router would answer in text/plain (unknown path, wrong method, a
request line or header too long, a malformed request, a handler's bug) with `{"error", "message"}`,
and, when a token is configured, asks the query API's requests for `Authorization: Bearer <token>`
(the probes and `/metrics` stay open).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, cast

import orjson
from aiohttp import web as aiohttp_web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server
from faust.types import AppT
from faust.web import Response
from faust.web.drivers import aiohttp as faust_aiohttp

from ssi_stream.ops.settings import SettingsError

log = logging.getLogger(__name__)

#: The longest request line (method, path with query, version): an industry name of 100 characters
#: percent-encoded as 4-byte UTF-8 is 1,200 bytes of path.
MAX_REQUEST_LINE_BYTES = 4096
#: The longest header field (name or value).
MAX_HEADER_FIELD_BYTES = 8190
MAX_HEADERS = 64
#: Paths anyone may read when a token is configured: the probes and the metrics.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

Handler = Callable[[aiohttp_web.Request], Awaitable[aiohttp_web.StreamResponse]]


def json_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The API's error answer: `{"error": code, "message": message}` (typed as Faust's, as its driver
    does with the aiohttp responses it makes)."""
    return cast(Response, _error(status, code, message, headers))


def json_bytes(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer of already encoded JSON."""
    return cast(Response, _json(body, status, headers))


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> aiohttp_web.Response:
    return _json(orjson.dumps({"error": code, "message": message}), status, headers)


def _json(body: bytes, status: int, headers: Mapping[str, str] | None) -> aiohttp_web.Response:
    return aiohttp_web.Response(
        status=status, body=body, content_type="application/json", headers=dict(headers or {})
    )


def read_api_token(path: str) -> str | None:
    """The bearer token in `path` (surrounding whitespace dropped), or None when no file is configured."""
    if not path:
        return None
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"SSI_API_TOKEN_FILE: cannot read {path}: {exc}") from None
    if not token:
        raise SettingsError(f"SSI_API_TOKEN_FILE: {path} is empty")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise SettingsError(f"SSI_API_TOKEN_FILE: the token in {path} must be printable ASCII without spaces")
    return token


class ApiWeb(faust_aiohttp.Web):
    """Faust's aiohttp web driver without Faust's pages, with request limits, JSON errors and auth."""

    default_blueprints = ()
    production_blueprints = ()
    debug_blueprints = ()
    optional_blueprints = ()

    def __init__(self, app: AppT, *, api_token: str | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.api_token = api_token
        self.web_app = aiohttp_web.Application(
            middlewares=[self._json_errors, self._guard],
            client_max_size=1024,
            handler_args={
                "max_line_size": MAX_REQUEST_LINE_BYTES,
                "max_field_size": MAX_HEADER_FIELD_BYTES,
                "max_headers": MAX_HEADERS,
            },
        )
        self._runner = _JsonErrorRunner(self.web_app, access_log=None)

    @aiohttp_web.middleware
    async def _json_errors(
        self, request: aiohttp_web.Request, handler: Handler
    ) -> aiohttp_web.StreamResponse:
        """aiohttp's own answers (404, 405, ...) and a handler's exceptions as JSON errors."""
        try:
            return await handler(request)
        except aiohttp_web.HTTPException as exc:
            return _from_http_exception(exc, request)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return _error(500, "internal", "the worker failed to answer this request (see its log)")

    @aiohttp_web.middleware
    async def _guard(self, request: aiohttp_web.Request, handler: Handler) -> aiohttp_web.StreamResponse:
        """Known routes only, no request body, and the bearer token for the query API when one is set."""
        unmatched = request.match_info.http_exception
        if unmatched is not None:
            raise unmatched
        if request.body_exists:
            return _error(413, "request_too_large", "the API takes no request body")
        if self.api_token is not None and request.path not in OPEN_PATHS and not self._authorized(request):
            challenge = {"WWW-Authenticate": 'Bearer realm="ssi-stream"'}
            return _error(401, "unauthorized", "this API needs Authorization: Bearer <token>", challenge)
        return await handler(request)

    def _authorized(self, request: aiohttp_web.Request) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        assert self.api_token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self.api_token.encode()
        )


def _from_http_exception(
    exc: aiohttp_web.HTTPException, request: aiohttp_web.Request
) -> aiohttp_web.Response:
    headers = {name: value for name, value in exc.headers.items() if name in ("Allow", "Retry-After")}
    if exc.status == 404:
        return _error(404, "unknown_path", f"no such path: {request.path[:200]}")
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ("GET", "HEAD")))
        message = f"{request.method[:20]} is not allowed here; allowed: {allowed}"
        return _error(405, "method_not_allowed", message, headers)
    if exc.status == 413:
        return _error(413, "request_too_large", "the API takes no request body", headers)
    return _error(exc.status, "bad_request" if exc.status < 500 else "internal", exc.reason, headers)


class _JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering requests it cannot parse in JSON (aiohttp's own answer is
    text/plain, and it logs each one as an ERROR with a traceback)."""

    __slots__ = ()

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> aiohttp_web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp's: a response was begun, the connection is broken
            raise ConnectionError("Response is sent already, cannot send another response")
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:  # the client's mistake, not the worker's: not an ERROR line per bad request
            self.log_debug("Bad request from %s: %r", request.remote, exc)
        if isinstance(exc, LineTooLong):
            # The limit tells which line it was: the request line's, or a header field's.
            if str(MAX_REQUEST_LINE_BYTES) == str(exc.args[1]):
                response = _error(
                    414, "uri_too_long", f"the request line is longer than {MAX_REQUEST_LINE_BYTES} bytes"
                )
            else:
                response = _error(
                    431, "header_too_large", f"a header field is longer than {MAX_HEADER_FIELD_BYTES} bytes"
                )
        elif isinstance(exc, BadHttpMessage) or 400 <= status < 500:
            detail = "too many headers" if "headers" in str(exc).lower() else "malformed HTTP request"
            response = _error(400, "bad_request", detail)
        else:
            response = _error(status, "internal", "the worker failed to answer this request (see its log)")
        response.force_close()
        return response


class _JsonErrorServer(Server):
    """An aiohttp server whose connections use `_JsonErrorHandler`."""

    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class _JsonErrorRunner(aiohttp_web.AppRunner):
    """aiohttp's application runner, serving through `_JsonErrorServer`."""

    async def _make_server(self) -> Server:
        plain = await super()._make_server()
        return _JsonErrorServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
