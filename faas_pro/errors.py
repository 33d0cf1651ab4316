"""The one user-facing error type and the named exit codes.

Exception tree::

    FaasProError                 exit 1  any expected failure: one line on stderr, no traceback
    ├── UsageError               exit 2  bad flags or arguments
    ├── AuthRequired             exit 3  no token, expired token, 401: "run faas-pro auth"
    ├── PermissionDenied         exit 4  403 from the gateway, `iam can-i` answered no
    ├── Unreachable              exit 5  cannot connect to the gateway or the IdP
    └── Interrupted              exit 130 Ctrl-C

Everything else that escapes is a bug and is shown as such (with a traceback under --verbose).
Messages must never contain secrets: callers pass descriptions, never token values.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_DENIED = 4
EXIT_UNREACHABLE = 5
EXIT_INTERRUPTED = 130


class FaasProError(Exception):
    """An expected failure, shown to the user as one line: ``message`` then ``; hint``."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def line(self) -> str:
        """The one line printed on stderr."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


class UsageError(FaasProError):
    exit_code = EXIT_USAGE


class AuthRequired(FaasProError):
    exit_code = EXIT_AUTH


class PermissionDenied(FaasProError):
    exit_code = EXIT_DENIED


class Unreachable(FaasProError):
    exit_code = EXIT_UNREACHABLE


class Interrupted(FaasProError):
    exit_code = EXIT_INTERRUPTED
