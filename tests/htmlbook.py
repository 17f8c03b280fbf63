"""Reading an argus HTML page back: its JSON, every number it shows, its tables and charts.

A small tree builder over the standard library's html.parser, so that tests check the page as
a browser would see its elements, not as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

SUPPORT_DESK = Path(__file__).parent.parent / "sample_traces" / "support_desk.jsonl"

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr", "area", "base"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: str = ""  # of a "#text" node

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.walk()
            if n.tag == tag and (cls is None or cls in n.attrs.get("class", "").split())
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(Node("#text", {}, self.current, text=data))


def parse(page: str) -> Node:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    return builder.root


def page_data(root: Node) -> dict[str, Any]:
    (island,) = [n for n in root.find_all("script") if n.attrs.get("id") == "argus-data"]
    return json.loads(island.all_text())


def resolve(data: Any, path: str) -> Any:
    for part in [p for p in path.split("/") if p]:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def shown_numbers(root: Node) -> list[tuple[str, str, Any]]:
    """(path, key, exact value) of every number the page shows."""
    found = []
    for node in root.walk():
        if "data-k" not in node.attrs:
            continue
        holder: Node | None = node
        while holder is not None and "data-path" not in holder.attrs:
            holder = holder.parent
        assert holder is not None, f"a number without its place: {node.attrs}"
        found.append(
            (holder.attrs["data-path"], node.attrs["data-k"], json.loads(node.attrs["data-v"]))
        )
    return found


def structure(root: Node) -> list[Any]:
    """The page's outline: headings, and each table's class, headers and row count."""
    outline: list[Any] = []
    for node in root.walk():
        if node.tag in ("h1", "h2", "h3", "h4"):
            outline.append([node.tag, " ".join(node.all_text().split())])
        elif node.tag == "table":
            headers = [" ".join(th.all_text().split()) for th in node.find_all("th")]
            rows = len(node.find_all("tbody")[0].find_all("tr"))
            outline.append(["table", node.attrs.get("class", ""), headers, rows])
        elif node.tag == "div" and "chart" in node.attrs.get("class", "").split():
            outline.append(["chart", node.attrs.get("aria-label", "")])
    return outline


def lookup(data: Any, path: str, key: str) -> Any:
    """The JSON value a number names: its object's path, then its (dotted) key."""
    found = resolve(data, path)
    for part in key.split("."):
        found = found[part]
    return found


def two_day_trace(folder: Path) -> Path:
    """The support-desk sample with the runs whose id ends in 0-7 moved to the next day."""
    lines = []
    for line in SUPPORT_DESK.read_text(encoding="utf-8").splitlines():
        if json.loads(line).get("run_id", "")[-1:] in "01234567":
            line = line.replace("2026-04-01T", "2026-04-02T")
        lines.append(line)
    path = folder / "two_days.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
