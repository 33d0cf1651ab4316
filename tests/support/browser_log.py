"""The step log both test browsers write (chromium_browser.py, http_browser.py): with
``TEST_BROWSER_LOG=FILE``, one JSON line per step is appended; the last one has ``"done": true``."""

from __future__ import annotations

import json
import os
from typing import Any


def log_step(**event: Any) -> None:
    path = os.environ.get("TEST_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
