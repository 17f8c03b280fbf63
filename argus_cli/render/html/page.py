"""The page's building blocks: escaping, cells that carry their exact number, charts and the
document around them.

Every number shown is rounded for people, and carries the exact value of the JSON report in
`data-v` (its key in `data-k`), so a test or a script can check the page against `--json`.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from argus_cli.escaping import shown
from argus_cli.render.base import _json_safe
from argus_cli.render.html.assets import CSP, DRAW_CHARTS, STYLE, vega_bundle


def esc(text: object) -> str:
    """Text for HTML: escaped, control characters shown as escapes (as in the terminal)."""
    return html.escape(shown(str(text)), quote=True)


def exact(value: Any) -> str:
    """A value as the JSON report writes it (non-finite floats are null there too)."""
    return json.dumps(_json_safe(value), ensure_ascii=False)


def script_json(data: Any) -> str:
    """JSON to sit inside a <script> element: "<", ">" and "&" only as \\u escapes (valid
    JSON, the same strings), so no "</script>" or "<!--" in a name can end or bend it."""
    text = json.dumps(_json_safe(data), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def value(key: str, number: Any, text: str) -> str:
    """One number in running text: shown as `text`, exact in data-v."""
    return f'<span data-k="{esc(key)}" data-v="{html.escape(exact(number))}">{esc(text)}</span>'


def td(key: str, number: Any, text: str, extra: str = "", path: str = "") -> str:
    """A table cell holding one number (and, maybe, a bar after it); `path` when the cell's
    object is not its row's."""
    at = f' data-path="{esc(path)}"' if path else ""
    return (
        f'<td{at} data-k="{esc(key)}" data-v="{html.escape(exact(number))}">{esc(text)}{extra}</td>'
    )


def text_td(text: str) -> str:
    return f'<td class="text">{esc(text)}</td>'


def bar(share: float | None, risk: bool = False) -> str:
    """A CSS bar for a share in [0, 1]: tables stay tables, the bar only helps the eye."""
    if share is None or not math.isfinite(share):
        return ""
    width = max(0.0, min(1.0, share)) * 100
    kind = "bar risk" if risk else "bar"
    return (
        f'<span class="{kind}" aria-hidden="true"><span style="width:{width:.1f}%"></span></span>'
    )


def table(
    headers: Sequence[str],
    rows: Iterable[str],
    *,
    left: Sequence[int] = (),
    cls: str = "",
) -> str:
    """A table of ready rows (`<tr>...</tr>` strings); `left` names the text columns."""
    text = ' class="text"'
    head = "".join(
        f'<th{text if i in left else ""} scope="col">{esc(h)}</th>' for i, h in enumerate(headers)
    )
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def tr(cells: Iterable[str], attrs: dict[str, str] | None = None) -> str:
    extra = "".join(f' {k}="{esc(v)}"' for k, v in (attrs or {}).items())
    return f"<tr{extra}>{''.join(cells)}</tr>"


class Charts:
    """The charts of one page: each a placeholder and its Vega-Lite spec."""

    def __init__(self) -> None:
        self.count = 0

    def chart(self, spec: dict[str, Any], label: str) -> str:
        self.count += 1
        spec = {"description": label, **spec}  # Vega makes it the chart's aria-label
        target = f"chart-{self.count}"
        return (
            f'<div class="chart" id="{target}" role="img" aria-label="{esc(label)}">'
            f'<p class="muted">{esc(label)}: the chart needs JavaScript; '
            "the table beside it holds the same numbers.</p></div>"
            f'<script type="application/json" class="vl-spec" data-target="{target}">'
            f"{script_json(spec)}</script>"
        )


def document(title: str, body: str, data: dict[str, Any], charts: Charts) -> str:
    """The whole file: styles, the report's JSON, the body, and the chart runtime when any
    chart was drawn."""
    runtime = ""
    if charts.count:
        runtime = f"<script>{vega_bundle()}</script><script>{DRAW_CHARTS}</script>"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"{body}"
        '<script type="application/json" id="argus-data">'
        f"{script_json(data)}</script>"
        f"{runtime}</body></html>\n"
    )
