"""The query API over HTTP against two running workers: any worker answers for any member, the port serves
nothing but the API (every error in JSON), and a takeover keeps to the documented statuses.

The workers run once for the module (`cluster`); the takeover test kills one of them, so it comes last.
"""

from __future__ import annotations

import collections
import http.client
import socket
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import pytest
import yaml

from ssi_stream.ranking.distribution import distribution_document
from ssi_stream.ranking.standing import ScoreHistogram
from ssi_stream.simulation import SimulationConfig, iter_encoded
from tests.unit.schemas.test_score_record_schema import check_score_record

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token.for_tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass
class Answer:
    status: int
    content_type: str
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def document(self) -> dict:
        assert self.content_type == "application/json", (self.status, self.content_type, self.body[:200])
        return orjson.loads(self.body)


def _request(
    port: str, path: str, *, method: str = "GET", headers: dict | None = None, body: bytes = b""
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        content_type = (response.getheader("Content-Type") or "").split(";")[0]
        return Answer(response.status, content_type, response.headers, response.read())
    finally:
        connection.close()


def _get(port: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    answer = _request(port, path, headers={**AUTH, **(headers or {})})
    return answer.status, answer.document


def _raw(port: str, data: bytes) -> tuple[int, str, dict]:
    """Send bytes as they are (requests http.client would refuse to write); the status line and JSON body."""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), fields.get("Content-Type", ""), orjson.loads(body)


def _ready(port: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = _request(port, "/readyz")
        except OSError:
            answer = None
        if answer is not None and answer.status == 200:
            assert answer.document == {"ready": True}
            return
        assert time.monotonic() < deadline, f"worker on {port} never ready: {answer}"
        time.sleep(0.5)


@dataclass
class Cluster:
    env: StreamEnv
    workers: tuple[Worker, Worker]
    ports: list[str]
    #: the records the stream emits (by the emission rule), and every member's record of every day
    expected: dict[tuple[str, str], dict]
    daily: dict[tuple[str, str], dict]
    latest: dict[str, dict]


@pytest.fixture(scope="module")
def cluster(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two workers with a bearer token, every score of a small population emitted; both stopped after."""
    tmp_path = tmp_path_factory.mktemp("query-api")
    config = SimulationConfig(members=60, days=6, seed=5, jitter_seconds=300)
    log = list(iter_encoded(config))
    env = StreamEnv(kafka_bootstrap)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    # The API answers with the record of the member's last closed day, emitted that day or not: the last
    # record of each member when every member-day has one.
    latest: dict[str, dict] = {}
    daily = {
        (r["member_id"], r["date"]): r for r in replay_records(log, replace(env.timeline(), emit="daily"))
    }
    assert set(expected) < set(daily)  # the stream emits by the emission rule: fewer records
    for record in daily.values():
        if record["date"] > latest.get(record["member_id"], {"date": ""})["date"]:
            latest[record["member_id"]] = record
    (tmp_path / "token").write_text(TOKEN + "\n")
    a_env, b_env = (
        {**env.worker_env(tmp_path / name, name), "SSI_API_TOKEN_FILE": str(tmp_path / "token")}
        for name in ("wa", "wb")
    )
    b_env["SSI_WEB_URL"] = f"http://localhost:{b_env['SSI_WEB_PORT']}"  # what the group tells wa to use
    workers = (Worker(a_env, tmp_path / "wa.log").start(), Worker(b_env, tmp_path / "wb.log").start())
    try:
        produce(kafka_bootstrap, env.events_topic, log, env.partitions)
        collect_scores(kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=workers)
        ports = [a_env["SSI_WEB_PORT"], b_env["SSI_WEB_PORT"]]
        for port in ports:  # both ready means both own partitions: half the requests below are forwarded
            _ready(port)
        yield Cluster(env, workers, ports, expected, daily, latest)
    finally:
        codes = [worker.stop() for worker in workers]
    survivor = workers[0]
    assert codes[0] == 0, f"exit code on SIGTERM: {codes[0]}\n{survivor.log_tail()}"


def test_any_worker_answers_for_any_member_with_its_latest_record(cluster: Cluster) -> None:
    ports, daily = cluster.ports, cluster.daily
    for member, record in sorted(cluster.latest.items()):
        for port in ports:
            status, body = _get(port, f"/members/{urllib.parse.quote(member)}/score")
            assert (status, body) == (200, record), f"worker on {port} about {member}"
    for member, record in sorted(cluster.latest.items())[:6]:  # texts in two locales, asked for either way
        for port in ports:
            status, italian = _get(port, f"/members/{member}/score?lang=it-CH")
            assert status == 200 and italian["texts"]["locale"] == "it", (port, member)
            asked = {"Accept-Language": "fr;q=0.9, en;q=0.5"}
            status, french = _get(port, f"/members/{member}/score", asked)
            assert status == 200 and french["texts"]["locale"] == "fr", (port, member)
            for answer in (italian, french):
                check_score_record(answer)
                assert {k: v for k, v in answer.items() if k != "texts"} == record
            assert italian["texts"]["build_relationships"]["title"] == "Coltiva le relazioni"
            assert italian["texts"] != french["texts"]
    for member, record in sorted(cluster.latest.items())[:10]:
        status, body = _get(ports[1], f"/members/{member}/history?weeks=2")
        assert status == 200 and body["member_id"] == member and body["weeks"] == 2
        streamed = {r["date"]: r["ssi"] for (m, _), r in daily.items() if m == member}
        assert len(body["daily"]) == 14
        assert body["daily"][-1] == {"date": record["date"], "ssi": record["ssi"]}
        assert all(point["ssi"] == streamed.get(point["date"]) for point in body["daily"])
        assert [p["date"] for p in body["weekly"]] == [body["daily"][6]["date"], record["date"]]
    status, body = _get(ports[0], "/members/m000001/history?weeks=27")
    assert status == 400 and body["error"] == "bad_weeks"
    status, body = _get(ports[0], "/members/nobody/score")
    assert status == 404 and body["error"] == "not_found" and "nobody" in body["message"]
    status, body = _get(ports[1], "/members/" + "x" * 65 + "/score")
    assert status == 400 and body["error"] == "bad_member_id" and "65 characters" in body["message"]
    last = max(r["date"] for r in daily.values())
    industries = sorted({r["industry"] for r in daily.values() if r["date"] == last and r["industry"]})
    assert len(industries) > 3
    for industry in industries:
        histogram = ScoreHistogram()
        for r in daily.values():
            if r["date"] == last and r["industry"] == industry:
                histogram.add(r["ssi"])
        wanted = distribution_document(industry, last, histogram)
        for port in ports:  # every worker ranks with every partition's histograms
            status, body = _get(port, f"/industries/{urllib.parse.quote(industry)}/distribution")
            assert (status, body) == (200, wanted), f"worker on {port} about {industry}"
    status, body = _get(ports[0], "/industries/Nothing%20Here/distribution")
    assert status == 404 and body["error"] == "not_found"
    status, body = _get(ports[0], "/industries/" + "x" * 101 + "/distribution")
    assert status == 400 and body["error"] == "bad_industry"


def test_faust_pages_are_gone_and_every_error_is_json(cluster: Cluster) -> None:
    port = cluster.ports[0]
    member = next(iter(sorted(cluster.latest)))
    # Faust's blueprints: table data, the cluster's URLs, internals. With a token, and without.
    for path in (
        "/",
        "/table/",
        "/table/members/",
        f"/table/members/{member}/",
        "/router/",
        "/router/members/",
        f"/router/members/{member}/",
        "/router/topics",
        "/graph/",
        "/stats/",
        "/assignment/",
        "/performance/",
        "/nope",
    ):
        for headers in ({}, AUTH):
            answer = _request(port, path, headers=headers)
            assert (answer.status, answer.document["error"]) == (404, "unknown_path"), path
    answer = _request(port, "/readyz", method="POST")
    assert (answer.status, answer.document["error"]) == (405, "method_not_allowed")
    assert answer.headers["Allow"] == "GET,HEAD"
    answer = _request(port, f"/members/{member}/score", headers=AUTH, body=b"{}")
    assert (answer.status, answer.document["error"]) == (413, "request_too_large")
    answer = _request(port, f"/members/{member}/score", method="HEAD", headers=AUTH)
    assert (answer.status, answer.content_type, answer.body) == (200, "application/json", b"")
    status, content_type, body = _raw(port, f"GET /members/{'a' * 5000}/score HTTP/1.1\r\n\r\n".encode())
    assert (status, content_type, body["error"]) == (414, "application/json", "uri_too_long")
    status, content_type, body = _raw(port, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    assert (status, content_type, body["error"]) == (431, "application/json", "header_too_large")
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(100))
    status, content_type, body = _raw(port, b"GET /healthz HTTP/1.1\r\n" + many + b"\r\n")
    assert (status, content_type, body["error"]) == (400, "application/json", "bad_request")
    status, content_type, body = _raw(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")  # TLS
    assert (status, content_type, body["error"]) == (400, "application/json", "bad_request")
    assert "Error handling request" not in cluster.workers[0].log_tail(10_000)  # a client's error: no ERROR


def test_the_query_api_asks_for_the_token_and_the_probes_do_not(cluster: Cluster) -> None:
    member = next(iter(sorted(cluster.latest)))
    for port in cluster.ports:
        for path in (
            f"/members/{member}/score",
            f"/members/{member}/history",
            "/industries/Software/distribution",
        ):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                answer = _request(port, path, headers=headers)
                assert (answer.status, answer.document["error"]) == (401, "unauthorized"), (path, headers)
                assert answer.headers["WWW-Authenticate"] == 'Bearer realm="ssi-stream"'
        assert _request(port, "/healthz").status == 200
        assert _request(port, "/readyz").document == {"ready": True}
        assert _request(port, "/metrics").body.startswith(b"# HELP")
        # with the token, forwarded or not (half the members are the other worker's): the record
        answer = _request(port, f"/members/{member}/score", headers={"Authorization": f"bearer {TOKEN}"})
        assert (answer.status, answer.document) == (200, cluster.latest[member])


#: What /members/{id}/score may answer about a member with a score (docs/openapi.yaml), 503 with Retry-After.
UNAVAILABLE = {"not_ready", "owner_unavailable", "ranking"}


@pytest.mark.faults
def test_a_takeover_answers_only_documented_statuses_in_json_then_every_record(cluster: Cluster) -> None:
    """Poll every member through both workers, SIGKILL one, keep polling the survivor until it answers
    every member with its record again: nothing but documented statuses, all JSON, 503s with Retry-After."""
    survivor, victim = cluster.workers
    port = cluster.ports[0]
    members = sorted(cluster.latest)
    seen: collections.Counter[tuple[int, str, str | None]] = collections.Counter()
    wrong: list[str] = []

    def poll(member: str) -> bool:
        answer = _request(port, f"/members/{member}/score", headers=AUTH)
        json = answer.content_type == "application/json"
        error = orjson.loads(answer.body).get("error") if json and answer.status != 200 else None
        seen[answer.status, answer.content_type, error] += 1
        if not json:
            wrong.append(f"{member}: {answer.status} {answer.content_type} {answer.body[:200]!r}")
        elif answer.status == 503 and error in UNAVAILABLE:
            if not answer.headers.get("Retry-After", "").isdigit():
                wrong.append(f"{member}: 503 without Retry-After: {answer.body[:200]!r}")
        elif answer.status != 200:  # a 404 here would be a member with a score said to have none
            wrong.append(f"{member}: {answer.status} {answer.body[:200]!r}")
        elif answer.document != cluster.latest[member]:
            wrong.append(f"{member}: 200 with another record")
        return answer.status == 200

    assert all(poll(member) for member in members)
    victim.kill()  # SIGKILL: its port closes at once, its session expires after SSI_SESSION_TIMEOUT_SECONDS
    killed = time.monotonic()
    answered: set[str] = set()
    while len(answered) < len(members) or time.monotonic() - killed < 5:
        assert time.monotonic() - killed < 180, f"not every member answered: {seen}\n{survivor.log_tail()}"
        for member in members:
            (answered.add if poll(member) else answered.discard)(member)
        time.sleep(0.05)
    assert not wrong, f"{len(wrong)} answers off the contract ({seen}); first: {wrong[:5]}"
    unavailable = seen[503, "application/json", "owner_unavailable"]
    assert unavailable > 0, f"the takeover was not seen: {seen}"
    logged = survivor.log_tail(100_000).count("forwarding to")
    assert logged <= 3, f"{logged} log lines for {unavailable} failed forwards"  # log_limits


def test_the_openapi_document_describes_the_paths_the_worker_serves() -> None:
    spec = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    assert spec["openapi"].startswith("3.")
    source = (REPO / "ssi_stream" / "stream" / "views.py").read_text()
    for path in spec["paths"]:
        assert f'"{path}"' in source, f"{path} is documented but not served"
    for served in (
        "/metrics",
        "/healthz",
        "/readyz",
        "/members/{member_id}/score",
        "/members/{member_id}/history",
        "/industries/{name}/distribution",
    ):
        assert served in spec["paths"], f"{served} is served but not documented"
