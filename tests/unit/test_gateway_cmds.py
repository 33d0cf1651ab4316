"""usecases.gateway_cmds helpers that other commands share."""

from __future__ import annotations

import pytest

from faas_pro.usecases.gateway_cmds import expiry_text

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
