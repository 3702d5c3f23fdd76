"""`momo sandbox serve | reset | transactions`: options, one-line errors, default paths, light imports."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from momo_cli.cli import root
from momo_cli.commands.sandbox import default_data_dir, default_db_path
from momo_cli.sandbox import EmulatorConfig
from tests.support.emulator import SandboxApi, make_client, payment
from tests.support.imports import imported_by


def run(*args: str):
    return CliRunner().invoke(root, list(args), prog_name="momo")


def test_help_imports_nothing_heavy():
    seen = imported_by(["sandbox", "--help"], ["sandbox", "serve", "--help"])
    assert "serve" in seen.stdout and "--drop-rate" in seen.stdout
    assert seen.heavy(("starlette", "uvicorn", "rich", "httpx", "momo_cli.sandbox.app")) == []


@pytest.mark.parametrize("args,message", [
    (["--error-rate", "1.5"], "--error-rate: 1.5 is not a share between 0 and 1"),
    (["--drop-rate", "-0.1"], "--drop-rate: -0.1 is not a share between 0 and 1"),
    (["--port", "70000"], "--port: 70000 is not a port number"),
    (["--settle-after", "-1"], "--settle-after: -1.0 must not be negative"),
    (["--token-ttl", "0"], "--token-ttl: 0.0 must be greater than zero"),
    (["--rate-limit", "-3"], "--rate-limit: -3 must not be negative"),
    (["--callback-method", "PATCH"], "Invalid value for '--callback-method'"),
])
def test_serve_validates_options(args, message):
    result = run("sandbox", "serve", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "momo_cli", "sandbox", "serve", "--port", str(port), "--db", str(tmp_path / "e.db")],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (f"momo: error: port {port} on 127.0.0.1 is already in use "
                                     "(hint: stop the other server or pick another --port)")
    assert result.stdout == ""


def test_bad_host_is_one_line(tmp_path):
    result = run("sandbox", "serve", "--host", "no-such-host.invalid", "--db", str(tmp_path / "e.db"))
    assert result.exit_code == 2 and result.stderr.startswith("momo: error: cannot listen on no-such-host.invalid")


def test_default_paths(tmp_path, monkeypatch):
    assert default_db_path() == default_data_dir() / "emulator.db"
    assert default_data_dir() == Path(os.environ["MOMO_DATA_DIR"])
    monkeypatch.delenv("MOMO_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "momo"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = default_data_dir()
    assert path == tmp_path / "home" / ".local" / "share" / "momo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def _fill(db_path):
    config = EmulatorConfig(db_path=db_path, settle_after=0)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        refs = [api.create(creds, "collection", "request_to_pay", payment("46733123451"))[0],
                api.create(creds, "disbursement", "transfer", payment(party_field="payee", amount="12.5"))[0]]
    return refs


def test_transactions_json_and_table_on_the_default_database():
    result = run("sandbox", "transactions", "--json")
    assert result.exit_code == 2 and "no emulator database" in result.stderr
    refs = _fill(default_db_path())
    result = run("sandbox", "transactions", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["reference_id"] for r in rows] == refs
    assert rows[0]["status"] == "FAILED" and rows[0]["reason"] == "APPROVAL_REJECTED"
    assert rows[1]["amount"] == "12.5" and rows[1]["operation"] == "transfer"
    result = run("sandbox", "transactions", "--json", "--product", "disbursement")
    assert [r["reference_id"] for r in json.loads(result.stdout)] == refs[1:]
    result = run("sandbox", "transactions")
    assert result.exit_code == 0
    assert refs[0] in result.stdout and "APPROVAL_REJECTED" in result.stdout and "12.5 EUR" in result.stdout


def test_reset_command(tmp_path):
    db = tmp_path / "x.db"
    _fill(db)
    result = run("sandbox", "reset", "--db", str(db))
    assert result.exit_code == 0 and "2 transactions, 1 API users removed" in result.stdout
    result = run("sandbox", "transactions", "--db", str(db), "--json")
    assert json.loads(result.stdout) == []
    result = run("sandbox", "transactions", "--db", str(db))
    assert result.exit_code == 0 and "no transactions" in result.stderr


def test_db_that_is_a_directory(tmp_path):
    result = run("sandbox", "transactions", "--db", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
