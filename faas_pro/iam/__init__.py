"""The IAM engine: JwtIssuer, Policy and Role objects, their loader, Role matching and policy
evaluation. Pure: no network, no clock; it reads only the files it is given.

    >>> iam = load_iam(["iam/"])                                  # or check_paths() for validate
    >>> iam.issuer_for(claims["iss"])                             # JwtIssuer | None, byte-exact
    >>> iam.match_roles(claims).policies                          # ("staging-rw",)
    >>> iam.authorize(("staging-rw",), "Function:Invoke", "staging", "fn1")   # Decision

See docs/iam.md for the object reference and the evaluation rules.
"""

from faas_pro.iam.engine import IamSet, RoleMatch
from faas_pro.iam.explain import Explanation, NamespaceAccess, explain
from faas_pro.iam.glob import Glob
from faas_pro.iam.loader import API_VERSION, IamLoadError, check_paths, load_iam
from faas_pro.iam.model import (
    ACTION_WILDCARDS,
    ACTIONS,
    NAMESPACE_LEVEL_ACTIONS,
    Decision,
    JwtIssuer,
    Policy,
    Problem,
    Resource,
    Role,
    RoleResult,
    Statement,
)

__all__ = [
    "ACTIONS",
    "ACTION_WILDCARDS",
    "API_VERSION",
    "NAMESPACE_LEVEL_ACTIONS",
    "Decision",
    "Explanation",
    "Glob",
    "IamLoadError",
    "IamSet",
    "JwtIssuer",
    "NamespaceAccess",
    "Policy",
    "Problem",
    "Resource",
    "Role",
    "RoleMatch",
    "RoleResult",
    "Statement",
    "check_paths",
    "explain",
    "load_iam",
]
