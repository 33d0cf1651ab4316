"""The report of `faas-pro auth doctor`: one ``CheckResult`` per check, and the input flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from faas_pro.errors import EXIT_ERROR, EXIT_OK

Status = Literal["ok", "info", "warn", "fail", "skip"]
JSON_VERSION = 1
SKEW_WARN = 30.0
SKEW_FAIL = 60.0
SKEW_NOISE = 3.0
INSECURE_HTTP_ENV = "FAAS_PRO_INSECURE_HTTP"
PROBE_SUBJECT = "faas-pro-auth-doctor-probe"


@dataclass(frozen=True)
class CheckResult:
    """One line of the report. ``ok`` is False only for ``fail``; ``fix`` is one line (or empty)."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class DoctorInput:
    gateway: str | None = None
    authority: str | None = None
    client_id: str | None = None
    port: int | None = None
    redirect_host: str | None = None
    ca_file: Path | None = None


@dataclass
class DoctorReport:
    gateway: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "gateway": self.gateway,
            "ok": self.ok,
            "checks": [c.to_json() for c in self.checks],
        }
