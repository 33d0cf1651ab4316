"""The per-user, per-gateway login lock (docs/security.md rule 8): one browser, one refresh at a time.

``<data_dir>/locks/<sha256(gateway)[:24]>.lock``, held with the ``filelock`` package (``fcntl``/
``msvcrt``: released by the OS if the holder dies). The gateway is hashed so that a URL never
becomes a path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faas_pro.errors import FaasProError
from faas_pro.storage._files import ensure_private_dir
from faas_pro.urls import normalise_gateway


class LockBusy(FaasProError):
    """Another faas-pro run held the gateway's lock for longer than the caller would wait.

    Its own type so that callers waiting for the lock catch exactly this, and never mistake another
    failure (a directory that cannot be created, a corrupt file) for "busy".
    """


def lock_path(data_dir: Path, gateway: str) -> Path:
    digest = hashlib.sha256(normalise_gateway(gateway).encode()).hexdigest()[:24]
    return Path(data_dir) / "locks" / f"{digest}.lock"


@contextmanager
def gateway_lock(data_dir: Path, gateway: str, timeout: float = 300.0) -> Iterator[None]:
    """Hold the lock for ``gateway``; waiting longer than ``timeout`` seconds is ``LockBusy``."""
    import filelock

    path = lock_path(data_dir, gateway)
    ensure_private_dir(path.parent.parent)
    ensure_private_dir(path.parent)
    lock = filelock.FileLock(str(path), timeout=timeout, mode=0o600, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockBusy(
            f"another faas-pro is logging in to {normalise_gateway(gateway)}; waited {timeout:g}s",
            "try again when it has finished",
        ) from None
    try:
        yield
    finally:
        lock.release()
