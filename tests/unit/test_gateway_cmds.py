"""usecases.gateway_cmds helpers that other commands share."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from faas_pro.deps import Deps
from faas_pro.errors import AuthRequired
from faas_pro.storage.entry import FORMAT_KEY, TokenEntry
from faas_pro.usecases.gateway_cmds import expiry_text, saved_token, status
from tests.support.tokens import compact

EXP = 1_714_558_830.0  # 2024-05-01T10:20:30Z


@pytest.mark.parametrize(
    ("now", "text"),
    [
        (EXP - 1800, "2024-05-01T10:20:30Z (in 30m00s)"),
        (EXP - 7260, "2024-05-01T10:20:30Z (in 2h01m)"),
        (EXP - 10.5, "2024-05-01T10:20:30Z (in 0m10s)"),
        (EXP - 10, "2024-05-01T10:20:30Z (expired)"),  # the CLI's skew: expired from exp - 10 s
        (EXP + 60, "2024-05-01T10:20:30Z (expired)"),
    ],
)
def test_expiry_text(now: float, text: str) -> None:
    assert expiry_text(EXP, now) == text


def _deps(tmp_path: Path, now: float) -> Deps:
    return Deps(
        env={"FAAS_PRO_TOKEN_STORE": "file"},
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        config_dir=tmp_path / "c",
        data_dir=tmp_path / "d",
        clock=lambda: now,
    )


def _jwt(claims: dict[str, object]) -> str:
    return compact({"alg": "ES256", "typ": "at+jwt"}, claims, "c2ln")


def test_saved_token_and_status_read_the_typed_entry(tmp_path: Path) -> None:
    gw = "http://gw.test:8080"
    deps = _deps(tmp_path, EXP - 1800)
    with pytest.raises(AuthRequired, match=f"not logged in to {gw}"):
        saved_token(deps, gw)
    token = _jwt({"sub": "fed:alice", "iss": gw, "exp": EXP, "policy": ["read"]})
    entry = TokenEntry(openfaas_token=token, idp_issuer="https://idp.test", idp_refresh_token="rt")
    deps.secrets().put(gw, entry.to_dict())
    assert saved_token(deps, gw) == token
    st = status(deps, gw)
    assert (st.subject, st.idp_issuer, st.refresh_token) == ("fed:alice", "https://idp.test", True)
    assert st.policies == ["read"]
    assert st.store == f"file ({tmp_path / 'd' / 'tokens.json'})"


def test_an_entry_in_an_unknown_format_asks_for_a_new_login(tmp_path: Path) -> None:
    gw = "http://gw.test:8080"
    deps = _deps(tmp_path, EXP)
    deps.secrets().put(gw, {FORMAT_KEY: "9", "openfaas_token": "x"})
    for call in (saved_token, status):
        with pytest.raises(AuthRequired, match="in a format this faas-pro does not know"):
            call(deps, gw)
