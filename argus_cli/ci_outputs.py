"""What CI systems read from `argus check`: JUnit XML and GitHub Actions workflow commands.

Plain text and XML only (no Rich): these files are parsed by machines.

- JUnit: one `<testsuite>` per workflow (and one, `(inputs)`, for the gates judged over all the
  inputs) and one `<testcase>` per gate judged on it (per hop for `min-pass-rate`, per
  dimension for `min-g-arvis`); a gate that failed has a `<failure>` whose
  `message` is the reason. GitLab, Jenkins, Azure and the GitHub test-report actions read this.
- GitHub: one `::error` annotation per failed gate (a `::notice` when all held), written to
  stdout, the channel the runner reads workflow commands from; and the Markdown summary appended
  to the file named by `$GITHUB_STEP_SUMMARY` when that is set.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from argus_cli.diagnostics import UsageError, warn
from argus_cli.escaping import shown
from argus_cli.gates import INPUTS, CheckResult, GateResult, show_pair

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
# Characters XML 1.0 forbids even when escaped; a workflow id from a JSON trace may hold them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Trace content for XML: control characters shown escaped (escaping.py), then what XML
    still forbids (lone surrogates, U+FFFE, U+FFFF) replaced."""
    return _NOT_XML.sub("\ufffd", shown(text))


# --------------------------------------------------------------------------------------------
# JUnit XML


def junit_tree(result: CheckResult) -> ET.ElementTree[ET.Element]:
    failures = len(result.failures)
    root = ET.Element(
        "testsuites",
        {
            "name": "argus check",
            "tests": str(len(result.gates)),
            "failures": str(failures),
            "errors": "0",
            "time": "0",
        },
    )
    report = result.report
    runs: dict[str | None, int] = {None: report.runs}
    runs.update((wf.workflow_id, wf.runs) for wf in report.workflows)
    # One suite per scope: the inputs' gates, each workflow analysed, each named one with no run.
    scopes = dict.fromkeys(
        [
            *(g.workflow_id for g in result.gates if g.workflow_id is None),
            *(wf.workflow_id for wf in report.workflows),
            *(g.workflow_id for g in result.gates),
        ]
    )
    for scope in scopes:
        gates = [g for g in result.gates if g.workflow_id == scope]
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": _xml(f"argus check: {INPUTS if scope is None else scope}"),
                "tests": str(len(gates)),
                "failures": str(sum(1 for g in gates if not g.passed)),
                "errors": "0",
                "skipped": "0",
                "time": "0",
            },
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", {"name": "runs", "value": str(runs.get(scope, 0))})
        ET.SubElement(properties, "property", {"name": "files", "value": _xml(_files(result))})
        for gate in gates:
            _testcase(suite, gate)
    ET.indent(root)
    return ET.ElementTree(root)


def _files(result: CheckResult) -> str:
    return ", ".join(result.report.files)


def _testcase(suite: ET.Element, gate: GateResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {"name": _xml(gate.name), "classname": _xml(f"argus.{gate.scope}"), "time": "0"},
    )
    value, threshold = show_pair(gate.value, gate.threshold, gate.unit)
    detail = "\n".join(
        _xml(line)
        for line in (gate.reason, f"threshold: {gate.bound} {threshold}", f"value: {value}")
    )
    if not gate.passed:
        failure = ET.SubElement(
            case, "failure", {"message": _xml(gate.reason), "type": gate.verdict.replace(" ", "-")}
        )
        failure.text = detail
    else:
        ET.SubElement(case, "system-out").text = detail


def write_junit(result: CheckResult, path: str | Path) -> None:
    """Write the JUnit file, creating its folder; an unwritable path is a usage error."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        junit_tree(result).write(target, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise UsageError(f"--junit {path}: cannot write: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------------------------
# GitHub Actions


def _escape_data(text: str) -> str:
    """A workflow command's message: control characters shown escaped (escaping.py), so a
    newline in an id can neither end the command nor start one of its own; then GitHub's own
    escapes, which leave no raw CR or LF either way."""
    return shown(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: CheckResult) -> list[str]:
    """Workflow commands: `::error title=...::reason` per failed gate, else one `::notice`."""
    lines = []
    for gate in result.failures:
        where = "inputs" if gate.workflow_id is None else gate.workflow_id
        title = _escape_property(f"argus {gate.name} ({where})")
        lines.append(f"::error title={title}::{_escape_data(gate.reason)}")
    if not lines:
        held = f"all {len(result.gates)} gates held"
        lines.append(f"::notice title={_escape_property('argus check')}::{_escape_data(held)}")
    return lines


def write_github(
    result: CheckResult, summary_markdown: str, out: TextIO, env: Mapping[str, str]
) -> None:
    """Annotations to `out`; the Markdown summary appended to `$GITHUB_STEP_SUMMARY` if set."""
    for line in github_annotations(result):
        out.write(line + "\n")
    append_step_summary(summary_markdown, env)


def append_step_summary(markdown: str, env: Mapping[str, str]) -> Path | None:
    """Append to the step summary file; a failure to do so is a warning, not a lost gate."""
    name = env.get(STEP_SUMMARY)
    if not name:
        return None
    path = Path(name)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        warn(f"cannot append to ${STEP_SUMMARY} ({name}): {exc.strerror or exc}")
        return None
    return path
