"""Fixtures of the security suite (helpers are in tests/security/support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def fast_sending(monkeypatch):
    """Money commands and batch runs pause only briefly between tries (a closed port is not retried
    for seconds)."""
    from momo_cli.commands import _money, disburse_batch
    from momo_cli.journal.sender import SendPolicy

    policy = SendPolicy(max_tries=3, backoff=0.01, max_backoff=0.05)
    monkeypatch.setattr(_money, "SEND_POLICY", policy)
    monkeypatch.setattr(disburse_batch, "SEND_POLICY", policy)
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
