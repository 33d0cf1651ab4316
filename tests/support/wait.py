"""``wait_until``: poll a condition until it holds, or fail the test."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], seconds: float = 20.0, interval: float = 0.1) -> None:
    """Poll ``check`` every ``interval`` seconds until it is true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)
