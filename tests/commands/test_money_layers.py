"""The small changes the money commands needed below them: each with its own test.

- journal.sender: a 500 INTERNAL_PROCESSING_ERROR on a creating POST is an unknown outcome (the
  platform may have stored the transaction before failing), resolved by a status GET, not a rejection;
- api.factory: MOMO_EMULATOR_SETTLE_AFTER sets the local emulator's settle delay;
- commands.disburse: `batch` is found in its own module, lazily.
"""

from __future__ import annotations

import asyncio
import uuid

import click
import pytest

from momo_cli.errors import ApiError, ConfigError
from momo_cli.journal.sender import SendPolicy, is_unknown_outcome, submit
from momo_cli.journal.store import Journal, State


class _StoresThenFails:
    """A MoMo that stores the transaction, then answers 500 INTERNAL_PROCESSING_ERROR (once)."""

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.posts = 0

    async def create_transaction(self, operation, reference_id, body, *, version="v1_0", callback_url=None):
        self.posts += 1
        if reference_id in self.stored:
            from momo_cli.errors import AlreadyExists

            raise AlreadyExists("409", status=409, code="RESOURCE_ALREADY_EXIST")
        self.stored[reference_id] = dict(body)
        raise ApiError("the mobile money platform failed (500 INTERNAL_PROCESSING_ERROR)", status=500,
                       code="INTERNAL_PROCESSING_ERROR")

    async def get_transaction(self, operation, reference_id):
        from momo_cli.errors import NotFound

        if reference_id not in self.stored:
            raise NotFound("404", status=404, code="RESOURCE_NOT_FOUND")

        class Status:
            status, reason, financial_transaction_id = "SUCCESSFUL", None, "123"

        return Status()


def test_a_500_internal_processing_error_on_a_post_is_an_unknown_outcome_resolved_by_a_get(tmp_path):
    assert is_unknown_outcome(ApiError("x", status=500, code="INTERNAL_PROCESSING_ERROR"))
    assert is_unknown_outcome(ApiError("x", status=500, code="SERVICE_UNAVAILABLE"))
    assert not is_unknown_outcome(ApiError("x", status=500, code="INVALID_CURRENCY"))
    assert not is_unknown_outcome(ApiError("x", status=500, code="NOT_ALLOWED_TARGET_ENVIRONMENT"))
    assert not is_unknown_outcome(ApiError("x", status=400))
    momo = _StoresThenFails()
    with Journal(tmp_path / "journal.sqlite3") as journal:
        ref = str(uuid.uuid4())
        journal.record_new(reference_id=ref, product="disbursement", operation="transfer",
                           body={"amount": "1", "currency": "EUR",
                                 "payee": {"partyIdType": "MSISDN", "partyId": "46733123999"}})

        async def no_sleep(_):
            return None

        entry = asyncio.run(submit(journal, momo, ref, policy=SendPolicy(backoff=0), sleep=no_sleep))
        assert entry.state is State.FINAL and entry.status == "SUCCESSFUL"
    assert momo.posts == 1 and list(momo.stored) == [ref]  # found by the GET: never sent twice


def test_settle_after_of_the_local_emulator_comes_from_the_environment(tmp_path, monkeypatch):
    from momo_cli.api.factory import local_emulator_transport
    from momo_cli.sandbox.transport import _APPS

    def settle_after() -> float:
        local_emulator_transport(tmp_path)
        return _APPS[str((tmp_path / "emulator.db").resolve())][0].settle_after

    assert settle_after() == 2.0  # the emulator's own default when unset
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    assert settle_after() == 0
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "1.5")
    assert settle_after() == 1.5
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", bad)
        with pytest.raises(ConfigError, match="MOMO_EMULATOR_SETTLE_AFTER"):
            local_emulator_transport(tmp_path)


def test_disburse_finds_batch_in_its_own_module(monkeypatch):
    import sys
    import types

    from momo_cli.commands import disburse as module

    @click.command("batch")
    def fake_batch():
        """Pay a file."""

    fake = types.ModuleType("momo_cli.commands.disburse_batch")
    fake.batch = fake_batch
    monkeypatch.setitem(sys.modules, "momo_cli.commands.disburse_batch", fake)
    ctx = click.Context(module.disburse)
    assert module.disburse.get_command(ctx, "batch") is fake_batch
    assert "batch" in module.disburse.list_commands(ctx)
    assert {"transfer", "deposit", "refund"} <= set(module.disburse.list_commands(ctx))


def test_disburse_works_without_the_batch_module(monkeypatch):
    import importlib

    from momo_cli.commands import disburse as module

    real = importlib.import_module

    def missing(name, *args, **kwargs):
        if name == "momo_cli.commands.disburse_batch":
            error = ModuleNotFoundError(f"No module named {name!r}")
            error.name = name
            raise error
        return real(name, *args, **kwargs)

    monkeypatch.setattr(module.importlib, "import_module", missing)
    ctx = click.Context(module.disburse)
    assert module.disburse.get_command(ctx, "batch") is None
    assert "batch" not in module.disburse.list_commands(ctx)
