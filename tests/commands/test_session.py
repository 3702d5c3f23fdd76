"""Session: self-provisioning on emulators, the once-only notice, and no self-provisioning elsewhere."""

from __future__ import annotations

import asyncio
import io
import json
import os

import pytest

from momo_cli.api.selfprovision import FILENAME, is_emulator_url
from momo_cli.commands._session import LOCAL_NOTICE, Session
from momo_cli.context import AppContext
from momo_cli.errors import ConfigError
from momo_cli.output import Output


def _session(**flags) -> tuple[Session, io.StringIO]:
    err = io.StringIO()
    return Session(AppContext(**flags), Output(stdout=io.StringIO(), stderr=err)), err


async def _balance(session: Session, product: str = "collection"):
    async with session.client(product) as client:
        return await client.balance(product)


def test_local_self_provisions_once_and_remembers(isolated_dirs):
    session, err = _session()
    first = asyncio.run(_balance(session))
    assert first.currency == "EUR"
    saved = isolated_dirs / "data" / FILENAME
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    users = json.loads(saved.read_text())["local"]
    assert set(users) == {"collection"}
    asyncio.run(_balance(session, "collection"))
    assert json.loads(saved.read_text())["local"] == users  # the same user, not a new one
    assert err.getvalue().count(LOCAL_NOTICE) == 1


def test_a_reset_emulator_gets_new_users_instead_of_an_auth_error(isolated_dirs):
    import httpx

    from momo_cli.api.factory import local_emulator_transport

    session, _ = _session()
    asyncio.run(_balance(session))
    before = json.loads((isolated_dirs / "data" / FILENAME).read_text())["local"]["collection"]

    async def reset():
        transport = local_emulator_transport(isolated_dirs / "data")
        async with httpx.AsyncClient(transport=transport, base_url="http://momo.local") as http:
            assert (await http.post("/_sandbox/reset")).status_code in (200, 204)

    asyncio.run(reset())
    for name in os.listdir(isolated_dirs / "cache"):
        os.remove(isolated_dirs / "cache" / name)
    session, _ = _session()
    assert asyncio.run(_balance(session)).currency == "EUR"
    after = json.loads((isolated_dirs / "data" / FILENAME).read_text())["local"]["collection"]
    assert after["user_id"] != before["user_id"]


def test_configured_credentials_win_over_self_provisioning(isolated_dirs, monkeypatch):
    session, _ = _session()
    asyncio.run(_balance(session))
    users = json.loads((isolated_dirs / "data" / FILENAME).read_text())["local"]["collection"]
    monkeypatch.setenv("MOMO_COLLECTION_USER_ID", users["user_id"])
    monkeypatch.setenv("MOMO_COLLECTION_API_KEY", users["api_key"])
    monkeypatch.setenv("MOMO_COLLECTION_SUBSCRIPTION_KEY", users["subscription_key"])
    (isolated_dirs / "data" / FILENAME).unlink()
    session, _ = _session()
    asyncio.run(_balance(session))
    assert not (isolated_dirs / "data" / FILENAME).exists()


def test_real_hosts_are_never_self_provisioned(isolated_dirs):
    session, err = _session(base_url="https://sandbox.momodeveloper.mtn.com")
    with pytest.raises(ConfigError) as exc:
        asyncio.run(_balance(session))
    assert "MOMO_COLLECTION_USER_ID" in exc.value.one_line()
    assert err.getvalue() == ""
    assert not (isolated_dirs / "data" / FILENAME).exists()


@pytest.mark.parametrize(
    "url,expected",
    [
        ("local", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("https://sandbox.momodeveloper.mtn.com", False),
        ("https://proxy.momoapi.mtn.com", False),
    ],
)
def test_which_urls_are_emulators(url, expected):
    assert is_emulator_url(url) is expected


def test_served_emulator_self_provisions_too(served_emulator):
    server = served_emulator()
    session, err = _session(base_url=server.url)
    assert asyncio.run(_balance(session, "disbursement")).currency == "EUR"
    paths = [r["path"] for r in server.requests()]
    assert paths.count("/v1_0/apiuser") == 1
    assert "emulator at" in err.getvalue()


def test_sandbox_reset_forgets_the_local_users(isolated_dirs):
    from click.testing import CliRunner

    from momo_cli.cli import root

    session, _ = _session()
    asyncio.run(_balance(session))
    assert "local" in json.loads((isolated_dirs / "data" / FILENAME).read_text())
    result = CliRunner().invoke(root, ["sandbox", "reset"])
    assert result.exit_code == 0, result.stderr
    assert "local" not in json.loads((isolated_dirs / "data" / FILENAME).read_text())
    session, _ = _session()
    assert asyncio.run(_balance(session)).currency == "EUR"  # the cached token is not reused


def test_a_new_callback_host_gets_a_new_self_provisioned_user(isolated_dirs, monkeypatch):
    """providerCallbackHost is fixed when a user is made: another configured host needs another user."""
    saved = isolated_dirs / "data" / FILENAME
    session, _ = _session()
    asyncio.run(_balance(session))
    first = json.loads(saved.read_text())["local"]["collection"]
    assert first["callback_host"] == "127.0.0.1"
    monkeypatch.setenv("MOMO_CALLBACK_HOST", "https://Webhook.Example.com/momo")
    session, _ = _session()
    asyncio.run(_balance(session))
    second = json.loads(saved.read_text())["local"]["collection"]
    assert second["callback_host"] == "webhook.example.com"
    assert second["user_id"] != first["user_id"]
    session, _ = _session()
    asyncio.run(_balance(session))
    assert json.loads(saved.read_text())["local"]["collection"]["user_id"] == second["user_id"]
