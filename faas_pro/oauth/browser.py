"""Which browser opens the login page, and when none should (docs/auth.md, "Which browser").

An explicit ``--browser-command`` or ``BROWSER`` always wins: the command runs with the URL as its
last argument, or in place of ``%s``, through ``Popen`` without a shell and is not waited for.
Without one, the default browser opens only when there is a display: on Linux and the BSDs no
``DISPLAY``/``WAYLAND_DISPLAY`` means none, and an SSH session never opens one; in both cases the
login behaves as ``--no-browser`` and says why on stderr. Only http(s) URLs are ever opened.

``choose_browser`` makes that decision once per login; the ``Browser`` it returns answers both
"is there a browser?" (``available``) and "open this URL" (``open``), so the two never disagree.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from faas_pro.errors import FaasProError, UsageError


@dataclass(frozen=True)
class BrowserPlan:
    """``command`` (argv without the URL) to run, or ``use_default``, or neither with ``reason``."""

    command: tuple[str, ...] | None = None
    use_default: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Browser:
    """This run's browser: ``plan`` says which (or why none); ``opener`` is an injected default
    browser (tests, embedders) that stands in for the system's; ``declined``: ``--no-browser``."""

    plan: BrowserPlan
    opener: Callable[[str], bool] | None = None
    declined: bool = False

    @property
    def available(self) -> bool:
        return self.plan.command is not None or self.plan.use_default

    @property
    def reason(self) -> str:
        """Why no browser opens ("" when one does)."""
        return self.plan.reason

    def open(self, url: str) -> bool:
        """Start it at ``url`` (only http(s), checked even when none opens); True when one started."""
        return open_browser(self.plan, url, self.opener)


def choose_browser(
    *,
    no_browser: bool,
    command: str | None,
    env: Mapping[str, str],
    opener: Callable[[str], bool] | None = None,
    platform: str = sys.platform,
) -> Browser:
    """The one decision: ``--no-browser`` > ``--browser-command`` > ``BROWSER`` > ``opener`` > the
    system's default browser when there is a display (see the module docstring)."""
    if no_browser:
        return Browser(BrowserPlan(reason="--no-browser"), declined=True)
    plan = plan_browser(no_browser=False, command=command, env=env, platform=platform)
    if plan.command is None and opener is not None:
        return Browser(BrowserPlan(use_default=True), opener)
    return Browser(plan)


def split_command(cmd: str) -> tuple[str, ...]:
    try:
        argv = tuple(shlex.split(cmd, posix=os.name != "nt"))
    except ValueError as e:
        raise UsageError(f"--browser-command cannot be parsed: {e}") from e
    if not argv:
        raise UsageError("--browser-command is empty")
    return argv


def plan_browser(
    *, no_browser: bool, command: str | None, env: Mapping[str, str], platform: str = sys.platform
) -> BrowserPlan:
    if no_browser:
        return BrowserPlan(reason="--no-browser")
    if command:
        return BrowserPlan(command=split_command(command))
    browser_env = env.get("BROWSER", "").strip()
    if browser_env:
        # webbrowser's convention: a list separated by os.pathsep; the first entry is used
        return BrowserPlan(command=split_command(browser_env.split(os.pathsep)[0]))
    if env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"):
        return BrowserPlan(reason="this is an SSH session")
    if platform not in ("darwin", "win32", "cygwin") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return BrowserPlan(reason="there is no display (DISPLAY/WAYLAND_DISPLAY unset)")
    return BrowserPlan(use_default=True)


def command_argv(command: tuple[str, ...], url: str) -> list[str]:
    if any("%s" in a for a in command):
        return [a.replace("%s", url) for a in command]
    return [*command, url]


def check_openable(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FaasProError("refusing to open a URL that is not http(s) in the browser")


def open_browser(plan: BrowserPlan, url: str, default_opener: Callable[[str], bool] | None = None) -> bool:
    """Start the browser (never waited for); True when one was started."""
    check_openable(url)
    if plan.command is not None:
        argv = command_argv(plan.command, url)
        try:
            subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout belongs to the token
                close_fds=True,
                start_new_session=True,
            )
        except OSError as e:
            raise FaasProError(f"cannot run the browser command {argv[0]!r}: {e.strerror or e}") from e
        return True
    if plan.use_default:
        if default_opener is not None:
            return default_opener(url)
        import webbrowser

        try:
            return webbrowser.open(url, new=1)
        except webbrowser.Error:
            return False
    return False
