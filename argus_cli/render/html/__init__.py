"""`--format html`: one self-contained page (styles, data and the chart runtime inline) for
`argus report`, `argus check` (the gates above the report) and `argus diff` (both sides).

- assets: the Vega-Lite runtime (the optional `html` extra), the style sheet, the draw script
- page: escaping, cells with exact values, the document
- charts: the Vega-Lite specs
- report: the report's sections; gates: check and diff pages
"""

from __future__ import annotations

from argus_cli.render.html.assets import MISSING_EXTRA, require_html
from argus_cli.render.html.gates import check_html, diff_html, report_html

__all__ = ["MISSING_EXTRA", "check_html", "diff_html", "report_html", "require_html"]
