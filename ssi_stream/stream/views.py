"""The worker's web surface: `GET /metrics`, `/healthz`, `/readyz` and the query API (docs/openapi.yaml).

`/members/{member_id}/score` and `/members/{member_id}/history` are answered by the worker that owns the
member's partition: Faust's `table_route` forwards a request to it (its URL from the group's assignment)
and relays the answer. `/industries/{name}/distribution` can be answered by any worker with a partition:
every partition ranks with every partition's histograms. The server itself (`stream.web_server`) serves
nothing else, answers every error in JSON and, with `SSI_API_TOKEN_FILE`, asks the query API for a bearer
token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from faust import web

from ssi_stream.catalog import negotiate, record_texts
from ssi_stream.events.contract import INDUSTRY_CHARS
from ssi_stream.events.contract import member_id as member_id_check
from ssi_stream.events.decode import Rejected
from ssi_stream.ledger.member_ledger import MemberLedger, decode_ledger, latest_record
from ssi_stream.ops.metrics import exposition
from ssi_stream.stream.tables import distribution_key
from ssi_stream.stream.web_server import ApiWeb, json_error, read_api_token
from ssi_stream.timeline.days import iso_date
from ssi_stream.trend.history import MAX_WEEKS, history_document

if TYPE_CHECKING:
    from ssi_stream.stream.topology import ScoringTopology

#: The longest industry name the API looks up (the event contract's limit).
MAX_INDUSTRY_CHARS = INDUSTRY_CHARS[1]


class QueryViews:
    """The HTTP handlers of one worker, registered on its Faust app."""

    def __init__(self, topology: ScoringTopology) -> None:
        self.topology = topology
        app = self.app = topology.app
        self.members = topology.members
        self.gates = topology.gates
        self.model = topology.model
        self.dedup = topology.timeline.dedup
        # The server, before any page is registered on it: no Faust pages, JSON errors, optional auth.
        app.web = ApiWeb(app, api_token=read_api_token(topology.settings.api_token_file))
        app.page("/metrics", name="metrics")(self.serve_metrics)
        app.page("/healthz", name="healthz")(self.serve_health)
        app.page("/readyz", name="readyz")(self.serve_ready)

        async def member_score(view: web.View, request: web.Request, member_id: str) -> web.Response:
            language = request.query.get("lang") or request.headers.get("Accept-Language")
            return await self.serve_member_score(member_id, language)

        # table_route answers here when this worker owns the member's partition, else forwards the request
        # to the worker that does (its URL from the group's assignment) and relays its answer.
        routed = app.table_route(self.members, match_info="member_id")(member_score)
        app.page("/members/{member_id}/score", name="member-score")(routed)

        async def member_history(view: web.View, request: web.Request, member_id: str) -> web.Response:
            return await self.serve_member_history(member_id, request.query.get("weeks"))

        routed = app.table_route(self.members, match_info="member_id")(member_history)
        app.page("/members/{member_id}/history", name="member-history")(routed)

        async def industry_distribution(view: web.View, request: web.Request, name: str) -> web.Response:
            return await self.serve_industry_distribution(name)

        app.page("/industries/{name}/distribution", name="industry-distribution")(industry_distribution)

    # Faust makes a View class of each handler; a bound method stays bound, so it gets only `request`.
    async def serve_metrics(self, request: web.Request) -> web.Response:
        """GET /metrics: this worker's metrics in the Prometheus (or OpenMetrics) text format."""
        payload, content_type = exposition(self.topology.metrics.registry, request.headers.get("Accept"))
        # in headers: aiohttp refuses a charset in its `content_type` argument
        return self.app.web.bytes(payload, headers={"Content-Type": content_type})

    async def serve_member_score(self, member_id: str, language: str | None = None) -> web.Response:
        """GET /members/{id}/score: the member's latest score record (the owner worker answers); with
        `?lang=` or `Accept-Language`, its explanations as texts in the best locale the catalog has."""
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger  # the 400 or 404 answer
        record = latest_record(member_id, ledger, self.model)
        if record is None:  # between the close of its day and the arrival of the day's ranks: seconds
            day = iso_date(ledger.state.last_closed)  # type: ignore[arg-type]
            problem = f"the score of {member_id!r} for {day} is waiting for the day's ranks: retry shortly"
            return self._error(503, "ranking", problem, retry_after=2)
        if language:
            locale = negotiate(language)
            record = {**record, "texts": record_texts(record, ledger.state, self.model, locale)}
        return self._json(record)

    async def serve_industry_distribution(self, name: str) -> web.Response:
        """GET /industries/{name}/distribution: the industry's SSI distribution on the last ranked day."""
        if not 1 <= len(name) <= MAX_INDUSTRY_CHARS:
            return self._error(400, "bad_industry", f"an industry name has 1-{MAX_INDUSTRY_CHARS} characters")
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

    async def serve_member_history(self, member_id: str, weeks_text: str | None) -> web.Response:
        """GET /members/{id}/history?weeks=N: the member's daily and weekly SSI over the last N weeks."""
        weeks = MAX_WEEKS if weeks_text is None else _whole_number(weeks_text)
        if weeks is None or not 1 <= weeks <= MAX_WEEKS:
            problem = f"weeks must be a whole number 1-{MAX_WEEKS}, got {weeks_text!r}"
            return self._error(400, "bad_weeks", problem)
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger  # the 400 or 404 answer
        return self._json(history_document(member_id, ledger.history, weeks))

    def _closed_ledger(self, member_id: str) -> MemberLedger | web.Response:
        """The member's ledger if it has closed a day, else the 400 or 404 answer."""
        checked = member_id_check("member_id", member_id)  # the event contract's rule: 1-64 characters
        if isinstance(checked, Rejected):
            return self._error(400, "bad_member_id", checked.detail)
        stored = self.members.get(member_id.encode())
        ledger = None if stored is None else decode_ledger(stored, self.dedup)
        if ledger is None or ledger.state.last_closed is None:
            return self._error(404, "not_found", f"no daily score for member {member_id!r} yet")
        return ledger

    async def serve_ready(self, request: web.Request) -> web.Response:
        """GET /readyz: 200 once the worker has partitions and their tables are restored, else 503."""
        reason = None
        if self.app.rebalancing:
            reason = "rebalancing"
        elif not self.app.tables.recovery.completed.is_set():
            reason = "restoring tables"
        elif not self.app.consumer.assignment():
            reason = "no partitions assigned"
        if reason:
            return self._error(503, "not_ready", reason)
        return self.app.web.json({"ready": True})

    async def serve_health(self, request: web.Request) -> web.Response:
        """GET /healthz: 200 while the worker process runs and its web server answers."""
        return self.app.web.text("ok\n")

    def _json(self, document: Any) -> web.Response:
        return self.app.web.bytes(orjson.dumps(document), content_type="application/json")

    def _error(self, status: int, code: str, message: str, retry_after: int | None = None) -> web.Response:
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return json_error(status, code, message, headers)


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None
