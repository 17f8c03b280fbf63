"""Golden files: rendered output compared byte for byte with tests/golden/NAME.

ARGUS_UPDATE_GOLDEN=1 rewrites them after a deliberate change to the output (review the diff).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[")
UPDATE = os.environ.get("ARGUS_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
