"""What the README and docs/ name exists: files, modules and their names, command-line options, make
targets, the packages of the architecture tree. A rename that leaves a doc behind fails here."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from ssi_stream.cli import build_parser

REPO = Path(__file__).parents[3]
DOCS = sorted(
    [
        REPO / "README.md",
        REPO / "BENCHMARKS.md",
        REPO / "deploy" / "RUNBOOK.md",
        REPO / "schemas" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
#: Top-level folders whose paths a doc may name relative to the repository.
TOP = ("tests/", "bench/", "ssi_stream/", "schemas/", "deploy/", "docs/")
#: Where commands the docs quote write their output (git-ignored, made by the runs).
OUTPUT = ("bench/results/",)


def doc_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def quoted(text: str) -> list[str]:
    """Every `inline code` span of a Markdown text, and every line of its fenced code blocks."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        spans.extend(block.splitlines())
    return spans


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_repository_path_a_doc_names_exists(doc: Path) -> None:
    missing = []
    for span in quoted(doc.read_text()):
        for word in re.findall(r"[\w./<>-]+", span):
            word = word.rstrip(".,:")
            named = word.startswith(TOP) and not word.startswith(OUTPUT) and "<" not in word
            if named and not (REPO / word).exists():
                missing.append(word)
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_ssi_stream_name_a_doc_quotes_can_be_imported(doc: Path) -> None:
    unknown = []
    for name in sorted(set(re.findall(r"`(ssi_stream(?:\.\w+)+)`", doc.read_text()))):
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                found: object = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            break
        try:
            for attribute in parts[split:]:
                found = getattr(found, attribute)
        except AttributeError:
            unknown.append(name)
    assert unknown == []


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_command_line_a_doc_quotes_uses_commands_and_options_that_exist(doc: Path) -> None:
    commands = _commands(build_parser())
    wrong = []
    for span in quoted(doc.read_text()):
        # `ssi-stream dlq resend --reason X`, `.venv/bin/ssi-stream replay ...`; not `kubectl -n ssi-stream`
        for match in re.finditer(r"(?<![-\w])(?<!-n )ssi-stream ([a-z]+)((?: [^|;#]*)?)", span):
            command, rest = match.group(1), match.group(2).split()
            parser = commands.get(command)
            if parser is None:
                wrong.append(f"ssi-stream {command}")
                continue
            actions = _commands(parser)
            if actions and rest and not rest[0].startswith("-"):
                if rest[0] not in actions:
                    wrong.append(f"ssi-stream {command} {rest[0]}")
                    continue
                parser = actions[rest[0]]
            for word in rest:
                option = word.strip("[]").split("=")[0]
                if option.startswith("-") and option != "-" and option not in _options(parser):
                    wrong.append(f"ssi-stream {command}: {option}")
    assert wrong == []


def test_the_demo_options_the_readme_lists_exist() -> None:
    readme = (REPO / "README.md").read_text()
    listed = re.search(r"2,000 members over 60 days by default.*?;(.*?)\)", readme, flags=re.S)
    assert listed is not None
    options = re.findall(r"`(--[a-z-]+)`", listed.group(1))
    assert options and set(options) <= _options(_commands(build_parser())["demo"])


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_every_make_target_a_doc_quotes_is_in_the_makefile(doc: Path) -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    named = set()
    for span in quoted(doc.read_text()):
        named.update(re.findall(r"^(?:sudo )?make ([a-z][\w-]*)", span.strip()))
    assert named - targets == set()


def test_the_readme_architecture_tree_lists_every_package_and_nothing_else() -> None:
    readme = (REPO / "README.md").read_text()
    tree = re.search(r"```\nssi_stream/\n(.*?)```", readme.split("## Architecture", 1)[1], flags=re.S)
    assert tree is not None
    listed = set(re.findall(r"^  (\w+)/", tree.group(1), flags=re.M))
    packages = {path.parent.name for path in (REPO / "ssi_stream").glob("*/__init__.py")}
    assert listed == packages
    for module in re.findall(r"^  (\w+\.py)", tree.group(1), flags=re.M):
        assert (REPO / "ssi_stream" / module).is_file(), module
