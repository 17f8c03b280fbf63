"""What the page carries inline: the Vega-Lite runtime, its style sheet and the script that
draws each chart.

The charts are Vega-Lite specs drawn in the browser by Vega-Embed, whose runtime (Vega, Vega-Lite,
Vega-Embed, about 900 KB) vl-convert-python bundles: one well-kept library, inlined, so the file
opens offline with tooltips, and the numbers stay readable without JavaScript in the HTML
tables. vl-convert is large (about 85 MB installed), so it is the optional `html` extra; making
its bundle starts a JavaScript engine (seconds), so the bundle is kept in the user's cache.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from argus_cli.diagnostics import UsageError

MISSING_EXTRA = (
    "--format html needs the html extra (vl-convert-python): pip install 'argus-cli[html]'"
)


def _vl_convert() -> object:
    try:
        import vl_convert
    except ImportError:
        raise UsageError(MISSING_EXTRA) from None
    return vl_convert


def require_html(output: Path | None = None) -> None:
    """Fail early (exit 2), before any trace is read: without the extra, with the one-line
    install hint; with no -o and a terminal as stdout, where a megabyte of page helps no one."""
    _vl_convert()
    if output is None and sys.stdout.isatty():
        raise UsageError(
            "--format html writes a page, not a terminal view: give -o report.html "
            "(or redirect stdout to a file)"
        )


def vega_lite_version() -> str:
    vlc = _vl_convert()
    return str(vlc.get_vegalite_versions()[-1])  # type: ignore[attr-defined]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "argus"


def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script that sets window.vegaEmbed.

    Read from the cache when an earlier run made it for the same versions; a cache that cannot
    be written is no error (the bundle is then made each time).
    """
    vlc = _vl_convert()
    version = vega_lite_version()
    name = f"vega-embed-{vlc.get_vega_embed_version()}-vl{version}.js"  # type: ignore[attr-defined]
    cached = _cache_dir() / name
    with contextlib.suppress(OSError):
        return cached.read_text(encoding="utf-8")
    bundle = str(vlc.javascript_bundle(vl_version=version))  # type: ignore[attr-defined]
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=cached.parent, delete=False, suffix=".tmp"
        ) as out:
            out.write(bundle)
        os.replace(out.name, cached)
    return bundle


# Draws every chart whose spec the page holds; a chart that fails says so in its place. The
# page's tables hold every number, so nothing is lost without JavaScript.
DRAW_CHARTS = """
(function () {
  var specs = document.querySelectorAll('script.vl-spec');
  specs.forEach(function (el) {
    var target = document.getElementById(el.getAttribute('data-target'));
    if (!target) { return; }
    target.textContent = '';
    vegaEmbed(target, JSON.parse(el.textContent), {actions: false, renderer: 'svg'})
      .then(function () { target.setAttribute('data-rendered', 'yes'); })
      .catch(function (err) { target.textContent = 'chart not drawn: ' + err; });
  });
})();
"""

# Nothing in the page may reach a network: the browser itself refuses any request but inline
# code and data (Vega compiles its expressions, hence 'unsafe-eval').
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:"
)

STYLE = """
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de;
        --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 22px 0 6px; }
p.lead, .muted { color: var(--muted); }
nav a { margin-right: 12px; }
.banner { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 10px;
          margin: 12px 0; }
.fact { background: var(--bg); border: 1px solid var(--line); border-radius: 8px;
        padding: 10px 12px; }
.fact .label { color: var(--muted); font-size: 12px; text-transform: uppercase; }
.fact .value { font-size: 22px; font-weight: 600; }
.fact.name .value { font-size: 17px; overflow-wrap: anywhere; }
.fact .note { font-size: 12px; color: var(--muted); }
.fact.bad { border-color: var(--bad); } .fact.bad .value { color: var(--bad); }
.fact.good .value { color: var(--ok); }
table { border-collapse: collapse; margin: 8px 0 4px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right;
         vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: normal;
     vertical-align: bottom; }
th.text, td.text { text-align: left; white-space: normal; }
.bar { display: inline-block; width: 60px; height: 8px; background: #eaeef2; margin-left: 6px;
       border-radius: 2px; vertical-align: middle; position: relative; }
.bar > span { display: block; height: 100%; background: var(--ok); border-radius: 2px; }
.bar.risk > span { background: var(--bad); }
.chart { margin: 8px 0; min-height: 40px; overflow-x: auto; }
.pass { color: var(--ok); } .fail, .problem { color: var(--bad); } .warning { color: var(--warn); }
ul.findings { padding-left: 18px; } ul.findings li { margin: 3px 0; }
details { margin: 2px 0; } summary { cursor: pointer; }
pre.tree { font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
           background: var(--bg); padding: 8px; border-radius: 6px; overflow-x: auto; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""
