"""Routing a member's request to its partition's owner: relayed as the owner answered, or a 503 in JSON
with Retry-After when the owner cannot answer, never passed on twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from faust.types import TP
from yarl import URL

from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.stream.routing import FORWARDED_HEADER, RETRY_AFTER_SECONDS, OwnerRouting

HERE = URL("http://127.0.0.1:1")  # this worker's advertised URL (nothing listens: it is never called)


class FakeApp:
    """What routing reads of a Faust app: the owner map, the assignment, readiness, an HTTP client."""

    def __init__(self, owner: URL, client: aiohttp.ClientSession, *, holds: bool = True) -> None:
        self.conf = SimpleNamespace(canonical_url=HERE)
        self.router = SimpleNamespace(key_store=lambda table, key: owner)
        self.assignor = SimpleNamespace(is_active=lambda tp: holds)
        self.producer = SimpleNamespace(key_partition=lambda topic, key: TP(topic, 0))
        self.rebalancing = False
        self.tables = SimpleNamespace(actives_ready=True)
        self.http_client = client


TABLE = SimpleNamespace(
    name="members", changelog_topic=SimpleNamespace(get_topic_name=lambda: "x-members-changelog")
)


@asynccontextmanager
async def owner_answering(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[URL]:
    """Another worker on 127.0.0.1 answering every /members/ request with `handler`."""
    application = web.Application()
    application.router.add_get("/members/{member_id}/score", handler)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield URL(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def routed(app: FakeApp, path: str, headers: dict[str, str] | None = None) -> Awaitable[Any]:
    async def local() -> Any:
        return web.json_response({"answered": "here"})

    request = make_mocked_request("GET", path, headers=headers or {})
    return OwnerRouting(app, TABLE, "wa").answer(request, "m1", local)  # type: ignore[arg-type]


def test_the_owners_answer_is_relayed_with_its_status_and_retry_after() -> None:
    seen: list[dict[str, str]] = []

    async def waiting_for_ranks(request: web.Request) -> web.Response:
        seen.append({**request.headers, "path_qs": request.path_qs})
        body = {"error": "ranking", "message": "waiting for the day's ranks"}
        return web.json_response(body, status=503, headers={"Retry-After": "2"})

    async def scenario() -> Any:
        async with aiohttp.ClientSession() as client, owner_answering(waiting_for_ranks) as owner:
            headers = {"Authorization": "Bearer t0ken", "Accept-Language": "fr", "Cookie": "not forwarded"}
            return await routed(FakeApp(owner, client), "/members/m%2F1/score?weeks=2", headers)

    response = asyncio.run(scenario())
    assert (response.status, response.headers["Retry-After"]) == (503, "2")
    assert orjson.loads(response.body)["error"] == "ranking"
    (request,) = seen
    assert request["path_qs"] == "/members/m%2F1/score?weeks=2"
    assert request["Authorization"] == "Bearer t0ken" and request[FORWARDED_HEADER] == "wa"
    assert request["Accept-Language"] == "fr"  # the texts' locale (views: ?lang= or Accept-Language)
    assert "Cookie" not in request


def test_an_owner_that_does_not_answer_is_503_owner_unavailable_with_retry_after() -> None:
    async def scenario() -> Any:
        async with aiohttp.ClientSession() as client:
            return await routed(FakeApp(URL(f"http://127.0.0.1:{free_port()}"), client), "/members/m1/score")

    response = asyncio.run(scenario())
    assert (response.status, response.content_type) == (503, "application/json")
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert orjson.loads(response.body)["error"] == "owner_unavailable"


def test_an_owner_answering_something_else_than_the_api_is_owner_unavailable() -> None:
    async def text_500(request: web.Request) -> web.Response:
        return web.Response(status=500, text="500 Internal Server Error\n\nServer got itself in trouble")

    async def scenario() -> Any:
        async with aiohttp.ClientSession() as client, owner_answering(text_500) as owner:
            return await routed(FakeApp(owner, client), "/members/m1/score")

    response = asyncio.run(scenario())
    assert response.status == 503 and orjson.loads(response.body)["error"] == "owner_unavailable"


def test_a_forwarded_request_is_not_forwarded_again() -> None:
    async def scenario() -> Any:
        async with aiohttp.ClientSession() as client:
            owner = URL(f"http://127.0.0.1:{free_port()}")
            return await routed(FakeApp(owner, client), "/members/m1/score", {FORWARDED_HEADER: "wb"})

    response = asyncio.run(scenario())
    assert response.status == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert orjson.loads(response.body)["message"].startswith("wb and wa disagree on who owns this member")


def test_the_owner_answers_itself_only_when_its_tables_are_ready_and_it_holds_the_partition() -> None:
    async def scenario(**state: Any) -> Any:
        async with aiohttp.ClientSession() as client:
            app = FakeApp(HERE, client, holds=state.pop("holds", True))
            for name, value in state.items():
                setattr(app, name, value) if name == "rebalancing" else setattr(app.tables, name, value)
            return await routed(app, "/members/m1/score")

    assert orjson.loads(asyncio.run(scenario()).body) == {"answered": "here"}
    for state, reason in (
        ({"rebalancing": True}, "rebalancing"),
        ({"actives_ready": False}, "restoring tables"),
        ({"holds": False}, "does not hold it"),
    ):
        response = asyncio.run(scenario(**state))
        assert response.status == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert reason in orjson.loads(response.body)["message"]
