"""A key pasted with a stray character (a curly quote, a zero-width space, a control character).

A subscription key travels in an HTTP header; before this was checked, `MOMO_COLLECTION_SUBSCRIPTION_KEY`
with a `”` in it ended every command in `internal error: UnicodeEncodeError ...` (exit 1, a traceback
with --debug). Now it is refused where it comes from: exit 3 for the environment, .env and profiles
(naming the variable or file), exit 2 when typed on the command line; one line, the key never shown.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security.support import invoke, marker

BASE = marker("PASTED")
ODD = [BASE + "”", "\u200b" + BASE, BASE[:10] + "é" + BASE[10:], BASE + "\x01", BASE[:12] + "\u00a0" + BASE[12:]]
NOTICES = ("momo: using the", "tip: ")  # the emulator notice; `profile set`'s stdin tip


def assert_one_line_refusal(result, exit_code: int, secret: str) -> None:
    assert result.exit_code == exit_code, (result.describe(), result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith(NOTICES)]
    assert len(lines) == 1 and lines[0].startswith("momo: error:"), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    core = secret.strip("\u200b\x01”")
    assert core not in result.stdout + result.stderr


@pytest.mark.parametrize("secret", ODD, ids=["curly-quote", "zero-width-space", "accent", "control", "nbsp"])
@pytest.mark.parametrize("field", ["SUBSCRIPTION_KEY", "API_KEY"])
def test_from_the_environment_exit_3(monkeypatch, fast_sending, secret, field):
    monkeypatch.setenv("MOMO_COLLECTION_USER_ID", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70")
    monkeypatch.setenv("MOMO_COLLECTION_API_KEY", marker("KEY"))
    monkeypatch.setenv("MOMO_COLLECTION_SUBSCRIPTION_KEY", marker("SUB"))
    monkeypatch.setenv(f"MOMO_COLLECTION_{field}", secret)
    for argv in (["balance", "--product", "collection"], ["--debug", "balance", "--product", "collection"],
                 ["collect", "request", "--amount", "1", "--payer", "46733123999", "--yes", "--json"]):
        result = invoke(argv)
        assert_one_line_refusal(result, 3, secret)
        assert f"MOMO_COLLECTION_{field}" in result.stderr


def test_from_a_dotenv_file_and_a_profile_exit_3(isolated_dirs, fast_sending):
    secret = ODD[0]
    credentials = Path(os.environ["MOMO_CONFIG_DIR"]) / "credentials.toml"
    credentials.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    credentials.write_text(f'[profiles.default.collection]\nsubscription_key = "{secret}"\n')
    credentials.chmod(0o600)
    result = invoke(["balance", "--product", "collection"])
    assert_one_line_refusal(result, 3, secret)
    assert str(credentials) in result.stderr
    credentials.unlink()
    (isolated_dirs / ".env").write_text(f"MOMO_COLLECTION_SUBSCRIPTION_KEY={secret}\n")
    assert_one_line_refusal(invoke(["balance", "--product", "collection"]), 3, secret)


@pytest.mark.parametrize("secret", ODD[:3], ids=["curly-quote", "zero-width-space", "accent"])
def test_typed_on_the_command_line_exit_2(fast_sending, secret):
    assert_one_line_refusal(invoke(["profile", "set", "collection.subscription_key", secret]), 2, secret)
    assert_one_line_refusal(invoke(["profile", "set", "collection.api_key", "-"], input=secret + "\n"), 2, secret)
    assert_one_line_refusal(invoke(["provision", "--provider", "127.0.0.1", "--key", secret]), 2, secret)
    assert not (Path(os.environ["MOMO_CONFIG_DIR"]) / "credentials.toml").exists()


def test_the_older_mtnmomo_command_refuses_it_too(capsys, fast_sending):
    from momo_cli.cli import legacy_main

    with pytest.raises(SystemExit) as exit_info:
        legacy_main(["--provider", "127.0.0.1", "--key", ODD[0]])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured
    assert "Traceback" not in captured.err and BASE not in captured.out + captured.err
