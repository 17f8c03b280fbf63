"""docs/cli.md is what the generator makes of the Typer app today, and names every option.

After changing a command or an option: `python -m argus_cli.cli.reference > docs/cli.md`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from argus_cli.cli import app
from argus_cli.cli.reference import generate

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "cli.md"
GROUP = get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]


def test_the_committed_page_is_the_generated_one():
    assert PAGE.read_text(encoding="utf-8") == generate(), (
        "docs/cli.md is stale: run `python -m argus_cli.cli.reference > docs/cli.md`"
    )


def section(name: str) -> str:
    """The page's section of one command: from its heading to the next."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n## argus {name}\n")
    end = text.find("\n## argus ", start + 1)
    return text[start : end if end != -1 else None]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_of_every_command_is_in_its_section(name):
    command = GROUP.commands[name]  # type: ignore[attr-defined]
    text = section(name)
    for param in command.params:
        if param.param_type_name == "option":
            for opt in [*param.opts, *param.secondary_opts]:
                assert f"`{opt}`" in text, f"argus {name}: {opt} missing from docs/cli.md"
            assert " ".join(param.help.split()[:3]) in text
        else:
            assert f"`{param.name.upper()}" in text, f"argus {name}: argument {param.name}"
    first_line = command.help.strip().splitlines()[0]
    assert first_line.split(":")[0] in text


def test_the_global_options_are_documented():
    top = PAGE.read_text(encoding="utf-8").split("\n## argus check")[0]
    for param in GROUP.params:
        assert f"`{param.opts[0]}`" in top


def test_generation_does_not_depend_on_the_terminal():
    """Width and colour settings change Rich's --help, never the page."""
    env = {**os.environ, "COLUMNS": "37", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-m", "argus_cli.cli.reference"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    assert out.stdout == generate()
    assert "\x1b[" not in out.stdout


def test_the_page_is_valid_table_markdown():
    """Every table row has the header's four cells (a stray | in help text would add one)."""
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| "):
            cells = line.replace("\\|", "").strip("|").split(" | ")
            assert len(cells) == 4, line
