"""Without the 'server' extra, `faas-pro serve` says how to install it, in one line, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from faas_pro.errors import EXIT_ERROR

# Block the server-only packages the way an install without the extra lacks them.
BLOCK = "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"


def test_serve_without_server_extra_names_the_install_command(tmp_path: Path) -> None:
    (tmp_path / "iam").mkdir()
    code = BLOCK + (
        "from faas_pro.__main__ import run\n"
        f"raise SystemExit(run(['serve', '--iam', {str(tmp_path / 'iam')!r}, '--issuer-url', 'http://127.0.0.1:1',"
        f" '--issuer-key', {str(tmp_path / 'k.pem')!r}, '--listen', '127.0.0.1:0']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == EXIT_ERROR
    assert r.stderr.strip().splitlines() == [
        "faas-pro serve needs the server extra; install it with: pip install 'faas-pro[server]'"
    ]
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
