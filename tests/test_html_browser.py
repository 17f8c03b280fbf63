"""The HTML report in a real browser: headless Chromium opens the file with the network off,
the charts are drawn, the page asks for nothing outside itself, and it is not blank.

Marked `browser`: skipped where Chromium is missing (`apt-get install chromium`), except in CI
(CI set), where .ci/run installs it and a missing browser fails. Every connection Chromium
attempts goes to a local socket that records it (--proxy-server), names resolve to nothing
(--host-resolver-rules), and the browser's net log says who asked for each URL: the page
(initiator "null", a file's opaque origin) or the browser itself ("not an origin": its update
and account services, which no flag fully silences). ARGUS_UPDATE_SCREENSHOT=1 keeps the
screenshot as docs/img/report.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from htmlbook import parse, two_day_trace
from typer.testing import CliRunner

from argus_cli.cli import app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parent.parent
SAMPLES = Path("sample_traces")  # relative to ROOT, where the tests run: the page names it so
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--virtual-time-budget=10000",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs these tests")
    return CHROMIUM


class Recorder:
    """A local socket posing as the proxy: it records the first line of every connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    first = b"(nothing sent)"
                self.lines.append(first.decode("latin-1"))

    def hosts(self) -> set[str]:
        """The hosts asked for: `CONNECT host:443` or `GET http://host/...`."""
        found = set()
        for line in self.lines:
            parts = line.split()
            if len(parts) >= 2:
                target = parts[1]
                found.add(
                    target.rsplit(":", 1)[0]
                    if parts[0] == "CONNECT"
                    else urlsplit(target).hostname or target
                )
        return found

    def close(self) -> None:
        self.server.close()


def _requests(net_log: Path) -> list[tuple[str, str]]:
    """(url, initiator) of every URL request in Chromium's net log."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and params.get("url"):
            found.append((params["url"], str(params.get("initiator"))))
    return found


def browse(chromium: str, page: Path, work: Path, *extra: str) -> tuple[str, list[str], set[str]]:
    """Open `page`: the DOM after its scripts ran (or Chromium's output), the http(s) URLs the
    page asked for, and the hosts of connections the browser itself attempted."""
    recorder = Recorder()
    net_log = work / "net.json"
    try:
        done = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={work / 'profile'}",
                f"--proxy-server=http://127.0.0.1:{recorder.port}",
                f"--log-net-log={net_log}",
                *extra,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        recorder.close()
    assert done.returncode == 0, done.stderr[-2000:]
    requests = _requests(net_log)
    by_page = [
        url
        for url, initiator in requests
        if initiator != "not an origin" and urlsplit(url).scheme not in ("file", "data", "blob")
    ]
    browser_hosts = {
        urlsplit(url).hostname or "" for url, initiator in requests if initiator == "not an origin"
    }
    unexplained = recorder.hosts() - browser_hosts
    return done.stdout, by_page, unexplained


def _write_page(args: list[str], target: Path) -> Path:
    result = CliRunner().invoke(app, [*args, "--format", "html", "-o", str(target)])
    assert result.exit_code in (0, 1), result.output
    return target


def test_the_detector_sees_a_page_that_reaches_out(chromium, tmp_path):
    """The check can fail: a page with an image and a script from other hosts is caught."""
    page = tmp_path / "reaches_out.html"
    page.write_text(
        '<!DOCTYPE html><img src="http://example.com/a.png">'
        '<script src="https://cdn.example.org/x.js"></script>',
        encoding="utf-8",
    )
    _, by_page, _ = browse(chromium, page, tmp_path, "--dump-dom")
    assert {urlsplit(u).hostname for u in by_page} == {"example.com", "cdn.example.org"}


@pytest.mark.parametrize(
    "args",
    [
        ["report", str(SAMPLES)],
        ["check", str(SAMPLES)],
        ["diff", str(SAMPLES / "claims_coding.jsonl"), str(SAMPLES)],
        ["report", "tests/data/awkward.jsonl"],  # unicode names, no timestamps, odd hops
        ["report", "TWO_DAYS"],  # the trend's charts
    ],
    ids=["report", "check", "diff", "awkward", "trend"],
)
def test_charts_render_offline(chromium, tmp_path, args):
    trend = "TWO_DAYS" in args
    args = [str(two_day_trace(tmp_path)) if a == "TWO_DAYS" else a for a in args]
    page = _write_page(args, tmp_path / "page.html").resolve()
    assert page.stat().st_size < 2 * 1024 * 1024
    dom, by_page, unexplained = browse(chromium, page, tmp_path, "--dump-dom")
    assert by_page == []
    assert unexplained == set()
    root = parse(dom)
    specs = root.find_all("script", "vl-spec")
    charts = root.find_all("div", "chart")
    assert specs and len(charts) == len(specs)
    labels = [c.attrs.get("aria-label", "") for c in charts]
    assert any(label.startswith("trend of") for label in labels) == trend
    for chart in charts:
        label = chart.attrs.get("aria-label")
        assert chart.attrs.get("data-rendered") == "yes", (label, chart.all_text()[:200])
        svgs = chart.find_all("svg")
        assert svgs, label
        marks = [n for n in svgs[0].walk() if n.tag in ("path", "circle", "line", "rect", "text")]
        assert len(marks) > 10, label


def test_screenshot_is_not_blank(chromium, tmp_path):
    from PIL import Image, ImageStat

    page = _write_page(["report", str(SAMPLES / "support_desk.jsonl")], tmp_path / "page.html")
    shot = tmp_path / "report.png"
    page = page.resolve()
    _, by_page, unexplained = browse(
        chromium, page, tmp_path, "--window-size=1280,1800", f"--screenshot={shot}"
    )
    assert by_page == [] and unexplained == set()
    with Image.open(shot) as image:
        assert image.size == (1280, 1800)
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 20  # not one flat colour
        inked = sum(grey.histogram()[:200]) / (1280 * 1800)
        assert inked > 0.03  # text, tables and charts, not a white page
        colours = image.convert("RGB").getcolors(1 << 20) or []
        assert len(colours) > 200  # the charts' colour scales, not only black on white
    if os.environ.get("ARGUS_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "img" / "report.png")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch) -> Iterator[None]:
    monkeypatch.chdir(ROOT)
    yield


def test_numbers_readable_without_javascript(chromium, tmp_path):
    """Without its scripts the charts say so and every table is there, numbers and all.

    The scripts are taken out of the file (headless Chromium dumps no DOM with JavaScript
    switched off): what the browser then shows is what a reader without JavaScript sees.
    """
    page = _write_page(["report", str(SAMPLES)], tmp_path / "page.html")
    text = page.read_text(encoding="utf-8")
    bare = re.sub(r"<script>.*?</script>", "", text, flags=re.DOTALL)
    assert len(bare) < len(text) - 500_000  # the runtime is gone
    page.write_text(bare, encoding="utf-8")
    dom, by_page, _ = browse(chromium, page.resolve(), tmp_path, "--dump-dom")
    assert by_page == []
    root = parse(dom)
    charts = root.find_all("div", "chart")
    assert charts and all(not c.find_all("svg") for c in charts)
    assert all("needs JavaScript" in c.all_text() for c in charts)
    hops = [r for r in root.find_all("tr") if "/hops/" in r.attrs.get("data-path", "")]
    assert len(hops) == 4 + 5 + 7
    assert all(td.all_text().strip() for r in hops for td in r.find_all("td"))
