"""A member's request answered by the worker that owns the member's partition, whatever the group does.

The owner comes from the group's assignment, as Faust's `table_route` finds it (`app.router.key_store`),
but the forwarding is ours: Faust's relays only the status, the body and the content type (dropping
`Retry-After`), and lets a dead owner's connection error through as `500 Server got itself in trouble`.
Here an owner that does not answer, an owner not known yet and a group that is still moving partitions
(the tables of a partition just taken over are still being restored) are each a 503 in JSON with
`Retry-After`, and a request is forwarded at most once: two workers that each think the other owns the
partition (their assignments are a generation apart) answer 503 instead of passing it back and forth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from faust.types import AppT, CollectionT
from faust.web import Request, Response
from yarl import URL

from ssi_stream.stream.web_server import json_bytes, json_error

log = logging.getLogger(__name__)

#: Marks a forwarded request (its value: the forwarding worker's id); such a request is never forwarded on.
FORWARDED_HEADER = "X-SSI-Forwarded-By"
#: How long a client should wait before asking again while the group rebalances or an owner is away.
RETRY_AFTER_SECONDS = 5
#: An owner that has not answered in this time is treated as gone (its session will expire).
FORWARD_TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=3)
#: The largest answer relayed (a score record is a few KiB).
MAX_FORWARDED_BYTES = 1 << 20
#: Hosts a server binds to but no one can connect to as this worker.
UNSPECIFIED_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})
#: The request headers the owner needs; the others (Host, Connection, ...) are the forwarder's business.
_RELAYED_REQUEST_HEADERS = ("Authorization", "Accept", "Accept-Language")
_RELAYED_RESPONSE_HEADERS = ("Retry-After", "WWW-Authenticate", "Allow")

LocalAnswer = Callable[[], Awaitable[Response]]


class OwnerRouting:
    """Routes a request about a key of `table` to the worker that holds the key's partition."""

    def __init__(self, app: AppT, table: CollectionT, worker_id: str) -> None:
        self.app = app
        self.table = table
        self.worker_id = worker_id
        advertised = app.conf.canonical_url
        if advertised.host in UNSPECIFIED_HOSTS:
            log.warning(
                "this worker tells the others to forward requests to %s, where they would reach themselves:"
                " set SSI_WEB_URL to an address they can reach it at (a host name or IP and port)",
                advertised,
            )

    async def answer(self, request: Request, key: str, local: LocalAnswer) -> Response:
        """`local()` when this worker owns `key` and its tables are ready, else the owner's answer."""
        not_ready = tables_not_ready(self.app)
        try:
            owner = self.app.router.key_store(self.table.name, key.encode())
        except Exception:  # no assignment yet (KeyError), no metadata for the topic yet, ...
            log.debug("no owner known for %r", key, exc_info=True)
            return self._unavailable("not_ready", "the owner of this member's partition is not known yet")
        if _same_worker(owner, self.app.conf.canonical_url):
            if not_ready:
                return self._unavailable("not_ready", f"this worker is {not_ready}: retry shortly")
            if not self._holds(key):  # named the owner, but not assigned it: two workers share one URL?
                problem = "this worker is named the owner of the member's partition but does not hold it"
                return self._unavailable("not_ready", f"{problem} (workers need distinct SSI_WEB_URLs)")
            return await local()
        forwarded_by = request.headers.get(FORWARDED_HEADER)
        if forwarded_by is not None:
            problem = f"{forwarded_by} and {self.worker_id} disagree on who owns this member: rebalancing"
            return self._unavailable("not_ready", problem)
        return await self._forward(request, owner)

    def _holds(self, key: str) -> bool:
        """True if the partition of `key` in the table's changelog is assigned to this worker (active)."""
        topic = self.table.changelog_topic.get_topic_name()
        return self.app.assignor.is_active(self.app.producer.key_partition(topic, key.encode()))

    async def _forward(self, request: Request, owner: URL) -> Response:
        url = owner.join(request.rel_url)  # the same path and query, percent-encoded as they came
        headers = {
            name: request.headers[name] for name in _RELAYED_REQUEST_HEADERS if name in request.headers
        }
        headers[FORWARDED_HEADER] = self.worker_id
        where = f"{owner.host}:{owner.port}"
        try:
            async with self.app.http_client.get(
                url, headers=headers, timeout=FORWARD_TIMEOUT, allow_redirects=False
            ) as response:
                status, content_type, size = response.status, response.content_type, response.content_length
                if content_type != "application/json" or size is None or size > MAX_FORWARDED_BYTES:
                    problem = f"the worker that owns this member ({where}) answered {status} {content_type}"
                    return self._unavailable("owner_unavailable", problem)
                body = await response.read()
                relayed = {
                    name: response.headers[name]
                    for name in _RELAYED_RESPONSE_HEADERS
                    if name in response.headers
                }
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # a warning, so that the log keeps one line a minute of it while an owner is away (log_limits)
            log.warning("forwarding to %s failed: %r", where, exc)
            problem = f"the worker that owns this member ({where}) does not answer: retry shortly"
            return self._unavailable("owner_unavailable", problem)
        return json_bytes(body, status, relayed)

    def _unavailable(self, code: str, message: str) -> Response:
        return json_error(503, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def tables_not_ready(app: AppT) -> str | None:
    """Why this worker cannot answer from its tables now (a rebalance, a restore), or None."""
    if app.rebalancing:
        return "rebalancing"
    if not app.tables.actives_ready:  # type: ignore[attr-defined]
        return "restoring tables"
    return None


def _same_worker(a: URL, b: URL) -> bool:
    return (a.host, a.port) == (b.host, b.port)
