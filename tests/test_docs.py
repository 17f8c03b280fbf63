"""The docs cannot silently fall behind the CLI: every command has help, a line on the front
page and a place in the reference; the README's commands are the ones CI runs; the site's nav
holds every page."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

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


# --- The `$ argus ...` examples in README.md and docs/ are run, and must print what they show ---

UPDATE = os.environ.get("ARGUS_UPDATE_DOCS") == "1"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
BLOCK = re.compile(r"^```(?:text|console)\n(\$ argus .*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass
class Example:
    page: Path
    command: str  # as shown, continuation lines joined
    words: list[str]  # argv after `argus`
    head: int | None  # `| head -N`
    shown: str  # the output the page shows
    status: int | None  # from a following `$ echo $?`


def examples(page: Path) -> list[Example]:
    """Every `$ argus` command in the page's text blocks with the output printed under it."""
    found = []
    for block in BLOCK.findall(page.read_text(encoding="utf-8")):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\") or command.count('"') % 2 or command.count("'") % 2:
                i += 1
                command = (command[:-1] if command.endswith("\\") else command + "\n") + lines[i]
            i += 1
            start = i
            while i < len(lines) and not lines[i].startswith("$ "):
                i += 1
            shown = "\n".join(lines[start:i])
            status = None
            if i < len(lines) and lines[i] == "$ echo $?":
                status, i = int(lines[i + 1]), i + 2
            if not command.startswith("argus "):
                continue
            shell = shlex.split(command.split(" #")[0] if "#" in command else command)
            head = None
            if "|" in shell:
                at = shell.index("|")
                pipe, shell = shell[at + 1 :], shell[:at]
                if pipe[:1] != ["head"]:
                    continue  # jq and the like are not run here
                head = int(pipe[1].lstrip("-"))
            found.append(Example(page, command, shell[1:], head, shown, status))
    return found


EXAMPLES = [e for page in PAGES for e in examples(page)]


def runnable(example: Example) -> bool:
    """Commands on the bundled samples (or none) run; those on a user's own files are shown only."""
    paths = [w for w in example.words if "/" in w or w.endswith((".jsonl", ".csv", ".parquet"))]
    return all((ROOT / w).exists() for w in paths if not w.startswith("-"))


RUNNABLE = [e for e in EXAMPLES if runnable(e)]


def test_the_docs_show_examples_and_most_run():
    assert len(RUNNABLE) >= 12, [e.command for e in RUNNABLE]


@pytest.mark.parametrize(
    "example", RUNNABLE, ids=[f"{e.page.name}:{e.command[:50]}" for e in RUNNABLE]
)
def test_documented_output_is_what_argus_prints(example, monkeypatch):
    """The page shows what the command prints today (ARGUS_UPDATE_DOCS=1 rewrites the page)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, example.words)
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    if example.head is not None:
        lines = lines[: example.head]
    printed = "\n".join(lines).rstrip("\n")
    if example.status is not None:  # a `$ echo $?` under it
        assert result.exit_code == example.status, result.output
    if UPDATE and printed != example.shown.rstrip("\n"):
        text = example.page.read_text(encoding="utf-8")
        assert text.count(example.shown) == 1, "cannot rewrite an output shown twice"
        example.page.write_text(text.replace(example.shown, printed), encoding="utf-8")
        return
    assert printed == example.shown.rstrip("\n"), f"{example.page.name}: {example.command}"
