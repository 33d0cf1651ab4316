"""What the gateway answers when the verifier refuses a token, decided by the error's code.

Pure: a :class:`~faas_pro.tokens.TokenErrorCode` (and the verifier's short reason, which some
answers quote) in, a :class:`TokenAnswer` out. The server never reads the reason's wording to
decide anything, so rewording a reason in ``faas_pro/tokens.py`` cannot change a status or an
OAuth error code. Two places ask:

- the token exchange (``POST /token``, RFC 8693): always 400 ``invalid_request`` with a
  description for the operator (RFC 6749 section 5.2);
- the bearer-protected API (RFC 6750 section 3.1): 401 ``invalid_token`` with the reason, except a
  token over the size cap, which is refused before any parsing as a malformed request (400).

Every code has an answer in both places; mypy checks that the matches below are exhaustive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from faas_pro.tokens import MAX_TOKEN_BYTES, TokenErrorCode
from faas_pro.tokens import TokenErrorCode as Code

__all__ = ["TokenAnswer", "api_answer", "exchange_answer"]


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    error: Literal["invalid_request", "invalid_token"]  # the OAuth / RFC 6750 error code
    description: str  # exchange: error_description; API: the plain-text body

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value for an API answer (RFC 6750 section 3)."""
        return f'Bearer error="{self.error}"'


def exchange_answer(code: TokenErrorCode, reason: str) -> TokenAnswer:
    """The ``POST /token`` answer when the subject token is refused with ``code``."""
    match code:
        case Code.TOO_LONG:
            description = f"subject_token is longer than {MAX_TOKEN_BYTES} bytes"
        case Code.MALFORMED | Code.BAD_JSON:
            description = f"malformed subject token: {reason}"
        case Code.EXPIRED:
            description = "token expired"
        case Code.BAD_AUDIENCE:
            description = "audience not accepted"
        case (
            Code.BAD_ALG
            | Code.BAD_HEADER
            | Code.BAD_TYP
            | Code.BAD_KID
            | Code.BAD_SIGNATURE_FORMAT
            | Code.UNKNOWN_KID
            | Code.KEY_MISMATCH
            | Code.BAD_SIGNATURE
            | Code.MISSING_CLAIM
            | Code.BAD_CLAIM
            | Code.BAD_ISSUER
            | Code.NOT_YET_VALID
            | Code.BAD_NONCE
        ):
            description = f"invalid subject token: {reason}"
        case _:
            assert_never(code)
    return TokenAnswer(400, "invalid_request", description)


def api_answer(code: TokenErrorCode, reason: str) -> TokenAnswer:
    """The API's answer when the bearer token is refused with ``code``."""
    match code:
        case Code.TOO_LONG:
            return TokenAnswer(400, "invalid_request", "Bad Request: token too long")
        case (
            Code.MALFORMED
            | Code.BAD_JSON
            | Code.BAD_ALG
            | Code.BAD_HEADER
            | Code.BAD_TYP
            | Code.BAD_KID
            | Code.BAD_SIGNATURE_FORMAT
            | Code.UNKNOWN_KID
            | Code.KEY_MISMATCH
            | Code.BAD_SIGNATURE
            | Code.MISSING_CLAIM
            | Code.BAD_CLAIM
            | Code.BAD_ISSUER
            | Code.BAD_AUDIENCE
            | Code.EXPIRED
            | Code.NOT_YET_VALID
            | Code.BAD_NONCE
        ):
            return TokenAnswer(401, "invalid_token", f"Unauthorized: {reason}")
        case _:
            assert_never(code)
