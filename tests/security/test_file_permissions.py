"""Files that hold secrets: created 0600 in a 0700 directory, and refused when others may read them.

design.md section 5: "a secrets file readable by others is refused with a message saying how to fix
it". That holds for the credentials file, the token cache and the file of the API users the CLI
provisions for itself on an emulator, through every command that would use them: exit 3, one line,
the `chmod 600 PATH` that fixes it, and the secret itself never shown. Nothing is journaled or sent
before the refusal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.support import files_under, invoke, marker, mode

SECRET = marker("PERMS")
LOOSE_MODES = (0o644, 0o640, 0o604, 0o660, 0o606, 0o620, 0o602, 0o666)

#: Commands that read the settings (and so the credentials file), each runnable on the local emulator.
SETTINGS_COMMANDS = [
    ["profile", "show"],
    ["profile", "show", "--json"],
    ["profile", "list"],
    ["balance"],
    ["balance", "--json"],
    ["collect", "request", "--amount", "1", "--payer", "46733123999", "--yes"],
    ["disburse", "transfer", "--amount", "1", "--payee", "46733123999", "--yes", "--json"],
    ["status", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70", "--product", "collection"],
    ["account", "active", "46733123999"],
    ["provision", "show"],
    ["journal", "reconcile"],
]


#: The one line an emulator command says first (no real money moves).
NOTICES = ("momo: using the built-in MoMo emulator", "momo: using the MoMo emulator at")


def dirs() -> dict[str, Path]:
    return {name: Path(os.environ[f"MOMO_{name.upper()}_DIR"]) for name in ("config", "data", "cache")}


def assert_refused(result, path: Path) -> None:
    assert result.exit_code == 3, (result.describe(), result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith(NOTICES)]
    assert len(lines) == 1, result.stderr  # one line (after the emulator notice, on an emulator)
    assert f"chmod 600 {path}" in lines[0], lines[0]
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def journal_entries() -> int:
    from momo_cli.journal.store import Journal, journal_path

    path = journal_path(dirs()["data"])
    if not path.exists():
        return 0
    with Journal(path) as journal:
        return len(journal.list())


@pytest.fixture
def saved_secret(fast_sending):
    """A profile `default` with a secret in credentials.toml (the local emulator provisions the rest)."""
    result = invoke(["profile", "set", "remittance.api_key", "-"], input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    path = dirs()["config"] / "credentials.toml"
    assert SECRET in path.read_text() and mode(path) == 0o600
    return path


@pytest.mark.parametrize("loose", LOOSE_MODES, ids=[f"{m:04o}" for m in LOOSE_MODES])
def test_a_credentials_file_others_may_access_is_refused(saved_secret, loose):
    os.chmod(saved_secret, loose)
    for argv in SETTINGS_COMMANDS:
        assert_refused(invoke(argv), saved_secret)
        assert_refused(invoke(["--debug", *argv]), saved_secret)
    assert journal_entries() == 0, "a request was journaled before the refusal"
    # the hint fixes it
    os.chmod(saved_secret, 0o600)
    assert invoke(["balance", "--product", "collection"]).exit_code == 0


def test_doctor_reports_a_loose_credentials_file(saved_secret):
    os.chmod(saved_secret, 0o644)
    result = invoke(["doctor", "--json"])
    assert result.exit_code == 3
    assert f"chmod 600 {saved_secret}" in result.stdout and SECRET not in result.stdout + result.stderr


def _cached_token() -> tuple[Path, str]:
    path = dirs()["cache"] / "tokens.json"
    tokens = [entry["access_token"] for entry in json.loads(path.read_text())["tokens"].values()]
    assert tokens
    return path, tokens[0]


@pytest.mark.parametrize("loose", (0o644, 0o640, 0o604, 0o660, 0o602), ids=lambda m: f"{m:04o}")
def test_a_token_cache_others_may_access_is_refused(fast_sending, loose):
    """Tokens are secrets (design.md section 5): a cache others may read is not used, and not
    silently kept either: the command stops before journaling or sending and says how to fix it."""
    first = invoke(["balance", "--json"])
    assert first.exit_code == 0, first.stderr
    path, token = _cached_token()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    os.chmod(path, loose)
    journaled = journal_entries()
    for argv in (["balance"], ["balance", "--json"],
                 ["collect", "request", "--amount", "1", "--payer", "46733123999", "--yes"],
                 ["--debug", "disburse", "transfer", "--amount", "1", "--payee", "46733123999", "--yes"],
                 ["account", "info", "46733123999", "--json"]):
        result = invoke(argv)
        assert_refused(result, path)
        assert token not in result.stdout + result.stderr
    assert journal_entries() == journaled, "a request was journaled before the refusal"
    doctor = invoke(["doctor", "--json"])
    assert doctor.exit_code == 3 and f"chmod 600 {path}" in doctor.stdout, doctor.stdout
    assert token not in doctor.stdout + doctor.stderr
    assert mode(path) == loose  # left for the person to fix, as the hint says
    os.chmod(path, 0o600)
    again = invoke(["balance", "--json"])
    assert again.exit_code == 0, again.stderr
    assert _cached_token()[1] == token  # the same token, still valid, is used again


def test_a_loose_self_provisioned_credentials_file_is_refused(fast_sending):
    assert invoke(["balance"]).exit_code == 0  # the CLI provisions its own users on the local emulator
    path = dirs()["data"] / "emulator-credentials.json"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    api_key = json.loads(path.read_text())["local"]["collection"]["api_key"]
    os.chmod(path, 0o644)
    for argv in (["balance"], ["collect", "request", "--amount", "1", "--payer", "46733123999", "--yes"]):
        result = invoke(argv)
        assert_refused(result, path)
        assert api_key not in result.stdout + result.stderr


def test_secret_files_are_0600_in_0700_dirs_even_with_an_open_umask(tmp_path):
    """A real process with umask 000: whatever the umask, what holds a secret is private."""
    env = {**os.environ, "MOMO_EMULATOR_SETTLE_AFTER": "0"}

    def momo(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "momo_cli", *args], input=input, text=True,
                              capture_output=True, env=env, timeout=60, preexec_fn=lambda: os.umask(0))

    assert momo("profile", "set", "collection.subscription_key", "-", input=SECRET + "\n").returncode == 0
    run = momo("collect", "request", "--amount", "1", "--payer", "46733123999", "--yes")
    assert run.returncode == 0, run.stderr
    expected = {dirs()["config"] / "credentials.toml", dirs()["cache"] / "tokens.json",
                dirs()["data"] / "emulator-credentials.json"}
    for path in expected:
        assert mode(path) == 0o600, f"{path}: {mode(path):04o}"
    for directory in dirs().values():
        assert mode(directory) == 0o700, f"{directory}: {mode(directory):04o}"
    # Every file momo made that others could read holds no secret (the journal, config.toml, locks ...)
    for path in files_under(*dirs().values()):
        if mode(path) & 0o077:
            assert SECRET.encode() not in path.read_bytes(), path
