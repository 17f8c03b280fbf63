"""The docs cannot silently fall behind the CLI: every command has help, a line on the front
page and a place in the reference; the README's commands are the ones CI runs; the site's nav
holds every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command

from argus_cli.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]
CI_TEST_COMMAND = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -q '.[test]' && pytest"
)


def test_there_are_commands():
    assert {"report", "runs", "trace", "query"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_a_readme_mention(name):
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help, f"argus {name} has no help text"
    assert f"argus {name}" in README, f"README does not show argus {name}"
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help, f"argus {name} {param.opts[0]} has no help text"


def test_readme_gives_the_ci_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert CI_TEST_COMMAND in README and CI_TEST_COMMAND in ci


def test_ci_builds_the_docs_strictly_with_the_docs_extra():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q '.[docs]'" in ci
    assert re.search(r"^\S*\s*mkdocs build --strict\b", ci, re.MULTILINE)


def test_readme_is_a_front_page():
    """The issue's limit: a newcomer reads it in five minutes."""
    assert len(README.splitlines()) <= 250


def nav_pages() -> list[str]:
    """The Markdown files mkdocs.yml's nav names (a flat read: `Title: page.md` lines)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.MULTILINE)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav_pages()) == pages


def test_readme_links_point_at_files():
    for target in re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)", README):
        assert (ROOT / target).exists(), f"README links to a missing {target}"


def test_the_readme_writer_example_runs(tmp_path, monkeypatch):
    """The front page's tracer example, run as a user would paste it."""
    (code,) = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    lines = (tmp_path / "traces" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and '"hop_id":"my-first-agent"' in lines[0].replace(" ", "")
