"""A real Secret Service for keyring tests and benchmarks: a private D-Bus session bus with an
unlocked gnome-keyring on it (Debian's dbus-daemon and gnome-keyring, installed by scripts/test)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PROBE = "from keyring.backends.SecretService import Keyring as K; K.priority"


@contextmanager
def secret_service(root: Path, password: bytes = b"test-keyring-password", timeout: float = 20.0) -> Iterator[str]:
    """Start the bus and the keyring under ``root`` (their HOME and XDG dirs); yields the bus address
    (``DBUS_SESSION_BUS_ADDRESS``) once ``org.freedesktop.secrets`` answers; stops both at the end."""
    run = root / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_RUNTIME_DIR": str(run),
    }
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        env={**env, "DBUS_SESSION_BUS_ADDRESS": address},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(password)
    daemon.stdin.close()
    try:
        if not address.startswith("unix:"):
            raise AssertionError(f"dbus-daemon printed no address: {address!r}")
        _wait(address, timeout)
        yield address
    finally:
        for p in (daemon, bus):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        bus.stdout.close()


def _wait(address: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    while time.monotonic() < deadline:
        if subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("gnome-keyring did not register org.freedesktop.secrets")
