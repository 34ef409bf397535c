"""The API token file: read once, stripped, refused with the variable's name when unusable."""

from __future__ import annotations

from pathlib import Path

import faust
import pytest

from ssi_stream.ops.settings import SettingsError
from ssi_stream.stream.web_server import ApiWeb, read_api_token


def test_no_file_means_an_open_api() -> None:
    assert read_api_token("") is None


def test_the_token_is_the_file_without_surrounding_whitespace(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("  abc.DEF-123_x\n")
    assert read_api_token(str(tmp_path / "token")) == "abc.DEF-123_x"


@pytest.mark.parametrize(
    ("content", "problem"),
    [("", "is empty"), ("\n \n", "is empty"), ("two words", "printable ASCII"), ("tök", "printable ASCII")],
)
def test_an_unusable_token_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "token").write_text(content)
    with pytest.raises(SettingsError, match=f"SSI_API_TOKEN_FILE: .*{problem}"):
        read_api_token(str(tmp_path / "token"))


def test_a_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=f"SSI_API_TOKEN_FILE: cannot read {tmp_path}/nothing"):
        read_api_token(str(tmp_path / "nothing"))


def _routes(web: object) -> set[str]:
    web.init_server()  # type: ignore[attr-defined] - what the worker does at start: blueprints, then pages
    return {resource.canonical for resource in web.web_app.router.resources()}  # type: ignore[attr-defined]


def test_the_server_routes_only_the_pages_registered_on_it() -> None:
    plain = faust.App("plain", web_enabled=True, debug=True, autodiscover=False)
    assert {"/table/", "/router/", "/graph/", "/"} <= _routes(plain.web)  # what Faust would serve
    app = faust.App("closed", web_enabled=True, debug=True, autodiscover=False)
    app.web = ApiWeb(app)
    app.page("/healthz")(_healthz)
    assert _routes(app.web) == {"/healthz"}


async def _healthz(view: object, request: object) -> None: ...
