"""The docs cannot silently fall behind the CLI: every command has help and a README section."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from argus_cli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


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
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m venv .venv && . .venv/bin/activate && pip install -q '.[test]' && pytest"
    assert command in README and command in ci
