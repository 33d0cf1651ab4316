"""The authoriser's decision cache: per token, dropped when the IAM set changes, explicit Deny
still wins, bounded. A real IAM set loaded from YAML files and the real reloading holder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faas_pro.iam import IamSet, load_iam
from faas_pro.server.enforce import IamAuthoriser
from faas_pro.server.reload import IamHolder
from tests.support.gateway import policy_yaml, write_iam


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """The holder's IAM set, counting how often the engine is asked (to see the cache work)."""

    def __init__(self, holder: IamHolder) -> None:
        self.holder = holder
        self.asked = 0
        self._wrapped: dict[int, tuple[IamSet, Any]] = {}

    def __call__(self) -> IamSet:
        iam = self.holder.get()
        outer = self

        class Wrapped:  # one stable wrapper per IAM set, as the holder's own identity
            def authorize(self, *args: Any) -> Any:
                outer.asked += 1
                return iam.authorize(*args)

        if id(iam) not in self._wrapped or self._wrapped[id(iam)][0] is not iam:
            self._wrapped[id(iam)] = (iam, Wrapped())
        return self._wrapped[id(iam)][1]  # type: ignore[no-any-return]


def _setup(tmp_path: Path, text: str) -> tuple[Path, IamHolder, Clock, list[str]]:
    iam_dir = write_iam(tmp_path, text)
    clock = Clock()
    logs: list[str] = []
    holder = IamHolder([iam_dir], load_iam([iam_dir]), clock, logs.append, interval=1.0)
    return iam_dir, holder, clock, logs


DENY_STATEMENT = """  - sid: no-payments
    effect: Deny
    action: ["Function:Delete"]
    resource: ["dev:payments"]
"""


def _claims(*policies: str) -> dict[str, Any]:
    return {"sub": "fed:alice", "policy": list(policies)}


def test_repeated_question_is_answered_from_the_cache(tmp_path: Path) -> None:
    _, holder, _, _ = _setup(tmp_path, policy_yaml("dev-read", ["Function:List"], ["dev:*"]))
    iam = Counting(holder)
    authz = IamAuthoriser(iam)
    alice = _claims("dev-read")
    assert [authz.allowed(alice, "Function:List", "dev", None) for _ in range(5)] == [True] * 5
    assert authz.allowed(alice, "Function:List", "prod", None) is False
    assert authz.allowed(alice, "Function:List", "prod", None) is False
    assert iam.asked == 2  # one engine decision per (token, action, resource)


def test_tokens_do_not_share_decisions(tmp_path: Path) -> None:
    _, holder, _, _ = _setup(tmp_path, policy_yaml("dev-read", ["Function:List"], ["dev:*"]))
    authz = IamAuthoriser(holder.get)
    allowed, other, equal_twin = _claims("dev-read"), _claims("nothing"), _claims("dev-read")
    for _ in range(3):  # interleaved: a cached answer for one token is never given to another
        assert authz.allowed(allowed, "Function:List", "dev", None) is True
        assert authz.allowed(other, "Function:List", "dev", None) is False
        assert authz.allowed(equal_twin, "Function:List", "dev", None) is True


def test_a_policy_edit_applies_at_the_next_reload_check(tmp_path: Path) -> None:
    iam_dir, holder, clock, logs = _setup(tmp_path, policy_yaml("dev-rw", ["Function:*"], ["dev:*"]))
    authz = IamAuthoriser(holder.get)
    alice = _claims("dev-rw")
    assert authz.allowed(alice, "Function:Delete", "dev", "payments") is True
    # an explicit Deny added next to the Allow: it wins as soon as the holder sees the edit
    text = policy_yaml("dev-rw", ["Function:*"], ["dev:*"]) + DENY_STATEMENT
    (iam_dir / "iam.yaml").write_text(text)
    clock.now += 1.5
    assert authz.allowed(alice, "Function:Delete", "dev", "payments") is False
    assert authz.allowed(alice, "Function:Delete", "dev", "orders") is True
    assert any("iam reload: loaded" in line for line in logs)


def test_a_removed_grant_is_refused_after_reload(tmp_path: Path) -> None:
    iam_dir, holder, clock, _ = _setup(tmp_path, policy_yaml("dev-read", ["Function:List"], ["dev:*"]))
    authz = IamAuthoriser(holder.get)
    alice = _claims("dev-read")
    assert authz.allowed(alice, "Function:List", "dev", None) is True
    (iam_dir / "iam.yaml").write_text(policy_yaml("dev-read", ["Function:List"], ["staging:*"]))
    clock.now += 0.5  # before the holder's next check the set in force is unchanged
    assert authz.allowed(alice, "Function:List", "dev", None) is True
    clock.now += 1.0
    assert authz.allowed(alice, "Function:List", "dev", None) is False
    assert authz.allowed(alice, "Function:List", "staging", None) is True


def test_explicit_deny_wins_and_is_remembered_as_a_refusal(tmp_path: Path) -> None:
    text = policy_yaml("all", ["Function:*"], ["*"]) + policy_yaml("no-prod", ["Function:*"], ["prod:*"], "Deny")
    _, holder, _, _ = _setup(tmp_path, text)
    iam = Counting(holder)
    authz = IamAuthoriser(iam)
    bob = _claims("all", "no-prod")
    assert [authz.allowed(bob, "Function:Get", "prod", "db") for _ in range(3)] == [False] * 3
    assert authz.allowed(bob, "Function:Get", "dev", "db") is True
    assert iam.asked == 2


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    _, holder, _, _ = _setup(tmp_path, policy_yaml("dev-read", ["Function:Get"], ["dev:*"]))
    iam = Counting(holder)
    authz = IamAuthoriser(iam, cache_size=2)
    alice = _claims("dev-read")
    for fn in ("a", "b", "c"):  # "a" is evicted by "c"
        assert authz.allowed(alice, "Function:Get", "dev", fn) is True
    assert iam.asked == 3
    assert authz.allowed(alice, "Function:Get", "dev", "c") is True
    assert iam.asked == 3
    assert authz.allowed(alice, "Function:Get", "dev", "a") is True
    assert iam.asked == 4
