"""The command reference (docs/cli.md), generated from the Typer app so it cannot go stale.

`python -m argus_cli.cli.reference > docs/cli.md` writes it; tests/test_cli_reference.py fails
when the committed page differs. It is built from the commands' click parameters (names, value
names, defaults, help), not from `--help` as a terminal shows it: Rich's wrapping and colour
depend on the terminal, and the page must come out byte for byte the same everywhere.
"""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from typer.main import get_command

from argus_cli.cli import app

HEADER = """\
# Command reference

<!-- Generated from the Typer app by `python -m argus_cli.cli.reference > docs/cli.md`; do not
edit by hand: tests/test_cli_reference.py fails while this page differs from what it generates. -->

Every command and option, as `argus COMMAND --help` gives them (every command takes `--help`);
what the exit codes mean is on [Inputs, bad input and exit codes](bad-input.md#exit-codes).
"""

# Value names for parameters that name none, by the Python type they are parsed as.
_TYPE_NAMES = {int: "INTEGER", float: "FLOAT", str: "TEXT", Path: "PATH", bool: "BOOLEAN"}
_MARKDOWN = re.compile(r"([\\`*<>\[\]|])")


def _text(text: str) -> str:
    """Help text as Markdown that shows it literally: wrapped lines joined, specials escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _annotation(param: Any) -> Any:
    """The Python type a parameter is parsed as (list[X] gives X), where Typer records it."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation: Any = getattr(descriptor, "annotation", None)
    while args := [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]:
        annotation = args[0]
    return annotation


def _choices(param: Any) -> list[str]:
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return [str(c) for c in getattr(getattr(param, "type", None), "choices", None) or []]


def _value(param: Any) -> str:
    """What an option takes, in words: nothing for a flag, its choices, or its value name."""
    if getattr(param, "is_flag", False):
        return ""
    choices = _choices(param)
    if choices:
        return "one of " + ", ".join(f"`{c}`" for c in choices)
    name = param.metavar
    if not name:
        annotation = _annotation(param)
        name = _TYPE_NAMES.get(annotation) or getattr(getattr(param, "type", None), "name", "")
        name = str(name).upper() or "VALUE"
    if param.nargs > 1:
        name = " ".join([name] * param.nargs) if " " not in name else name
    return f"`{name}`"


def _default(param: Any) -> str:
    default = param.default
    if not getattr(param, "show_default", True) or default in (None, False, [], ()):
        return ""
    if callable(default):
        return ""
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, (list, tuple)):
        default = " ".join(str(d.value if isinstance(d, Enum) else d) for d in default)
    return f"`{default}`"


def _usage(name: str, command: Any) -> str:
    pieces = [f"argus {name}", "[OPTIONS]"]
    for param in command.params:
        if param.param_type_name != "argument":
            continue
        word = (param.metavar or param.name).upper() + ("..." if param.nargs == -1 else "")
        pieces.append(word if param.required else f"[{word}]")
    return " ".join(pieces)


def _rows(command: Any) -> list[str]:
    rows = ["| argument or option | takes | default | meaning |", "|---|---|---|---|"]
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            word = (param.metavar or param.name).upper() + ("..." if param.nargs == -1 else "")
            names = f"`{word}`"
            takes = "required" if param.required else "optional"
        else:
            names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
            takes = _value(param)
            if param.multiple:
                takes += " (repeatable)" if takes else "repeatable"
        meaning = _text(param.help or "")
        rows.append(f"| {names} | {takes} | {_default(param)} | {meaning} |")
    return rows


def _help(text: str) -> str:
    """A command's docstring as Markdown paragraphs."""
    return "\n\n".join(_text(p) for p in re.split(r"\n\s*\n", text.strip()) if p.strip())


def generate() -> str:
    """The whole page, as Markdown."""
    group = get_command(app)
    out = [HEADER]
    out.append("## argus\n")
    out.append("```text\nargus [--version] COMMAND [ARGS]...\n```\n")
    out.append(_help(group.help or "") + "\n")
    out.extend(_rows(group))
    out.append("")
    for name in sorted(group.commands):  # type: ignore[attr-defined]
        command = group.commands[name]  # type: ignore[attr-defined]
        out.append(f"## argus {name}\n")
        out.append(f"```text\n{_usage(name, command)}\n```\n")
        out.append(_help(command.help or "") + "\n")
        out.extend(_rows(command))
        out.append("")
    return "\n".join(out)


def main() -> None:
    sys.stdout.write(generate())


if __name__ == "__main__":
    main()
