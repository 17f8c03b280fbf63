"""The CI recipes in docs/ci/ and .pre-commit-hooks.yaml work: their argus part is run here.

Each `argus check` / `argus diff` command line is taken from the snippet file as a user would
copy it and run through the CLI in a project folder laid out the way the snippets assume:
`argus.toml` (the documented example) at the root, the traces in `traces/`, the baseline in
`baseline/`.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_gates_tracegen import workflow_runs, write
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.config import CHECK_KEYS, load_config

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "ci"
SNIPPETS = ["github-actions.yml", "gitlab-ci.yml"]
COMMAND = re.compile(r"^\s*(?:-\s+)?(?:run:\s+)?(argus (?:check|diff)\b.*)$", re.MULTILINE)
HOPS = ("intake", "policy-validator", "writer")


def healthy(wrong: int = 3) -> list[dict]:
    """300 runs that hold every gate of docs/ci/argus.toml (with `wrong` 3); 30 fail them."""
    return workflow_runs(
        300,
        workflow="prior-auth",
        hops=HOPS,
        validated={"intake": 150, "policy-validator": 300, "writer": 300},
        wrong={"intake": wrong},
        high_stakes={"writer": (20, 0)},
        scores={"groundedness": 0.9, "safety": 1.0},
        cost_usd=0.01,
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "argus.toml").write_text(
        (DOCS / "argus.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    write(tmp_path / "traces" / "eval.jsonl", healthy())
    write(tmp_path / "baseline" / "eval.jsonl", healthy())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def commands(text: str) -> list[tuple[list[str], str | None]]:
    """argus command lines in a snippet: (arguments after `argus`, `>>` target or None)."""
    found = []
    for line in COMMAND.findall(text):
        words = shlex.split(line, posix=True)
        target = None
        if ">>" in words:
            at = words.index(">>")
            words, target = words[:at], words[at + 1]
        found.append((words[1:], target))
    return found


def pre_commit_commands(text: str) -> list[list[str]]:
    """`entry` plus `args` of each hook (flow-style lists, as the files use)."""
    out = []
    for block in re.split(r"^\s*- id:", text, flags=re.MULTILINE)[1:]:
        entry = re.search(r"^\s*entry:\s*(.+)$", block, re.MULTILINE)
        args = re.search(r"^\s*args:\s*\[(.*)\]\s*$", block, re.MULTILINE)
        assert entry is not None
        words = shlex.split(entry.group(1))
        if args:
            words += [a.strip().strip("'\"") for a in args.group(1).split(",") if a.strip()]
        out.append(words)
    return out


def invoke(args: list[str], summary: Path):
    return CliRunner().invoke(app, args, env={"GITHUB_STEP_SUMMARY": str(summary)})


def test_the_example_config_is_valid_and_sets_every_gate():
    config = load_config(DOCS / "argus.toml")
    assert config.path == DOCS / "argus.toml"
    text = (DOCS / "argus.toml").read_text(encoding="utf-8")
    assert all(re.search(rf"^{key} = ", text, re.MULTILINE) for key in CHECK_KEYS)
    assert config.max_regression == 0.02


@pytest.mark.parametrize("name", SNIPPETS)
def test_ci_snippet_commands_pass_on_a_healthy_trace(project, name):
    found = commands((DOCS / name).read_text(encoding="utf-8"))
    assert [args[0] for args, _ in found] == ["check", "diff"]
    summary = project / "summary.md"
    for args, target in found:
        result = invoke(args, summary)
        assert result.exit_code == 0, (args, result.output)
        if target is not None:
            assert target == "$GITHUB_STEP_SUMMARY"
            assert result.stdout.startswith(
                "## argus diff: no significant regression beyond 2.0 pts"
            )
    junit = next(a for args, _ in found for i, a in enumerate(args) if args[i - 1] == "--junit")
    root = ET.parse(project / junit).getroot()  # the report the CI system will read
    assert root.tag == "testsuites" and root.get("failures") == "0"
    if "--github" in found[0][0]:
        assert summary.read_text(encoding="utf-8").startswith("## argus check: ✅ all")


@pytest.mark.parametrize("name", SNIPPETS)
def test_ci_snippet_commands_fail_a_regressed_trace(project, name):
    write(project / "traces" / "eval.jsonl", healthy(wrong=30))
    found = commands((DOCS / name).read_text(encoding="utf-8"))
    summary = project / "summary.md"
    codes = [invoke(args, summary).exit_code for args, _ in found]
    assert codes == [1, 1]  # the gates fail, and the diff finds the regression real
    root = ET.parse(project / found[0][0][found[0][0].index("--junit") + 1]).getroot()
    assert int(root.get("failures") or 0) > 0


@pytest.mark.parametrize("name", ["pre-commit-config.yaml", "../../.pre-commit-hooks.yaml"])
def test_pre_commit_hook_runs(project, name):
    (hook,) = pre_commit_commands((DOCS / name).read_text(encoding="utf-8"))
    assert hook[:2] == ["argus", "check"]
    summary = project / "summary.md"
    assert invoke(hook[1:], summary).exit_code == 0
    write(project / "traces" / "eval.jsonl", healthy(wrong=30))
    assert invoke(hook[1:], summary).exit_code == 1


def test_pre_commit_manifest_fields():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert re.search(r"^- id: argus-check$", text, re.MULTILINE)
    for field in ("name:", "entry: argus check", "language: python", "pass_filenames: false"):
        assert field in text


def test_documented_recipes_are_the_tested_files():
    """docs/ci.md shows each recipe, and docs/configuration.md the example argus.toml, verbatim."""
    pages = {
        "github-actions.yml": "ci.md",
        "gitlab-ci.yml": "ci.md",
        "pre-commit-config.yaml": "ci.md",
        "argus.toml": "configuration.md",
    }
    for name, page in pages.items():
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert (DOCS / name).read_text(encoding="utf-8") in text, f"docs/{page} differs from {name}"
        if page == "ci.md":
            assert f"(ci/{name})" in text, f"docs/ci.md does not link docs/ci/{name}"


def test_readme_ci_lines_gate_as_they_say(project):
    """The front page's CI block: check and diff pass a healthy trace and fail a regressed one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## In CI") :].split("```sh\n", 1)[1].split("```", 1)[0]
    found = [
        shlex.split(line.split("#")[0])[1:]
        for line in block.splitlines()
        if line.startswith("argus ")
    ]
    assert [args[0] for args in found] == ["check", "diff"]
    summary = project / "summary.md"
    assert [invoke(args, summary).exit_code for args in found] == [0, 0]
    write(project / "traces" / "eval.jsonl", healthy(wrong=30))
    assert [invoke(args, summary).exit_code for args in found] == [1, 1]


def test_the_configuration_page_error_example(tmp_path, monkeypatch):
    """docs/configuration.md shows what a misspelt key gives: exit 2 and one line naming it."""
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    shown = re.search(r"^argus: error: \S+/argus\.toml: (check\.min_e2 .*?), \.\.\.\)$", page, re.M)
    assert shown is not None
    (tmp_path / "argus.toml").write_text("[check]\nmin_e2 = 0.9\n", encoding="utf-8")
    write(tmp_path / "traces" / "eval.jsonl", healthy())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "traces/"])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"argus: error: {tmp_path / 'argus.toml'}: {shown.group(1)}")


def test_the_gate_table_names_every_gate_by_its_flag_and_key():
    """docs/ci.md's table of gates: one row per `[check]` key, each with a flag argus check has."""
    from typer.main import get_command

    page = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(--[\w-]+)[^|]*\| `(\w+)", page, re.MULTILINE)
    check = get_command(app).commands["check"]  # type: ignore[attr-defined]
    flags = {opt for param in check.params for opt in param.opts}
    assert sorted(key for _, key in rows) == sorted(CHECK_KEYS)
    for flag, key in rows:
        assert flag in flags and flag.lstrip("-").replace("-", "_") == key
