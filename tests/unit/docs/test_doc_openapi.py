"""docs/openapi.yaml against what a worker serves: its routes, error codes and limits (no broker needed)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssi_stream.events.contract import INDUSTRY_CHARS, MEMBER_ID_CHARS
from ssi_stream.ops.settings import Settings
from ssi_stream.scoring.model import load_model
from ssi_stream.stream import routing, views, web_server
from ssi_stream.stream.topology import ScoringTopology
from ssi_stream.trend.history import MAX_WEEKS

REPO = Path(__file__).parents[3]
SPEC: dict[str, Any] = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """(path, method) of every route the worker's web server has, HEAD aside (aiohttp adds it to GET)."""
    settings = replace(Settings(), store="memory://", data_dir=str(tmp_path_factory.mktemp("worker")))
    app = ScoringTopology(settings, "127.0.0.1:9", load_model()).app
    return {
        (route.resource.canonical, route.method.lower())
        for route in app.web.web_app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_the_document_describes_exactly_the_routes_the_worker_serves(served: set[tuple[str, str]]) -> None:
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert SPEC["openapi"].startswith("3.")
    assert documented - served == set(), "documented but not served"
    assert served - documented == set(), "served but not documented"


def test_a_path_parameter_is_documented_under_the_name_the_route_gives_it() -> None:
    for path, item in SPEC["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for operation in item.values():
            named = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert named == in_path, path


def test_the_paths_open_without_a_token_are_those_the_server_leaves_open() -> None:
    open_paths = {path for path, item in SPEC["paths"].items() if item["get"].get("security") == []}
    assert open_paths == web_server.OPEN_PATHS


def test_every_error_code_the_worker_answers_is_listed_and_every_listed_one_is_answered() -> None:
    description = SPEC["components"]["schemas"]["Error"]["properties"]["error"]["description"]
    listed = set(re.findall(r"\b[a-z]+(?:_[a-z]+)*\b", description.split(":", 1)[1])) - {
        "of",
        "the",
        "server",
    }
    answered: set[str] = set()
    for module in (views, routing, web_server):
        source = Path(module.__file__ or "").read_text()
        # _error(404, "not_found", ...), json_error(400, "bad_member_id", ...), _unavailable("not_ready", ...)
        answered |= set(
            re.findall(r"(?:_error|json_error|_unavailable)\(\s*(?:[\w.]+,\s*)?\"([a-z_]+)\"", source)
        )
        answered |= set(re.findall(r"else \"([a-z_]+)\"", source))  # "bad_request" if ... else "internal"
    assert answered == listed


def test_the_request_limits_stated_are_the_servers() -> None:
    text = SPEC["info"]["description"]
    assert f"request line over {web_server.MAX_REQUEST_LINE_BYTES} bytes" in text
    assert f"header field over {web_server.MAX_HEADER_FIELD_BYTES} bytes" in text
    assert f"more than {web_server.MAX_HEADERS} headers" in text


def test_the_parameter_bounds_are_the_codes() -> None:
    score = SPEC["paths"]["/members/{member_id}/score"]["get"]["parameters"]
    history = SPEC["paths"]["/members/{member_id}/history"]["get"]["parameters"]
    industry = SPEC["paths"]["/industries/{name}/distribution"]["get"]["parameters"]
    for member_id in (score[0], history[0]):
        assert (member_id["schema"]["minLength"], member_id["schema"]["maxLength"]) == MEMBER_ID_CHARS
    weeks = history[1]["schema"]
    assert (weeks["minimum"], weeks["maximum"], weeks["default"]) == (1, MAX_WEEKS, MAX_WEEKS)
    assert (industry[0]["schema"]["minLength"], industry[0]["schema"]["maxLength"]) == INDUSTRY_CHARS
