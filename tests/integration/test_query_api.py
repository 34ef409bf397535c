"""The query API over HTTP against two running workers: any worker answers for any member."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import yaml

from ssi_stream.ranking.distribution import distribution_document
from ssi_stream.ranking.standing import ScoreHistogram
from ssi_stream.simulation import SimulationConfig, iter_encoded
from tests.unit.schemas.test_score_record_schema import check_score_record

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records, running

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _get(port: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def _ready(port: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, body = _get(port, "/readyz")
        except OSError:
            status, body = 0, {}
        if status == 200:
            assert body == {"ready": True}
            return
        assert time.monotonic() < deadline, f"worker on {port} never ready: {status} {body}"
        time.sleep(0.5)


def test_any_worker_answers_for_any_member_with_its_latest_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
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
    a_env, b_env = env.worker_env(tmp_path / "a", "wa"), env.worker_env(tmp_path / "b", "wb")
    workers = (Worker(a_env, tmp_path / "wa.log"), Worker(b_env, tmp_path / "wb.log"))
    with running(*workers):
        produce(kafka_bootstrap, env.events_topic, log, env.partitions)
        collect_scores(kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=workers)
        ports = [a_env["SSI_WEB_PORT"], b_env["SSI_WEB_PORT"]]
        for port in ports:  # both ready means both own partitions: half the requests below are forwarded
            _ready(port)
        for member, record in sorted(latest.items()):
            for port in ports:
                status, body = _get(port, f"/members/{urllib.parse.quote(member)}/score")
                assert (status, body) == (200, record), f"worker on {port} about {member}"
        for member, record in sorted(latest.items())[:6]:  # texts in two locales, asked for either way
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
        for member, record in sorted(latest.items())[:10]:
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
