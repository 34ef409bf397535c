"""The worker's web surface: `GET /metrics`, `/healthz`, `/readyz` and the query API (docs/openapi.yaml).

`/members/{member_id}/score` and `/members/{member_id}/history` are answered by the worker that owns the
member's partition: the others forward the request to it and relay its answer (`stream.routing`), and
every worker answers 503 with `Retry-After` while the group moves partitions or an owner is away.
`/industries/{name}/distribution` can be answered by any worker with a partition: every partition ranks
with every partition's histograms. The server itself (`stream.web_server`) serves nothing else, answers
every error in JSON and, with `SSI_API_TOKEN_FILE`, asks the query API for a bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from faust import web

from ssi_stream.catalog import negotiate, record_texts
from ssi_stream.events.contract import INDUSTRY_CHARS
from ssi_stream.events.contract import member_id as member_id_check
from ssi_stream.events.decode import Rejected
from ssi_stream.ledger.member_ledger import MemberLedger, UnreadableLedger, latest_record, read_ledger
from ssi_stream.ops.metrics import exposition
from ssi_stream.stream.broker_contact import BrokerContact
from ssi_stream.stream.routing import RETRY_AFTER_SECONDS, OwnerRouting, tables_not_ready
from ssi_stream.stream.tables import distribution_key
from ssi_stream.stream.web_server import ApiWeb, json_error, read_api_token
from ssi_stream.timeline.days import iso_date
from ssi_stream.trend.history import MAX_WEEKS, history_document

if TYPE_CHECKING:
    from ssi_stream.stream.topology import ScoringTopology

#: The longest industry name the API looks up (the event contract's limit).
MAX_INDUSTRY_CHARS = INDUSTRY_CHARS[1]
#: Retry-After of a score waiting for its day's ranks (they follow the close within seconds).
RANKING_RETRY_AFTER_SECONDS = 2
#: How long a score request waits for the ranks of a day just closed before it answers 503 `ranking`
#: (well within the 10 s a forwarding worker waits for the owner's answer).
RANKING_WAIT_SECONDS = 2.0
#: How often it reads the member's ledger again meanwhile.
RANKING_POLL_SECONDS = 0.05
#: A scrape waits at most this long for fresh consumer-lag figures (else it gets the last ones).
LAG_REFRESH_SECONDS = 0.5


class QueryViews:
    """The HTTP handlers of one worker, registered on its Faust app."""

    def __init__(self, topology: ScoringTopology, broker: BrokerContact) -> None:
        self.topology = topology
        app = self.app = topology.app
        self.members = topology.members
        self.gates = topology.gates
        self.model = topology.model
        self.dedup = topology.timeline.dedup
        self.broker = broker
        #: Set when the worker begins to stop: /readyz answers 503 from then on.
        self.stopping = False
        # The server, before any page is registered on it: no Faust pages, JSON errors, optional auth.
        app.web = ApiWeb(app, api_token=read_api_token(topology.settings.api_token_file))
        self.routing = OwnerRouting(app, self.members, topology.settings.worker_id)
        app.page("/metrics", name="metrics")(self.serve_metrics)
        app.page("/healthz", name="healthz")(self.serve_health)
        app.page("/readyz", name="readyz")(self.serve_ready)
        app.page("/members/{member_id}/score", name="member-score")(self.route_member_score)
        app.page("/members/{member_id}/history", name="member-history")(self.route_member_history)
        app.page("/industries/{name}/distribution", name="industry-distribution")(
            self.serve_industry_distribution
        )

    # Faust makes a View class of each handler; a bound method stays bound: it gets `request` and the
    # path's parameters.
    async def serve_metrics(self, request: web.Request) -> web.Response:
        """GET /metrics: this worker's metrics in the Prometheus (or OpenMetrics) text format (the lag
        gauges refreshed first, within `LAG_REFRESH_SECONDS`)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.topology.update_gauges(), LAG_REFRESH_SECONDS)
        payload, content_type = exposition(self.topology.metrics.registry, request.headers.get("Accept"))
        # in headers: aiohttp refuses a charset in its `content_type` argument
        return self.app.web.bytes(payload, headers={"Content-Type": content_type})

    async def route_member_score(self, request: web.Request, member_id: str) -> web.Response:
        """GET /members/{id}/score, answered by the owner of the member's partition."""
        bad = _bad_member_id(member_id)
        if bad is not None:
            return bad
        language = request.query.get("lang") or request.headers.get("Accept-Language")
        return await self.routing.answer(
            request, member_id, lambda: self.serve_member_score(member_id, language)
        )

    async def route_member_history(self, request: web.Request, member_id: str) -> web.Response:
        """GET /members/{id}/history?weeks=N, answered by the owner of the member's partition."""
        weeks_text = request.query.get("weeks")
        weeks = MAX_WEEKS if weeks_text is None else _whole_number(weeks_text)
        if weeks is None or not 1 <= weeks <= MAX_WEEKS:
            problem = f"weeks must be a whole number 1-{MAX_WEEKS}, got {weeks_text!r}"
            return self._error(400, "bad_weeks", problem)
        bad = _bad_member_id(member_id)
        if bad is not None:
            return bad
        return await self.routing.answer(
            request, member_id, lambda: self.serve_member_history(member_id, weeks)
        )

    async def serve_member_score(self, member_id: str, language: str | None = None) -> web.Response:
        """The member's latest score record, from this worker's table (it owns the partition); with
        `?lang=` or `Accept-Language`, its explanations as texts in the best locale the catalog has."""
        found = await ranked(lambda: self._latest(member_id), RANKING_WAIT_SECONDS, RANKING_POLL_SECONDS)
        if not isinstance(found, tuple):
            return found  # 404 or unreadable
        ledger, record = found
        if record is None:  # between the close of its day and the arrival of the day's ranks: seconds
            day = iso_date(ledger.state.last_closed)  # type: ignore[arg-type]
            problem = f"the score of {member_id!r} for {day} is waiting for the day's ranks: retry shortly"
            return self._error(503, "ranking", problem, retry_after=RANKING_RETRY_AFTER_SECONDS)
        if language:
            locale = negotiate(language)
            record = {**record, "texts": record_texts(record, ledger.state, self.model, locale)}
        return self._json(record)

    async def serve_industry_distribution(self, request: web.Request, name: str) -> web.Response:
        """GET /industries/{name}/distribution: the industry's SSI distribution on the last ranked day."""
        if not 1 <= len(name) <= MAX_INDUSTRY_CHARS:
            return self._error(400, "bad_industry", f"an industry name has 1-{MAX_INDUSTRY_CHARS} characters")
        not_ready = tables_not_ready(self.app)
        if not_ready:
            return self._error(
                503, "not_ready", f"this worker is {not_ready}: retry shortly", RETRY_AFTER_SECONDS
            )
        effects = self.topology.effects_topic.get_topic_name()
        newest: dict[str, Any] | None = None
        for tp in self.app.consumer.assignment():
            stored = self.gates.get(distribution_key(tp.partition, name)) if tp.topic == effects else None
            document = None if stored is None else orjson.loads(stored)
            if document is not None and (newest is None or document["date"] > newest["date"]):
                newest = document
        if newest is None:
            return self._error(404, "not_found", f"no ranked day has members of industry {name!r} yet")
        return self._json(newest)

    async def serve_member_history(self, member_id: str, weeks: int) -> web.Response:
        """The member's daily and weekly SSI over the last `weeks` weeks, from this worker's table."""
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger  # the 404 answer
        return self._json(history_document(member_id, ledger.history, weeks))

    def _latest(self, member_id: str) -> tuple[MemberLedger, dict[str, Any] | None] | web.Response:
        """The member's ledger and latest record (None while its day's ranks are awaited), or the answer."""
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger
        return ledger, latest_record(member_id, ledger, self.model)

    def _closed_ledger(self, member_id: str) -> MemberLedger | web.Response:
        """The member's ledger if it has closed a day, else the 404 answer."""
        stored = self.members.get(member_id.encode())
        try:
            ledger = None if stored is None else read_ledger(member_id, stored, self.dedup)
        except UnreadableLedger as exc:  # counted where its effects are quarantined, not per request
            return self._error(503, "unreadable_state", str(exc), retry_after=60)
        if ledger is None or ledger.state.last_closed is None:
            return self._error(404, "not_found", f"no daily score for member {member_id!r} yet")
        return ledger

    async def serve_ready(self, request: web.Request) -> web.Response:
        """GET /readyz: 200 while the worker reaches the broker, holds partitions and has their tables
        restored; 503 with the reason otherwise."""
        reason = "shutting down" if self.stopping else self.broker.unreachable() or tables_not_ready(self.app)
        if reason is None and not self.app.consumer.assignment():
            reason = "no partitions assigned"
        if reason:
            return self._error(503, "not_ready", reason)
        return self._json({"ready": True})

    async def serve_health(self, request: web.Request) -> web.Response:
        """GET /healthz: 200 while the worker process runs and its web server answers."""
        return self.app.web.text("ok\n")

    def _json(self, document: Any) -> web.Response:
        return self.app.web.bytes(orjson.dumps(document), content_type="application/json")

    def _error(self, status: int, code: str, message: str, retry_after: int | None = None) -> web.Response:
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return json_error(status, code, message, headers)


def _bad_member_id(member_id: str) -> web.Response | None:
    """The 400 answer for an id that breaks the event contract's rule (1-64 characters), else None."""
    checked = member_id_check("member_id", member_id)
    if isinstance(checked, Rejected):
        return json_error(400, "bad_member_id", checked.detail)
    return None


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


async def ranked(
    read: Callable[[], tuple[MemberLedger, dict[str, Any] | None] | web.Response],
    wait: float,
    poll: float,
) -> tuple[MemberLedger, dict[str, Any] | None] | web.Response:
    """`read()` again every `poll` seconds, for up to `wait` seconds, while it finds a member whose last
    closed day waits for its ranks (no record yet); the last answer otherwise."""
    deadline = time.monotonic() + wait
    found = read()
    while isinstance(found, tuple) and found[1] is None and time.monotonic() < deadline:
        await asyncio.sleep(poll)
        found = read()
    return found
