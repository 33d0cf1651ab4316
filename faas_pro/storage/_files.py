"""Private JSON files: 0700 directories, 0600 files, atomic replace, symlinks refused.

Every write serialises first (a failure leaves the old file untouched), writes a fresh temp file
created with ``O_EXCL|O_NOFOLLOW`` in the same directory, fsyncs it, renames it over the target
and fsyncs the directory. A reader therefore sees the old file or the new one, never a mix.
A file that does not parse is reported with its path and never overwritten or deleted.
Read-modify-write cycles run under a per-file lock (``<file>.lock``) so that two processes do
not lose each other's updates.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faas_pro.errors import FaasProError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
MAX_FILE_BYTES = 4 * 1024 * 1024


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700; refuse it when it is a symlink, another user's,
    or writable by group or others (faas_pro/guards.py)."""
    from faas_pro.guards import check_private_dir

    if path.is_symlink():
        raise FaasProError(f"refusing to use {path}: it is a symbolic link")
    check_private_dir(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:  # e.g. a file is in the way: one line naming the path, not a traceback
        raise FaasProError(f"cannot create the directory {path}: {e.strerror or type(e).__name__}") from e
    if os.name == "posix":
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != 0o700:
            path.chmod(0o700)


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise FaasProError(f"refusing to use {path}: it is a symbolic link")


def read_json(path: Path) -> Any | None:
    """The parsed file, or None when it does not exist. Corrupt: FaasProError naming the path.
    The directory is checked first (faas_pro/guards.py): a file anyone else can swap is not read."""
    from faas_pro.guards import check_private_dir

    _refuse_symlink(path)
    check_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FaasProError(f"cannot read {path}: {e.strerror}") from e
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise FaasProError(f"{path} is larger than {MAX_FILE_BYTES} bytes", "move it away and run again")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FaasProError(f"{path} is not valid JSON (left untouched)", "fix it or move it away") from e


def corrupt(path: Path, what: str) -> FaasProError:
    return FaasProError(f"{path} is not a valid {what} file (left untouched)", "fix it or move it away")


def read_secret_file(path: Path, what: str) -> bytes:
    """The content of a key or secret file, surrounding whitespace stripped; one clear error when it
    cannot be read or is empty (``what`` names it: "audit secret file")."""
    try:
        data = path.read_bytes().strip()
    except OSError as e:
        raise FaasProError(f"cannot read the {what} {path}: {e.strerror}") from None
    if not data:
        raise FaasProError(f"the {what} {path} is empty")
    return data


def replace_atomic(path: Path, text: str, mode: int = 0o600, *, over_symlink: bool = False) -> None:
    """Replace ``path`` with ``text``: a new temp file (O_EXCL, no symlink followed) in the same
    directory, fsync, ``chmod mode``, rename over ``path``. On failure the temp file is removed, the
    previous file is unchanged, and the ``OSError`` propagates for the caller to word. A symlink at
    ``path`` is refused unless ``over_symlink`` (the rename then replaces the link, never its target)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
        if not over_symlink:
            _refuse_symlink(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically, mode 0600."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"  # before anything on disk changes
    ensure_private_dir(path.parent)
    _refuse_symlink(path)
    try:
        replace_atomic(path, text)
    except OSError as e:
        raise FaasProError(f"cannot write {path}: {e.strerror} (the previous file is unchanged)") from e
    if os.name == "posix":
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """An exclusive inter-process lock on ``<path>.lock`` (for read-modify-write cycles)."""
    import filelock

    ensure_private_dir(path.parent)
    lock = filelock.FileLock(str(path) + ".lock", timeout=timeout, mode=0o600)
    try:
        with lock:
            yield
    except filelock.Timeout as e:
        raise FaasProError(f"timed out waiting for the lock on {path}") from e
