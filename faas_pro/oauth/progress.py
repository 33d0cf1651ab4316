"""A transient progress line on stderr for the waits that can take long (rich, imported lazily).

It exists only when stderr is a terminal: on a pipe or a file nothing at all is written, so logs and
CI output stay exactly as before. Texts are functions, re-evaluated at every refresh, so a line can
count down ("4m59s left"). Only one line is live at a time; nested calls show the inner one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from faas_pro.oauth.duration import format_duration

REFRESH_PER_SECOND = 4
SLOW_AFTER = 1.0  # seconds before a fetch earns a spinner


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def remaining(deadline: float, now: float) -> str:
    """``4m59s left`` (whole seconds, never negative)."""
    return f"{format_duration(max(0, int(deadline - now)))} left"


class Progress:
    """``status(text)`` and ``slow(text)``; both are no-ops unless ``enabled``."""

    def __init__(self, stream: TextIO, *, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = is_terminal(stream) if enabled is None else enabled
        self._live: Any = None

    @contextmanager
    def status(self, text: Callable[[], str]) -> Iterator[None]:
        """Show a spinner and ``text()`` until the block ends (then the line is erased)."""
        if not self.enabled or self._live is not None:
            yield
            return
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        spinner = Spinner("dots", text=text())

        def render() -> Spinner:
            spinner.update(text=text())
            return spinner

        console = Console(file=self.stream, stderr=True, highlight=False)
        live = Live(console=console, get_renderable=render, refresh_per_second=REFRESH_PER_SECOND, transient=True)
        live.start()
        self._live = live
        try:
            yield
        finally:
            self._live = None
            live.stop()

    @contextmanager
    def slow(self, text: str, after: float = SLOW_AFTER) -> Iterator[None]:
        """Show ``text`` only if the block is still running after ``after`` seconds (fetches)."""
        if not self.enabled:
            yield
            return
        done = threading.Event()
        shown: list[Any] = []

        def later() -> None:
            if not done.wait(after):
                cm = self.status(lambda: text)
                cm.__enter__()
                shown.append(cm)

        t = threading.Thread(target=later, name="faas-pro-progress", daemon=True)
        t.start()
        try:
            yield
        finally:
            done.set()
            t.join()
            for cm in shown:
                cm.__exit__(None, None, None)
