"""The docs cannot silently fall behind the code.

Every command has help and a line on the front page; the README's test command is the one CI
runs; the site's nav holds every page and builds strictly; the README says nothing a docs page
says again; and the examples run: every `$ argus ...` on the bundled samples prints what its page
shows (ARGUS_UPDATE_DOCS=1 rewrites the pages), the writer page's Python runs in order, the
importing page's span attributes are read as it says, the bad-input table quotes real messages.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
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
    jq: str | None = None  # `| jq PROGRAM`, of the two forms `jq_lines` reads


# `.key`, or `.list[] | {key, key}`: the jq the pages use, read here so the test needs no jq
JQ = re.compile(r"^\.(\w+)(?:\[\] \| \{([\w, ]+)\})?$")


def jq_lines(program: str, stdout: str) -> list[str]:
    """What `jq -c PROGRAM` prints for the two forms JQ matches."""
    match = JQ.match(program)
    assert match is not None
    value = json.loads(stdout)[match.group(1)]
    if match.group(2) is None:
        return [json.dumps(value)]
    keys = [k.strip() for k in match.group(2).split(",")]
    return [json.dumps({k: item[k] for k in keys}, separators=(",", ":")) for item in value]


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
            head, jq = None, None
            if "|" in shell:
                at = shell.index("|")
                pipe, shell = shell[at + 1 :], shell[:at]
                if pipe[0] == "head":
                    head = int(pipe[1].lstrip("-"))
                elif pipe[0] == "jq" and JQ.match(pipe[-1]):
                    jq = pipe[-1]
                else:
                    continue  # other pipes are shown, not run
            found.append(Example(page, command, shell[1:], head, shown, status, jq))
    return found


EXAMPLES = [e for page in PAGES for e in examples(page)]


# Files the pages' examples use besides the samples, made as the page says they were made
MADE = {
    "candidate.jsonl": (
        "docs/ci.md",
        "python benchmarks/generate_traces.py candidate.jsonl --hops 1880 --seed 36 "
        "--workflows prior-auth",
    ),
}


def runnable(example: Example) -> bool:
    """Commands on the bundled samples (or none) run; those on a user's own files are shown only."""
    paths = [w for w in example.words if "/" in w or w.endswith((".jsonl", ".csv", ".parquet"))]
    return all((ROOT / w).exists() or w in MADE for w in paths if not w.startswith("-"))


RUNNABLE = [e for e in EXAMPLES if runnable(e)]


def test_the_docs_show_examples_and_most_run():
    assert len(RUNNABLE) >= 12, [e.command for e in RUNNABLE]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder laid out as the examples assume: the samples, and the files the pages make."""
    folder = tmp_path_factory.mktemp("docs-examples")
    (folder / "sample_traces").symlink_to(ROOT / "sample_traces")
    (folder / "benchmarks").symlink_to(ROOT / "benchmarks")
    for page, command in MADE.values():
        assert f"`{command}`" in " ".join((ROOT / page).read_text(encoding="utf-8").split())
        words = shlex.split(command)
        subprocess.run([sys.executable, *words[1:]], cwd=folder, check=True, capture_output=True)
    return folder


@pytest.mark.parametrize(
    "example", RUNNABLE, ids=[f"{e.page.name}:{e.command[:50]}" for e in RUNNABLE]
)
def test_documented_output_is_what_argus_prints(example, monkeypatch, workdir):
    """The page shows what the command prints today (ARGUS_UPDATE_DOCS=1 rewrites the page)."""
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, example.words)
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    if example.jq is not None:
        lines = jq_lines(example.jq, result.stdout)
    if example.head is not None:
        lines = lines[: example.head]
    printed = "\n".join(lines).rstrip("\n")
    if example.status is not None:  # a `$ echo $?` under it
        assert result.exit_code == example.status, result.output
    if UPDATE and printed != example.shown.rstrip("\n"):
        if os.environ.get("PYTEST_XDIST_WORKER"):  # (another worker may rewrite the page too)
            pytest.fail("ARGUS_UPDATE_DOCS=1 rewrites pages: run it in one process (-n 0)")
        text = example.page.read_text(encoding="utf-8")
        assert text.count(example.shown) == 1, "cannot rewrite an output shown twice"
        example.page.write_text(text.replace(example.shown, printed), encoding="utf-8")
        return
    assert printed == example.shown.rstrip("\n"), f"{example.page.name}: {example.command}"


# --- The writer library page's Python examples run, in order, as a user would paste them ---

EXPECTED_ERROR = re.compile(r"^(\w+(?:Error|Conflict|Violation)): (.+)$")


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```\n", page.read_text(encoding="utf-8"), re.M | re.S)


def run_block(code: str, namespace: dict) -> int:
    """Run a block statement by statement. A statement followed by a comment line says what
    it gives: `# SomeError: message` (it must raise that) or a value's repr (it must equal it);
    an inline `# SomeError: ...` also means it must raise. Returns how many were checked."""
    lines = code.splitlines()
    checked = 0
    for stmt in ast.parse(code).body:
        end = stmt.end_lineno or stmt.lineno
        following = lines[end].strip() if end < len(lines) else ""
        inline = lines[end - 1].split("  # ", 1)[1] if "  # " in lines[end - 1] else ""
        said = following[2:] if following.startswith("# ") else ""
        error = EXPECTED_ERROR.match(said) or EXPECTED_ERROR.match(inline)
        compiled = compile(ast.Module([stmt], []), "docs/writer.md", "exec")
        if error:
            with pytest.raises(Exception) as caught:
                exec(compiled, namespace)
            assert type(caught.value).__name__ == error.group(1)
            if error.re is EXPECTED_ERROR and error.string == said:
                assert error.group(2) in str(caught.value)
            checked += 1
        elif said and isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), "docs/writer.md", "eval"), namespace)
            assert repr(value) == said
            checked += 1
        else:
            exec(compiled, namespace)
    return checked


def writer_page_namespace(tmp_path: Path) -> dict:
    """What the page's examples take as given: a tracer, the agents' own functions and data."""
    from types import SimpleNamespace

    import pydantic

    from argus_cli import AgentTracer

    attempts = iter([TimeoutError("lookup_invoice did not answer in 10 s")])

    def lookup_invoice(account):
        for error in attempts:
            raise error
        return {"account": account, "amount": 12.5}

    class Decision(pydantic.BaseModel):
        member_id: str
        approved: bool

    return {
        "tracer": AgentTracer(workflow_id="docs", path=str(tmp_path / "docs.jsonl")),
        "document": {"pages": 2},
        "parse": lambda document: SimpleNamespace(
            output={"member_id": "M-1"}, confidence=0.9, input_tokens=10, output_tokens=5, cost=0.01
        ),
        "lookup_invoice": lookup_invoice,
        "account": "A-7",
        "draft": lambda invoice: {"reply": f"invoice {invoice['amount']}"},
        "output": {"decision": "approve"},
        "payload": {"member_id": "M-1", "letter": "fine"},
        "violations": [],
        "Decision": Decision,
        "eligibility_agent": lambda payload: {
            "member_id": payload["member_id"],
            "approved": True,
            "amount": 1.0,
            "letter": "ok",
        },
        "route_to_review": lambda output, violations: None,
    }


def test_the_writer_page_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = writer_page_namespace(tmp_path)
    checked = 0
    for code in python_blocks(DOCS / "writer.md"):
        # a block that makes a tracer of its own shows another set-up: it runs on its own
        own = dict(namespace) if re.search(r"^tracer = ", code, re.M) else namespace
        checked += run_block(code, own)
    assert checked >= 4  # the contract's violations, IntentConflict, two PermissionErrors
    records = (tmp_path / "docs.jsonl").read_text(encoding="utf-8").splitlines()
    hops = {json.loads(r)["hop_id"] for r in records if '"kind":"hop"' in r.replace(" ", "")}
    assert {"parser", "ocr-tool", "billing_agent", "lookup_invoice", "validator"} <= hops


# --- The front page and the reference do not say the same thing twice ---


def prose_words(text: str) -> list[str]:
    """A page's words outside code blocks (program output may repeat; sentences may not)."""
    return re.sub(r"^```.*?^```\n", "", text, flags=re.MULTILINE | re.DOTALL).split()


def test_no_sentence_of_the_readme_is_repeated_in_the_docs():
    """No run of ten words of the README's prose stands again in a docs page's prose."""
    n = 10
    docs: set[str] = set()
    for page in DOCS.rglob("*.md"):
        words = prose_words(page.read_text(encoding="utf-8"))
        docs.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    words = prose_words(README)
    repeated = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    assert [run for run in repeated if run in docs] == []


def test_every_message_in_the_bad_input_table_is_one_the_corpus_gives():
    """docs/bad-input.md quotes argus's messages; each is what a tests/data/bad/ case expects
    (those cases are run by tests/test_bad_records.py), so the table cannot drift from it."""
    given = []
    for expected in (ROOT / "tests" / "data" / "bad").glob("*.expected.json"):
        given += [reason for _, reason in json.loads(expected.read_text(encoding="utf-8"))["bad"]]
    page = (DOCS / "bad-input.md").read_text(encoding="utf-8")
    quoted = re.findall(r"(?:skipped|named): `([^`]+)`", page)
    assert len(quoted) >= 9
    for message in quoted:
        before, _, after = message.partition("(...)")
        assert any(reason.startswith(before) and reason.endswith(after) for reason in given), (
            message
        )


def test_the_site_builds_strictly(tmp_path):
    """What .ci/run does after installing the docs extra; here too when it is installed."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("material", reason="the docs extra is not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "cli" / "index.html").exists()
    assert "schema_version" in (tmp_path / "changelog" / "index.html").read_text(encoding="utf-8")


# --- The importing page's OpenTelemetry snippets: what they set is what argus reads ---


class RecordingSpan:
    """Stands in for an OpenTelemetry span: keeps what the page's code sets, as OTLP JSON."""

    def __init__(self) -> None:
        self.attributes: list[dict] = []
        self.events: list[dict] = []

    @staticmethod
    def value(value) -> dict:
        if isinstance(value, bool):
            return {"boolValue": value}
        if isinstance(value, float):
            return {"doubleValue": value}
        if isinstance(value, list):
            return {"arrayValue": {"values": [RecordingSpan.value(v) for v in value]}}
        return {"stringValue": str(value)}

    def set_attribute(self, key: str, value) -> None:
        self.attributes.append({"key": key, "value": self.value(value)})

    def add_event(self, name: str, attributes: dict) -> None:
        pairs = [{"key": k, "value": self.value(v)} for k, v in attributes.items()]
        self.events.append(
            {"name": name, "timeUnixNano": "1775037601000000000", "attributes": pairs}
        )


def test_the_importing_page_span_attributes_are_read(tmp_path, monkeypatch):
    """A hop span and its trace's root, set exactly as docs/importing.md shows, then loaded."""
    hop_code, root_code = python_blocks(DOCS / "importing.md")
    span, root = RecordingSpan(), RecordingSpan()
    exec(compile(hop_code, "docs/importing.md", "exec"), {"span": span})
    exec(compile(root_code, "docs/importing.md", "exec"), {"root": root})
    trace = "5b8efff798038103d269b633813fc60c"
    kind = {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}}
    name = {"key": "gen_ai.agent.name", "value": {"stringValue": "billing_agent"}}
    spans = [
        {
            "traceId": trace,
            "spanId": "eee19b7ec3c1b174",
            "name": "support-desk",
            "startTimeUnixNano": "1775037600000000000",
            "endTimeUnixNano": "1775037603000000000",
            "attributes": root.attributes,
            "events": root.events,
        },
        {
            "traceId": trace,
            "spanId": "eee19b7ec3c1b175",
            "parentSpanId": "eee19b7ec3c1b174",
            "name": "invoke_agent billing_agent",
            "startTimeUnixNano": "1775037600100000000",
            "endTimeUnixNano": "1775037602000000000",
            "attributes": [kind, name, *span.attributes],
        },
    ]
    export = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    (tmp_path / "export.jsonl").write_text(json.dumps(export) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def query(sql: str) -> list[dict]:
        result = CliRunner().invoke(app, ["query", "export.jsonl", sql, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    (hop,) = query("SELECT hop_id, validated, violations, confidence, scores FROM hops")
    assert hop["hop_id"] == "billing_agent" and hop["validated"] is True
    assert hop["violations"] == [
        {"rule": "phi_in_free_text", "severity": None, "category": "safety"}
    ]
    assert hop["confidence"] == 0.92 and hop["scores"] == {"groundedness": 0.9}
    assert query("SELECT correct FROM outcomes") == [{"correct": False}]


def test_the_exit_code_table_lists_every_exit_code():
    from argus_cli.diagnostics import ExitCode

    page = (DOCS / "bad-input.md").read_text(encoding="utf-8")
    table = page[page.index("## Exit codes") :]
    assert [int(c) for c in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)] == [
        int(code) for code in ExitCode
    ]


def test_the_version_is_the_changelogs_latest_everywhere():
    """pyproject, argus_cli.__version__ (what --version prints) and CHANGELOG.md agree."""
    from argus_cli import __version__

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE).group(1) == __version__
    assert re.search(r"^## \[(\d[^\]]*)\]", changelog, re.MULTILINE).group(1) == __version__
    result = CliRunner().invoke(app, ["--version"])
    assert result.stdout == f"argus {__version__}\n"
