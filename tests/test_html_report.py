"""`--format html`: the page holds `--json`'s report key for key, every number it shows is
that JSON's, its outline is golden, and it names nothing it would have to fetch."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path

import pytest
from goldens import check_golden
from htmlbook import lookup, page_data, parse, shown_numbers, structure

from argus_cli.cli import app

SAMPLES = "../sample_traces/"
MAX_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory):
    """The bundled samples' report as a page, and as --json (same inputs, same order)."""
    from typer.testing import CliRunner

    here = Path(__file__).parent
    out = tmp_path_factory.mktemp("html") / "report.html"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(here)
        runner = CliRunner()
        made = runner.invoke(app, ["report", SAMPLES, "--format", "html", "-o", str(out)])
        assert made.exit_code == 0, made.output
        assert made.stdout == ""
        as_json = runner.invoke(app, ["report", SAMPLES, "--json"])
    return out.read_text(encoding="utf-8"), json.loads(as_json.stdout)


def test_page_holds_the_json_report(sample_page):
    page, report = sample_page
    assert page_data(parse(page))["report"] == report


def test_every_number_shown_is_the_jsons(sample_page):
    page, report = sample_page
    root = parse(page)
    data = page_data(root)
    numbers = shown_numbers(root)
    hops = sum(len(wf["hops"]) for wf in report["workflows"])
    # ten figures per hop row, the banners, root causes, what-ifs and edges
    assert len(numbers) > 10 * hops
    for path, key, value in numbers:
        assert value == lookup(data, path, key), (path, key)
    # the hop rows are the JSON's hops, in its order
    for w, wf in enumerate(report["workflows"]):
        shown = [p for p, k, _ in numbers if k == "pass_rate" and "/hops/" in p]
        mine = [p for p in shown if p.startswith(f"report/workflows/{w}/")]
        assert mine == [f"report/workflows/{w}/hops/{i}" for i in range(len(wf["hops"]))]


def test_rounded_text_agrees_with_the_exact_value(sample_page):
    """A cell's text is its exact value rounded, not another number."""
    root = parse(sample_page[0])
    checked = 0
    for node in root.walk():
        if node.attrs.get("data-k") == "pass_rate" and node.tag == "td":
            exact = json.loads(node.attrs["data-v"])
            text = node.all_text().strip()
            assert text == f"{exact * 100:.1f}%"
            checked += 1
    assert checked == 4 + 5 + 7


def test_outline_is_golden(sample_page):
    outline = structure(parse(sample_page[0]))
    check_golden("report_html_outline.jsonl", "".join(json.dumps(o) + "\n" for o in outline))


def test_self_contained_and_small(sample_page):
    page = sample_page[0]
    assert len(page.encode("utf-8")) < MAX_BYTES
    root = parse(page)
    # nothing to fetch: no element that loads a resource, no stylesheet url()
    for node in root.walk():
        assert "src" not in node.attrs and node.tag not in ("link", "iframe", "img"), node.attrs
        assert not node.attrs.get("href", "#").split("#")[0], node.attrs
    for style in root.find_all("style"):
        assert "url(" not in style.all_text()
    # the browser is told to refuse any request anyway
    (csp,) = [n for n in root.find_all("meta") if n.attrs.get("http-equiv")]
    assert "default-src 'none'" in csp.attrs["content"]
    assert len(root.find_all("script", "vl-spec")) == 3 * 3  # map, pass rates, coverage


def test_failed_runs_are_their_trees(sample_page):
    """Each failed run opens into the tree `argus trace` draws."""
    from typer.testing import CliRunner

    root = parse(sample_page[0])
    details = root.find_all("details")
    runs = [d for d in details if " · run " in d.find_all("summary")[0].all_text()]
    assert len(runs) == 15 + 25 + 25  # claims-coding has 15 failed runs; 25 shown of the rest
    first = runs[0]
    run_id = re.search(r"run (\w+)", first.find_all("summary")[0].all_text()).group(1)
    tree = first.find_all("pre", "tree")[0].all_text()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(Path(__file__).parent)
        mp.setenv("NO_COLOR", "1")
        traced = CliRunner().invoke(app, ["trace", SAMPLES, run_id])
    assert traced.exit_code == 0
    assert [line.rstrip() for line in tree.splitlines() if line.strip()] == [
        line.rstrip() for line in traced.stdout.splitlines() if line.strip()
    ]


def test_stdout_by_default(runner):
    result = runner.invoke(app, ["report", "data/awkward.jsonl", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert page_data(parse(result.stdout))["report"] == json.loads(
        runner.invoke(app, ["report", "data/awkward.jsonl", "--json"]).stdout
    )


def test_missing_extra_is_one_line_and_exit_2(runner, monkeypatch):
    real = builtins.__import__

    def no_vl_convert(name, *args, **kwargs):
        if name == "vl_convert":
            raise ImportError("No module named 'vl_convert'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vl_convert)
    for command in (["report", "data/awkward.jsonl"], ["check", "data/awkward.jsonl"]):
        result = runner.invoke(app, [*command, "--format", "html"])
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "argus: error: --format html needs the html extra (vl-convert-python): "
            "pip install 'argus-cli[html]'"
        ]


def test_output_that_cannot_be_written_is_exit_2(runner, tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    target = tmp_path / "file" / "report.html"  # a folder that is a file
    result = runner.invoke(app, ["report", "data/awkward.jsonl", "-f", "html", "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"argus: error: cannot write {target}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_other_formats_go_to_output_too(runner, tmp_path):
    target = tmp_path / "report.md"
    result = runner.invoke(
        app, ["report", "data/awkward.jsonl", "-f", "markdown", "-o", str(target)]
    )
    assert result.exit_code == 0 and result.stdout == ""
    shown = runner.invoke(app, ["report", "data/awkward.jsonl", "-f", "markdown"]).stdout
    assert target.read_text(encoding="utf-8") == shown


def test_check_page_has_the_gates_on_top(runner, tmp_path):
    target = tmp_path / "check.html"
    result = runner.invoke(app, ["check", SAMPLES, "-f", "html", "-o", str(target)])
    assert result.exit_code == 1  # the samples' prior-auth is above the cascade line
    as_json = json.loads(runner.invoke(app, ["check", SAMPLES, "--json"]).stdout)
    root = parse(target.read_text(encoding="utf-8"))
    data = page_data(root)
    assert data["check"] == as_json
    outline = structure(root)
    assert outline[0][0] == "h1" and "gates failed" in outline[0][1]
    assert outline[1][:2] == ["table", "gates"] and outline[1][3] == len(as_json["gates"])
    for path, key, value in shown_numbers(root):
        assert value == lookup(data, path, key)


def test_check_github_needs_a_file_for_the_page(runner):
    result = runner.invoke(app, ["check", "data/awkward.jsonl", "-f", "html", "--github"])
    assert result.exit_code == 2
    assert "-o PATH" in result.stderr


def test_diff_page_puts_both_sides_together(runner, tmp_path):
    target = tmp_path / "diff.html"
    args = ["diff", SAMPLES + "claims_coding.jsonl", SAMPLES]
    result = runner.invoke(app, [*args, "-f", "html", "-o", str(target)])
    assert result.exit_code == 0, result.output
    root = parse(target.read_text(encoding="utf-8"))
    data = page_data(root)
    assert data["diff"] == json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    numbers = shown_numbers(root)
    assert any(p.startswith("base/") for p, _, _ in numbers)
    assert any(p.startswith("candidate/") for p, _, _ in numbers)
    for path, key, value in numbers:
        assert value == lookup(data, path, key)


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_recipes_keep_the_page(tmp_path, monkeypatch, name):
    """The recipes' check writes the page that their artifact step uploads."""
    from test_ci_outputs_docs import DOCS, commands, healthy, invoke
    from test_gates_tracegen import write

    recipe = (DOCS / name).read_text(encoding="utf-8")
    (tmp_path / "argus.toml").write_text(
        (DOCS / "argus.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    write(tmp_path / "traces" / "eval.jsonl", healthy())
    monkeypatch.chdir(tmp_path)
    check = next(args for args, _ in commands(recipe) if args[0] == "check")
    assert check[check.index("--format") + 1] == "html"
    page = tmp_path / check[check.index("-o") + 1]
    assert invoke(check, tmp_path / "summary.md").exit_code == 0
    data = page_data(parse(page.read_text(encoding="utf-8")))
    assert data["check"]["passed"] is True
    uploaded = re.escape(page.relative_to(tmp_path).as_posix())
    assert re.search(rf"^\s*(path:|-)\s+{uploaded}\s*$", recipe, re.MULTILINE)
    if name == "github-actions.yml":
        assert "steps.html.outputs.artifact-url" in recipe and '>> "$GITHUB_STEP_SUMMARY"' in recipe


HOSTILE = [
    "</script><script>alert(1)</script>",
    "<!--x",
    "a\"b'c&<i>",
    "tab\tand\x1bescape",
]


def test_trace_content_stays_text(runner, tmp_path):
    """Names from the trace are text in the page: no element, no script, no broken JSON."""
    from tracebook import hop, write_jsonl

    records = []
    for run in range(6):
        for seq, name in enumerate(HOSTILE, start=1):
            failed = run % 2 and seq == 2
            records.append(
                hop(
                    f"r{run}",
                    name,
                    seq,
                    workflow_id="<u>wf</u>",
                    status="error" if failed else "success",
                )
            )
    trace = write_jsonl(tmp_path / "hostile.jsonl", records)
    result = runner.invoke(app, ["report", str(trace), "-f", "html"])
    assert result.exit_code == 0, result.output
    root = parse(result.stdout)
    data = page_data(root)
    assert data["report"] == json.loads(runner.invoke(app, ["report", str(trace), "--json"]).stdout)
    assert not root.find_all("u") and not root.find_all("i")
    scripts = root.find_all("script")
    assert all(s.attrs.get("type") == "application/json" or not s.attrs for s in scripts)
    assert sum(1 for s in scripts if not s.attrs) == 2  # the runtime and the draw script only
    for spec in root.find_all("script", "vl-spec"):
        json.loads(spec.all_text())
    hops = [row for row in root.find_all("tr") if row.attrs.get("data-path", "").count("/hops/")]
    assert [r.find_all("td")[1].all_text() for r in hops] == [
        "</script><script>alert(1)</script>",
        "<!--x",
        "a\"b'c&<i>",
        "tab\\tand\\x1bescape",  # control characters shown escaped, as in the terminal
    ]


def test_check_without_runs_is_still_a_page(runner, tmp_path):
    from tracebook import hop, write_jsonl

    trace = write_jsonl(tmp_path / "skipped.jsonl", [hop("r1", "a", 1, status="skipped")])
    result = runner.invoke(app, ["check", str(trace), "-f", "html"])
    assert result.exit_code == 1
    root = parse(result.stdout)
    assert page_data(root)["check"]["passed"] is False
    assert structure(root)[1][:2] == ["table", "gates"]


def test_no_page_to_a_terminal(monkeypatch):
    """A terminal as stdout and no -o: exit 2 with what to do, before reading anything."""
    import io
    import sys

    from argus_cli.diagnostics import UsageError
    from argus_cli.render.html import require_html

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    with pytest.raises(UsageError, match=re.escape("give -o report.html")):
        require_html()
    require_html(Path("report.html"))  # a file is fine
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    require_html()  # and so is a pipe


def test_diff_page_names_the_regressions(runner, tmp_path):
    from test_ci_outputs_docs import healthy
    from test_gates_tracegen import write

    write(tmp_path / "base.jsonl", healthy())
    write(tmp_path / "candidate.jsonl", healthy(wrong=30))
    args = ["diff", str(tmp_path / "base.jsonl"), str(tmp_path / "candidate.jsonl")]
    args += ["--max-regression", "0.02"]
    result = runner.invoke(app, [*args, "-f", "html"])
    assert result.exit_code == 1
    root = parse(result.stdout)
    (h1,) = root.find_all("h1")
    assert "significant regression(s) beyond 2.0 pts" in h1.all_text()
    assert h1.find_all("span", "fail")
    regressions = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["regressions"]
    listed = [li.all_text() for li in root.find_all("li", "problem")]
    assert regressions and listed == [r["text"] for r in regressions]
    verdicts = [td.all_text() for td in root.find_all("td", "fail")]
    assert verdicts.count("REGRESSION") == len(regressions)


def test_bad_input_writes_no_page(runner, tmp_path):
    """SPEC 9: an input error exits 2 and writes nothing, -o included."""
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "data/not_a_trace.csv", "-f", "html", "-o", str(target)])
    assert result.exit_code == 2
    assert not target.exists()
