"""The in-process transport (the `local` base URL) and the package's import rules."""

from __future__ import annotations

import ast
import dataclasses
import uuid
from pathlib import Path

import httpx
import pytest

from momo_cli.sandbox import EmulatorConfig, local_transport
from momo_cli.sandbox.transport import app_for, close_app
from tests.support.emulator import EMULATOR_BASE, SUBSCRIPTION_KEY, payment

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "momo_cli" / "sandbox"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_client_round_trip(emulator_async_client, callback_receiver):
    receiver = callback_receiver()
    client = emulator_async_client
    sk = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}
    user = str(uuid.uuid4())
    assert (await client.post("/v1_0/apiuser", headers={**sk, "X-Reference-Id": user},
                              json={"providerCallbackHost": "localhost"})).status_code == 201
    key = (await client.post(f"/v1_0/apiuser/{user}/apikey", headers=sk)).json()["apiKey"]
    token = (await client.post("/collection/token/", headers=sk, auth=(user, key))).json()["access_token"]
    headers = {**sk, "Authorization": f"Bearer {token}", "X-Target-Environment": "sandbox"}
    ref = str(uuid.uuid4())
    r = await client.post("/collection/v1_0/requesttopay", json=payment(),
                          headers={**headers, "X-Reference-Id": ref, "X-Callback-Url": receiver.url()})
    assert r.status_code == 202
    assert (await client.get(f"/collection/v1_0/requesttopay/{ref}", headers=headers)).json()["status"] == "SUCCESSFUL"
    # the dispatcher started lazily in this event loop delivers the callback while the test awaits
    import anyio

    with anyio.fail_after(10):
        while not receiver.received:
            await anyio.sleep(0.05)
    assert receiver.received[0].json()["status"] == "SUCCESSFUL"


def test_app_is_cached_per_database(tmp_path):
    config = EmulatorConfig(db_path=tmp_path / "a.db")
    try:
        assert app_for(config) is app_for(EmulatorConfig(db_path=tmp_path / "a.db"))
        assert app_for(config) is not app_for(EmulatorConfig(db_path=tmp_path / "b.db"))
        first = app_for(config)
        changed = dataclasses.replace(config, settle_after=0)
        second = app_for(changed)
        assert second is not first and second is app_for(changed)
        assert second.state.emulator.config.settle_after == 0
        # two apps on one file share one store (one set of connections) in this process
        assert second.state.emulator.store is first.state.emulator.store
    finally:
        close_app(config)
        close_app(EmulatorConfig(db_path=tmp_path / "b.db"))


def test_transport_answers_any_host(emulator_config):
    import asyncio

    async def call() -> int:
        async with httpx.AsyncClient(transport=local_transport(emulator_config), base_url="http://momo.local") as c:
            return (await c.get("/_sandbox/health")).status_code

    try:
        assert asyncio.run(call()) == 200
        assert asyncio.run(call()) == 200  # a second event loop gets its own dispatcher
    finally:
        close_app(emulator_config)


def test_emulator_imports_only_what_it_may():
    forbidden = ("momo_cli.api", "momo_cli.config", "momo_cli.commands", "momo_cli.journal", "momo_cli.cli")
    for path in SANDBOX_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_config_validation(tmp_path):
    for bad in ({"error_rate": 1.5}, {"drop_rate": -0.1}, {"settle_after": -1}, {"token_ttl": 0},
                {"callback_method": "PATCH"}, {"target_environment": "mars"}, {"rate_limit": -1}):
        with pytest.raises(ValueError):
            EmulatorConfig(db_path=tmp_path / "x.db", **bad)
    config = EmulatorConfig(db_path=str(tmp_path / "x.db"), callback_method="put", initial_balance="12.5")
    assert config.callback_method == "PUT" and isinstance(config.db_path, Path) and config.currency == "EUR"
    assert str(config.initial_balance) == "12.5"
