"""The support desk every real-SDK application plays: a request routed to the billing or the
technical specialist, its question carrying the `[run:NAME]` marker the fake model server's
script is keyed on. Each application's `Case` adds its own faults and truths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DeskCase:
    """One request: its name (the run's marker) and the specialist it is routed to."""

    name: str
    route: Literal["billing", "tech"]

    @property
    def marker(self) -> str:
        return f"[run:{self.name}]"

    @property
    def specialist(self) -> str:
        return f"{self.route}_agent"

    @property
    def question(self) -> str:
        if self.route == "billing":
            return f"{self.marker} Why was I charged twice on invoice INV-{self.name}?"
        return f"{self.marker} My VPN keeps dropping, ticket {self.name}."
