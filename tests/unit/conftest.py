"""Fixtures of the tests/unit modules: the gateway stand-in of tests/support/fakegateway.py."""

from tests.support.fakegateway import gateway, gw

__all__ = ["gateway", "gw"]
