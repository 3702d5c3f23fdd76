"""Fixtures of the security suite (helpers are in tests/security/support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def quick_retries(monkeypatch):
    """The client retries as it would, without its pauses (a closed port is not waited on)."""
    from momo_cli.api.retry import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


@pytest.fixture
def fast_sending(monkeypatch, quick_retries):
    """Money commands and batch runs pause only briefly between tries, and so does the client."""
    from momo_cli.commands import _money, disburse_batch
    from momo_cli.journal.sender import SendPolicy

    policy = SendPolicy(max_tries=3, backoff=0.01, max_backoff=0.05)
    monkeypatch.setattr(_money, "SEND_POLICY", policy)
    monkeypatch.setattr(disburse_batch, "SEND_POLICY", policy)
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
