"""The --dashboard-* flags checked at start, the session key file, the chart and redirect targets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from faas_pro.errors import FaasProError, UsageError
from faas_pro.iam import IamSet
from faas_pro.iam.model import JwtIssuer
from faas_pro.server.dashboard import make_config, session_key
from faas_pro.server.dashboard.charts import invocation_bars
from faas_pro.server.dashboard.web import _safe_next

GW = "https://gw.example"


def _iam(*issuers: JwtIssuer) -> IamSet:
    return IamSet(issuers, (), ())


def _issuer(iss: str, aud: tuple[str, ...] = ("faas-dashboard",)) -> JwtIssuer:
    return JwtIssuer(name=iss.rsplit("/", 1)[-1], iss=iss, aud=aud, token_expiry=3600)


def test_the_only_issuer_is_the_default(tmp_path: Path) -> None:
    logs: list[str] = []
    cfg = make_config(_iam(_issuer("https://idp.example")), GW, "faas-dashboard", logs.append)
    assert cfg.issuer == "https://idp.example" and cfg.redirect_uri == GW + "/ui/auth/callback"
    assert cfg.secure and len(cfg.session_key) == 32
    assert any("sessions end at restart" in line for line in logs)
    assert "session_key" not in repr(cfg) and repr(cfg.session_key) not in repr(cfg)
    plain = make_config(_iam(_issuer("https://idp.example")), "http://127.0.0.1:8080", "faas-dashboard", logs.append)
    assert not plain.secure  # an https IdP does not make cookies Secure on an http gateway


def test_several_issuers_need_the_flag_and_it_must_name_one() -> None:
    iam = _iam(_issuer("https://a.example"), _issuer("https://b.example"))
    with pytest.raises(UsageError, match="--dashboard-issuer is required"):
        make_config(iam, GW, "faas-dashboard", print)
    with pytest.raises(UsageError, match="not the iss of any JwtIssuer"):
        make_config(iam, GW, "faas-dashboard", print, issuer="https://c.example")
    cfg = make_config(iam, GW, "faas-dashboard", lambda _: None, issuer="https://b.example")
    assert cfg.issuer == "https://b.example"


def test_client_id_not_in_aud_is_a_warning(tmp_path: Path) -> None:
    logs: list[str] = []
    make_config(_iam(_issuer("https://idp.example", ("faas-gateway",))), GW, "faas-dashboard", logs.append)
    assert any("does not list 'faas-dashboard' in aud" in line for line in logs)


def test_secret_file_is_read_and_an_empty_one_refused(tmp_path: Path) -> None:
    iam = _iam(_issuer("https://idp.example"))
    (tmp_path / "s").write_text("s3cret\n")
    cfg = make_config(iam, GW, "faas-dashboard", lambda _: None, client_secret_file=tmp_path / "s")
    assert cfg.client_secret == "s3cret" and "s3cret" not in repr(cfg)
    (tmp_path / "e").write_text("\n")
    with pytest.raises(FaasProError, match="is empty"):
        make_config(iam, GW, "faas-dashboard", lambda _: None, client_secret_file=tmp_path / "e")


def test_session_key_file_is_created_0600_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "session.key"
    logs: list[str] = []
    first = session_key(path, logs.append)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and logs
    assert session_key(path, logs.append) == first  # the same key after a restart
    path.write_text("short\n")
    with pytest.raises(FaasProError, match="fewer than 32 bytes"):
        session_key(path, logs.append)


def test_chart_escapes_names() -> None:
    svg = invocation_bars([("<b>x</b>", 3), ("y", 0)])
    assert "<b>" not in svg and "&lt;b&gt;" in svg and svg.startswith("<svg")
    assert invocation_bars([]) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/ui/ns/a", "/ui/ns/a"),
        ("https://evil.example/", "/ui/"),
        ("//evil.example/ui/", "/ui/"),
        ("/ui//evil", "/ui/"),
        ("/ui/\\evil", "/ui/"),
        (None, "/ui/"),
    ],
)
def test_next_stays_in_the_dashboard(value: str | None, expected: str) -> None:
    assert _safe_next(value) == expected
