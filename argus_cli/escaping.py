"""Control characters in trace content, shown escaped wherever people or CI runners read it.

Run ids, hop ids, workflow ids, error messages and file names come from the traces (and the file
system), not from argus. Written raw, an escape code (`\\x1b[2J`) repaints the terminal, a carriage
return overwrites a line, and a newline ends a GitHub workflow command early and starts another
(`::error::` injected into a CI log). `shown()` is the one rule for every human or CI output:
Rich tables and trees, Markdown, stderr diagnostics, JUnit XML, GitHub annotations. JSON and CSV
keep the raw values: their writers quote them.

What is escaped: the C0 controls (U+0000-U+001F, tab and newline included), DEL, the C1
controls (U+0080-U+009F, U+009B is a one-byte CSI), and the Unicode line and paragraph
separators and bidirectional overrides, which reorder or break lines in a viewer. Backslashes
are not doubled: a Windows path stays readable, at the cost of `\\n` in an id being spelt like an
escaped newline.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with every control character spelt as an escape, a newline as the two characters
    backslash and n, an ESC as the four characters backslash, x, 1, b."""
    return _CONTROL.sub(_escape, text)


T = TypeVar("T")


def shown_all(value: T) -> T:
    """A copy of `value` with `shown()` applied to every string in it (dict keys included),
    through lists, tuples, dicts and dataclasses: a model made safe to render for people.

    Only exact `str` values change; str enums and other subclasses are argus's own and kept.
    """
    return _shown_all(value, {})  # type: ignore[no-any-return]


def _shown_all(value: Any, seen: dict[int, Any]) -> Any:
    if type(value) is str:
        return shown(value)
    if isinstance(value, dict):
        return {_shown_all(k, seen): _shown_all(v, seen) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_shown_all(v, seen) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if id(value) in seen:
            return seen[id(value)]
        copy = object.__new__(type(value))
        seen[id(value)] = copy
        state = getattr(value, "__dict__", None)
        if state is not None:
            copy.__dict__.update(state)
        for f in dataclasses.fields(value):
            object.__setattr__(copy, f.name, _shown_all(getattr(value, f.name), seen))
        return copy
    return value
