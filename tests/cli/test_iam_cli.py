"""`faas-pro iam validate | explain | can-i`: output and exit codes, in-process via the cli fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from faas_pro.errors import EXIT_DENIED, EXIT_ERROR, EXIT_OK, EXIT_USAGE
from tests.support.tokens import mint, new_key

DATA = Path(__file__).resolve().parents[1] / "data" / "iam"
SET = str(DATA / "set")
EXAMPLES = str(DATA / "examples")
IDP = "https://idp.example.com"


def _token(claims: dict[str, Any]) -> str:
    return mint(claims, new_key("ES256"), kid="k1")


def _claims_file(tmp_path: Path, claims: dict[str, Any]) -> str:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims))
    return str(path)


# -- validate ------------------------------------------------------------------------------------


def test_validate_ok(cli):
    r = cli("iam", "validate", EXAMPLES)
    assert (r.code, r.stdout) == (EXIT_OK, "")
    assert r.stderr == "ok: no errors, 0 warning(s)\n"


def test_validate_prints_every_problem_and_exits_1(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: iam.openfaas.com/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  policy: [nope]\n"
        "  condition:\n    StringEquals: {jwt:iss: [x]}\n"
    )
    r = cli("iam", "validate", str(bad), EXAMPLES)
    assert r.code == EXIT_ERROR
    lines = r.stdout.splitlines()
    assert lines == [
        f"{bad}:5: Role/r: spec.policy[0]: no Policy named 'nope'",
        f"{bad}:7: Role/r: spec.condition: without a principal the condition must bind the subject, but it only "
        "tests jwt:iss; add a principal or a condition on jwt:sub, jwt:email, jwt:groups or another identity claim",
    ]
    assert r.stderr.strip() == "2 error(s), 0 warning(s): the IAM objects are not valid"


def test_validate_warnings_do_not_fail(cli):
    r = cli("iam", "validate", str(DATA / "lint" / "github_prefix.yaml"))
    assert r.code == EXIT_OK
    assert r.stdout.count(": warning: ") == 3
    assert r.stdout.startswith(f"{DATA / 'lint' / 'github_prefix.yaml'}:17: Role/ci: warning: spec.condition.")
    assert "3 warning(s)" in r.stderr


def test_validate_missing_path_and_no_args(cli, tmp_path):
    r = cli("iam", "validate", str(tmp_path / "nope"))
    assert r.code == EXIT_ERROR and r.stdout == f"{tmp_path / 'nope'}: no such file or directory\n"
    r = cli("iam", "validate")
    assert r.code == EXIT_USAGE


# -- explain -------------------------------------------------------------------------------------


def test_explain_claims_text(cli, tmp_path):
    claims = {"iss": IDP, "aud": "openfaas", "sub": "alice", "groups": ["dev"], "email": "alice@example.com"}
    r = cli("iam", "explain", "--claims-file", _claims_file(tmp_path, claims), SET)
    assert r.code == EXIT_OK, r.stderr
    assert r.stderr == ""  # claims files are not tokens: no UNVERIFIED notice
    out = r.stdout
    assert "Issuer:    JwtIssuer/idp.example.com (https://idp.example.com)" in out
    assert "Audience:  accepted" in out
    assert "  + alice: matched principal jwt:sub, StringEqual jwt:iss -> staging-rw" in out
    assert "  + devs: matched StringEqual jwt:iss, ForAnyValue:StringEqual jwt:groups -> dev-teams, conditional" in out
    assert "  - gh-main: StringEqual jwt:iss: 'https://idp.example.com' matches none of" in out
    assert "Policies:  conditional, dev-teams, staging-rw" in out
    assert "  staging:\n    whole namespace: Function:*, Secret:*, Namespace:List, Namespace:Get" in out
    assert "  dev-a:\n    whole namespace: Function:List, Function:Invoke, Secret:List, Secret:Create" in out
    assert "    Function:Invoke on cond:*" not in out  # cond:* is namespace-wide
    assert "  cond:\n    whole namespace: Function:Invoke" in out


def test_explain_token_json_says_unverified(cli, tmp_path):
    token = _token({"iss": IDP, "aud": ["openfaas"], "sub": "bob", "groups": ["admin-eu"], "exp": 2**31})
    path = tmp_path / "token"
    path.write_text(token + "\n")
    r = cli("iam", "explain", "--token-file", str(path), "--json", SET)
    assert r.code == EXIT_OK, r.stderr
    assert "UNVERIFIED" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == 1 and doc["verified"] is False
    assert doc["issuer"]["name"] == "idp.example.com" and doc["audience_ok"] is True
    assert [m["role"] for m in doc["roles"]["matched"]] == ["bob-admin"]
    assert doc["policies"] == ["admin", "deny-secret-fn", "fn-only", "system-info"]
    assert doc["refused"] is None
    star = next(a for a in doc["access"] if a["namespace"] == "*")
    assert star["whole_namespace"] == ["*"]
    staging = next(a for a in doc["access"] if a["namespace"] == "staging")
    assert {"action": "Function:Invoke", "function": "secret-fn"} in staging["denied"]
    assert token not in r.stdout + r.stderr


def test_explain_token_env_and_refusals(cli, tmp_path):
    token = _token({"iss": "https://evil.example.com", "aud": "openfaas", "sub": "alice"})
    r = cli("iam", "explain", "--token-env", "MY_TOKEN", SET, env={"MY_TOKEN": token})
    assert r.code == EXIT_OK and "UNVERIFIED" in r.stderr
    assert "Issuer:    none configured for iss 'https://evil.example.com'" in r.stdout
    assert "Exchange:  refused: no JwtIssuer is configured for iss 'https://evil.example.com'" in r.stdout
    assert "Policies:" not in r.stdout
    wrong_aud = {"iss": IDP, "aud": ["openfaas", "other"], "sub": "alice"}
    r = cli("iam", "explain", "--claims-file", _claims_file(tmp_path, wrong_aud), SET)
    assert "Audience:  NOT accepted" in r.stdout and "Exchange:  refused: aud" in r.stdout
    nobody = {"iss": IDP, "aud": "openfaas", "sub": "mallory"}
    r = cli("iam", "explain", "--claims-file", _claims_file(tmp_path, nobody), SET)
    assert "Exchange:  refused: no Role matches" in r.stdout


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        ([], {}, EXIT_USAGE, "give exactly one of"),
        (["--token-env", "UNSET_VAR"], {}, EXIT_USAGE, "UNSET_VAR is not set"),
        (["--token-env", "T"], {"T": "not.a.jwt"}, EXIT_ERROR, "token in $T: "),
        (["--claims-file", "/nonexistent/claims.json"], {}, EXIT_ERROR, "cannot read claims file"),
    ],
)
def test_explain_bad_sources(cli, args, env, code, message):
    r = cli("iam", "explain", *args, SET, env=env)
    assert r.code == code and message in r.stderr and r.stdout == ""
    assert "Traceback" not in r.stderr


def test_explain_bad_claims_files(cli, tmp_path):
    for text, message in (
        ('{"sub": "a", "sub": "b"}', "duplicate JSON key 'sub'"),
        ("[1]", "is not a JSON object"),
        ('{"exp": NaN}', "non-standard JSON number NaN"),
        ("{", "is not valid JSON"),
        ("\ufeff{}", "byte order mark"),
    ):
        path = tmp_path / "c.json"
        path.write_text(text)
        r = cli("iam", "explain", "--claims-file", str(path), SET)
        assert r.code == EXIT_ERROR and message in r.stderr, r


# -- can-i ---------------------------------------------------------------------------------------


def test_can_i_yes_and_no_with_claims(cli, tmp_path):
    claims = _claims_file(tmp_path, {"iss": IDP, "aud": "openfaas", "sub": "alice"})
    r = cli("iam", "can-i", "Function:Invoke", "staging:fn1", "--claims-file", claims, SET)
    assert (r.code, r.stdout, r.stderr) == (EXIT_OK, "yes\n", "")
    r = cli("iam", "can-i", "Function:Invoke", "prod:fn1", "--claims-file", claims, SET)
    assert (r.code, r.stdout, r.stderr) == (EXIT_DENIED, "no\n", "")
    r = cli("iam", "can-i", "-v", "Namespace:List", "staging", "--claims-file", claims, SET)
    assert r.code == EXIT_OK and r.stdout == "yes\n"
    assert r.stderr == "roles: alice; policies: staging-rw\nallowed by staging-rw/rw\n"
    r = cli("iam", "can-i", "-v", "Function:Delete", "prod:fn1", "--claims-file", claims, SET)
    assert r.code == EXIT_DENIED and "denied by default: no statement allows Function:Delete on prod:fn1" in r.stderr


def test_can_i_statement_conditions_see_gateway_claims(cli, tmp_path):
    carol = {"iss": IDP, "aud": "openfaas", "sub": "carol", "groups": ["dev"], "email": "alice@example.com"}
    r = cli("iam", "can-i", "-v", "Function:Invoke", "cond:fn", "--claims-file", _claims_file(tmp_path, carol), SET)
    assert r.code == EXIT_OK and "allowed by conditional/alice-only" in r.stderr
    blocked = {**carol, "groups": ["dev", "blocked"]}
    r = cli("iam", "can-i", "-v", "Function:Invoke", "dev-a:fn", "--claims-file", _claims_file(tmp_path, blocked), SET)
    assert r.code == EXIT_DENIED and "denied by conditional/blocked-group (explicit Deny)" in r.stderr


def test_can_i_unknown_issuer_is_no_with_reason(cli):
    token = _token({"iss": "https://idp.example.com/", "aud": "openfaas", "sub": "alice"})
    r = cli("iam", "can-i", "-v", "Function:Invoke", "staging:fn1", "--token-env", "T", SET, env={"T": token})
    assert r.code == EXIT_DENIED and r.stdout == "no\n"
    assert "UNVERIFIED" in r.stderr
    assert "iss 'https://idp.example.com/' is not a configured JwtIssuer" in r.stderr


def test_can_i_with_policies(cli):
    r = cli("iam", "can-i", "Function:Delete", "prod:fn1", "--policy", "admin", SET)
    assert (r.code, r.stdout) == (EXIT_OK, "yes\n")
    r = cli(
        "iam", "can-i", "-v", "Function:Delete", "prod:fn1", "--policy", "admin", "--policy", "deny-prod-delete", SET
    )
    assert r.code == EXIT_DENIED and r.stdout == "no\n"
    assert "denied by deny-prod-delete/no-delete (explicit Deny)" in r.stderr
    r = cli("iam", "can-i", "System:Info", "*", "--policy", "system-info", SET)
    assert r.code == EXIT_OK
    r = cli("iam", "can-i", "Function:Get", "prod:fn1", "--policy", "typo", SET)
    assert r.code == EXIT_DENIED and "warning: unknown policy 'typo' grants nothing" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Function:Get", "prod:fn1"], "give exactly one of"),
        (["Function:Get", "prod:fn1", "--policy", "admin", "--claims-file", "x.json"], "give exactly one of"),
        (["Function:*", "prod:fn1", "--policy", "admin"], "ACTION 'Function:*' is not one action"),
        (["Function:get", "prod:fn1", "--policy", "admin"], "is not one action"),
        (["Function:Get", "prod:", "--policy", "admin"], "RESOURCE 'prod:'"),
        (["Function:Get", ":fn", "--policy", "admin"], "RESOURCE ':fn'"),
        (["Function:Get", "a:b:c", "--policy", "admin"], "RESOURCE 'a:b:c'"),
        (["Function:Get", "prod:fn *", "--policy", "admin"], "without spaces or globs"),
    ],
)
def test_can_i_usage_errors(cli, args, message):
    r = cli("iam", "can-i", *args, SET)
    assert r.code == EXIT_USAGE and message in r.stderr and r.stdout == ""


def test_can_i_with_invalid_objects_is_an_error_not_an_answer(cli):
    bad = str(DATA / "load_errors" / "unknown_action.yaml")
    r = cli("iam", "can-i", "Function:Get", "prod:fn1", "--policy", "p", bad)
    assert r.code == EXIT_ERROR and r.stdout == ""
    assert "invalid IAM objects:" in r.stderr and "unknown action 'Function:Read'" in r.stderr
    assert "run faas-pro iam validate" in r.stderr
