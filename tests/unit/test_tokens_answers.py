"""faas_pro/server/token_answers.py: every verifier code has an answer, decided by the code alone.

The answers reproduce what the gateway said when it decided by the verifier's message strings
(the exchange's two word-for-word descriptions, the API's 401 with the reason, 400 for a token
over the size cap); rewording a reason changes no status and no OAuth error code.
"""

from __future__ import annotations

import pytest

from faas_pro.server.token_answers import TokenAnswer, api_answer, exchange_answer
from faas_pro.tokens import MAX_TOKEN_BYTES, TokenError, TokenErrorCode, VerifyOptions, verify

_PARSE = {TokenErrorCode.TOO_LONG, TokenErrorCode.MALFORMED, TokenErrorCode.BAD_JSON}


@pytest.mark.parametrize("code", list(TokenErrorCode), ids=lambda c: c.name)
def test_every_code_has_an_answer_in_both_places(code: TokenErrorCode) -> None:
    ex = exchange_answer(code, "some reason")
    assert ex == TokenAnswer(400, "invalid_request", ex.description) and ex.description
    api = api_answer(code, "some reason")
    if code is TokenErrorCode.TOO_LONG:
        assert api == TokenAnswer(400, "invalid_request", "Bad Request: token too long")
        assert api.challenge == 'Bearer error="invalid_request"'
    else:
        assert api == TokenAnswer(401, "invalid_token", "Unauthorized: some reason")
        assert api.challenge == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("code", list(TokenErrorCode), ids=lambda c: c.name)
def test_the_reason_is_quoted_never_interpreted(code: TokenErrorCode) -> None:
    a, b = exchange_answer(code, "first wording"), exchange_answer(code, "second wording")
    assert (a.status, a.error) == (b.status, b.error)
    assert ("first wording" in a.description) == ("second wording" in b.description)
    a, b = api_answer(code, "first wording"), api_answer(code, "second wording")
    assert (a.status, a.error) == (b.status, b.error)


@pytest.mark.parametrize(
    ("code", "reason", "description"),
    [
        (TokenErrorCode.EXPIRED, "token has expired", "token expired"),
        (TokenErrorCode.BAD_AUDIENCE, "audience is not ours", "audience not accepted"),
        (TokenErrorCode.TOO_LONG, "ignored", f"subject_token is longer than {MAX_TOKEN_BYTES} bytes"),
        (TokenErrorCode.MALFORMED, "has 2 segments, expected 3", "malformed subject token: has 2 segments, expected 3"),
        (
            TokenErrorCode.BAD_JSON,
            "payload is not a JSON object",
            "malformed subject token: payload is not a JSON object",
        ),
        (TokenErrorCode.BAD_SIGNATURE, "signature does not verify", "invalid subject token: signature does not verify"),
        (TokenErrorCode.UNKNOWN_KID, "x", "invalid subject token: x"),
    ],
)
def test_exchange_descriptions_are_todays(code: TokenErrorCode, reason: str, description: str) -> None:
    assert exchange_answer(code, reason).description == description
    assert (code in _PARSE) == exchange_answer(code, reason).description.startswith(("malformed", "subject_token"))


def test_a_real_refusal_maps_through_its_code() -> None:
    with pytest.raises(TokenError) as info:
        verify("a.b", lambda kid: None, VerifyOptions(issuer="https://i", audiences=("a",)), 0.0)
    e = info.value
    assert e.code is TokenErrorCode.MALFORMED
    assert exchange_answer(e.code, e.reason).description == f"malformed subject token: {e.reason}"
    assert api_answer(e.code, e.reason).description == f"Unauthorized: {e.reason}"
