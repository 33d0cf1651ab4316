"""faas-pro: IAM for OpenFaaS — OIDC single sign-on, token exchange, policy-based access."""

__version__ = "0.1.0.dev0"
