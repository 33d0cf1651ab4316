"""Web identity federation inputs: CI detection, subject tokens checked before any network call,
GitLab's variable, and the GitHub Actions token service's failure modes (a real loopback server)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError, Unreachable, UsageError
from faas_pro.oauth.federation import detect_ci, github_actions_token, gitlab_token, read_subject_token
from tests.support.fakehttp import Answer, FakeHTTP, json_answer
from tests.support.tokens import compact

NOW = 1_700_000_000.0
REQUEST_TOKEN = "gh-request-token-SENTINEL-0123456789"


def jwt_of(**claims: Any) -> str:
    """An unsigned-looking JWT (the CLI only decodes it; the gateway verifies)."""
    return compact({"alg": "RS256", "typ": "JWT"}, {"iss": "https://ci.example", "sub": "x", **claims}, "c2ln")


GOOD = jwt_of(exp=NOW + 600)
EXPIRED = jwt_of(exp=NOW - 3600)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITLAB_CI": "true"}, "gitlab"),
        ({"GITHUB_ACTIONS": "false", "GITLAB_CI": "true"}, "gitlab"),
        ({"GITHUB_ACTIONS": "1"}, None),
        ({"CI": "true"}, None),
        ({}, None),
    ],
)
def test_detect_ci(env: dict[str, str], expected: str | None) -> None:
    assert detect_ci(env) == expected


def subject(**kw: Any) -> str:
    args: dict[str, Any] = {"token": None, "token_file": None, "token_env": None, "env": {}, "now": NOW}
    return read_subject_token(**{**args, **kw})


def test_each_source_gives_the_token(tmp_path: Path) -> None:
    f = tmp_path / "tok"
    f.write_text(GOOD + "\n")
    assert subject(token=GOOD) == GOOD
    assert subject(token_file=str(f)) == GOOD
    assert subject(token_env="MY_TOKEN", env={"MY_TOKEN": f" {GOOD}\n"}) == GOOD


def test_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="give only one of --token, --token-file"):
        subject(token=GOOD, token_file=str(tmp_path / "x"))
    with pytest.raises(UsageError, match="no token to exchange"):
        subject()


def test_empty_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "empty.jwt"
    f.write_text("\n  \n")
    with pytest.raises(FaasProError) as e:
        subject(token_file=str(f))
    assert e.value.line() == f"the token file {f} is empty"


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--token-file: the token file .*nope\.jwt does not exist"):
        subject(token_file=str(tmp_path / "nope.jwt"))


def test_not_a_jwt_says_where_it_came_from_and_not_the_value(tmp_path: Path) -> None:
    f = tmp_path / "t"
    f.write_text("not-a-jwt-SENTINEL")
    with pytest.raises(FaasProError) as e:
        subject(token_file=str(f))
    assert e.value.line().startswith(f"the token in {f} is not a JWT (")
    assert "SENTINEL" not in e.value.line()
    with pytest.raises(FaasProError, match=r"the token given with --token is not a JWT \(has 2 segments"):
        subject(token="a.b")


def test_expired_is_refused_with_the_time() -> None:
    with pytest.raises(FaasProError) as e:
        subject(token_env="T", env={"T": EXPIRED})
    assert e.value.line() == "the token in $T expired at 2023-11-14 21:13:20 UTC (1h ago); get a fresh token"


def test_expiry_counts_from_exp_minus_10s() -> None:
    with pytest.raises(FaasProError, match="expired"):
        subject(token=jwt_of(exp=NOW + 9))
    assert subject(token=jwt_of(exp=NOW + 11))


def test_unset_env_var_and_empty_values() -> None:
    with pytest.raises(FaasProError, match="the variable T is not set or is empty"):
        subject(token_env="T", env={"T": ""})
    with pytest.raises(UsageError, match="--token is empty"):
        subject(token=" ")


def test_gitlab_token_names_the_variable_and_id_tokens() -> None:
    with pytest.raises(FaasProError) as e:
        gitlab_token({})
    assert "FAAS_PRO_ID_TOKEN is not set" in e.value.line() and "id_tokens" in e.value.line()
    assert gitlab_token({"CI_JOB_JWT_V2": GOOD}, "CI_JOB_JWT_V2", now=NOW) == GOOD
    with pytest.raises(FaasProError, match=r"the token in \$FAAS_PRO_ID_TOKEN expired"):
        gitlab_token({"FAAS_PRO_ID_TOKEN": EXPIRED}, now=NOW)
    with pytest.raises(FaasProError, match="is not a JWT"):
        gitlab_token({"FAAS_PRO_ID_TOKEN": "opaque"})


# --------------------------------------------------------------------------- GitHub Actions


def gh_env(url: str) -> dict[str, str]:
    return {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN}


def gh(env: dict[str, str], audience: str = "https://gw.example.com/x?y") -> str:
    with httpx.Client() as http:
        return github_actions_token(http, env, audience)


def test_github_sends_bearer_and_appends_audience(server: FakeHTTP) -> None:
    server.on("/_apis/token", json_answer({"count": 1, "value": GOOD}))
    assert gh(gh_env(f"{server.url}/_apis/token?api-version=2.0")) == GOOD
    (req,) = server.requests
    assert req.method == "GET"
    assert req.headers["authorization"] == f"Bearer {REQUEST_TOKEN}"
    assert req.query == {"api-version": ["2.0"], "audience": ["https://gw.example.com/x?y"]}


def test_github_url_without_query(server: FakeHTTP) -> None:
    server.on("/t", json_answer({"value": GOOD}))
    gh(gh_env(f"{server.url}/t"))
    assert server.requests[0].query == {"audience": ["https://gw.example.com/x?y"]}


@pytest.mark.parametrize("missing", ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
def test_github_missing_variable_is_named(missing: str) -> None:
    env = gh_env("https://example.invalid/t?a=1")
    del env[missing]
    with pytest.raises(FaasProError) as e:
        gh(env)
    assert (
        e.value.line() == f"the variable {missing} is not set or is empty; the job needs `permissions: id-token: write`"
    )


def test_github_error_answer_names_url_and_variable_never_the_request_token(server: FakeHTTP) -> None:
    server.on("/t", json_answer({"message": f"Bad token {REQUEST_TOKEN}"}, 401))
    url = f"{server.url}/t?api-version=2.0"
    with pytest.raises(FaasProError) as e:
        gh(gh_env(url))
    line = e.value.line()
    assert line.startswith(
        f"the GitHub Actions token service at {url} (ACTIONS_ID_TOKEN_REQUEST_URL) answered HTTP 401: Bad token ***"
    )
    assert REQUEST_TOKEN not in line


def test_github_redirect_is_not_followed(server: FakeHTTP) -> None:
    server.on("/t", json_answer({}, 302, {"location": f"{server.url}/elsewhere"}))
    server.on("/elsewhere", json_answer({"value": GOOD}))
    with pytest.raises(FaasProError, match="answered HTTP 302"):
        gh(gh_env(f"{server.url}/t?a=1"))
    assert [r.url_path for r in server.requests] == ["/t"]


def test_github_unreachable_names_the_variable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/t?a=1"
    with pytest.raises(Unreachable) as e:
        gh(gh_env(url))
    line = e.value.line()
    assert line.startswith(f"cannot reach the GitHub Actions token service (ACTIONS_ID_TOKEN_REQUEST_URL) at {url}&")
    assert REQUEST_TOKEN not in line


def test_github_token_is_sent_only_over_https_or_loopback() -> None:
    with pytest.raises(FaasProError, match="must be an https URL") as e:
        gh(gh_env("http://actions.example.com/t?a=1"))
    assert REQUEST_TOKEN not in e.value.line()
    with pytest.raises(FaasProError, match="is not an http"):
        gh(gh_env("file:///etc/passwd"))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (json_answer({"count": 0}), "answered without a token"),
        (json_answer(b"<html>"), "answered without a token"),
        (json_answer({"value": "opaque"}), "is not a JWT"),
        (json_answer({"value": "x" * 70_000}), "larger than 64 KiB"),
    ],
)
def test_github_bad_answers(server: FakeHTTP, answer: Answer, expected: str) -> None:
    server.on("/t", answer)
    with pytest.raises(FaasProError, match=expected):
        gh(gh_env(f"{server.url}/t?a=1"))
