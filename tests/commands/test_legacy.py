"""`mtnmomo [--provider HOST] [--key KEY]`: the older tool's command, its prompts and its exact answer."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from momo_cli.api import provisioning
from momo_cli.cli import legacy_main
from momo_cli.commands.provision import SANDBOX_URL, legacy_command
from momo_cli.config.store import ProfileStore
from momo_cli.errors import NetworkError
from momo_cli.exitcodes import ExitCode

KEY = "a2cb4bb083ba43d3b18ce4a13eb32346"
ANSWER_RE = re.compile(r"^Here is your User Id and API secret : (\{.*\})$")


def run(*args, input=None, env=None):
    return CliRunner().invoke(legacy_command, list(args), input=input, env=env, prog_name="mtnmomo")


def parse_answer(stdout: str) -> dict:
    """The last line is `Here is your User Id and API secret : {'UserId': ..., 'APISecret': ...}`."""
    line = stdout.rstrip("\n").splitlines()[-1]
    # a prompt answered from a pipe is not echoed, so the answer may follow the prompts on one line
    found = ANSWER_RE.match(line[line.find("Here is your"):])
    assert found, line
    answer = ast.literal_eval(found.group(1))
    assert list(answer) == ["UserId", "APISecret"]
    assert uuid.UUID(answer["UserId"]).version == 4
    return answer


def assert_one_line_error(result, code):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mtnmomo: error: ")
    assert "Traceback" not in result.stderr
    assert "Here is your" not in result.stdout


@pytest.fixture
def server(served_emulator):
    return served_emulator()


@pytest.fixture
def fake_provisioning(monkeypatch):
    calls = []

    async def fake(base_url, subscription_key, provider_callback_host, **kwargs):
        calls.append({"base_url": base_url, "key": subscription_key, "host": provider_callback_host, **kwargs})
        return provisioning.ProvisionedUser(str(uuid.uuid4()), "e" * 32, provider_callback_host, "sandbox")

    monkeypatch.setattr(provisioning, "provision_sandbox_user", fake)
    return calls


def test_exact_answer_against_the_served_emulator(server, monkeypatch):
    monkeypatch.setenv("MOMO_BASE_URL", server.url)
    result = run("--provider", "example.com", "--key", KEY)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    answer = parse_answer(result.stdout)
    assert result.stdout == (
        f"Here is your User Id and API secret : {{'UserId': '{answer['UserId']}', "
        f"'APISecret': '{answer['APISecret']}'}}\n"
    )
    # three requests, no sleep, and the secret works
    sent = [(r["method"], r["path"]) for r in server.requests()]
    assert sent[-3:] == [
        ("POST", "/v1_0/apiuser"),
        ("GET", f"/v1_0/apiuser/{answer['UserId']}"),
        ("POST", f"/v1_0/apiuser/{answer['UserId']}/apikey"),
    ]
    from tests.support.emulator import Credentials

    server.api().token(Credentials(answer["UserId"], answer["APISecret"], KEY), "collection")
    # nothing saved: the older command never did
    assert ProfileStore().profiles() == []


def test_prompts_for_both_values(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MOMO_BASE_URL", "local")
    result = run(input="example.com\n" + KEY + "\n")
    assert result.exit_code == 0, result.stderr
    # the test runner echoes what it types; a person sees the same prompts, in this order
    lines = result.stdout.splitlines()
    assert lines[0] == "providerCallBackHost: example.com"
    assert lines[1].startswith("Ocp-Apim-Subscription-Key: ")
    assert ANSWER_RE.match(lines[2])
    parse_answer(result.stdout)


def test_prompts_only_for_what_is_missing(isolated_dirs, monkeypatch, fake_provisioning):
    result = run("--provider", "example.com", input=KEY + "\n")
    assert result.exit_code == 0, result.stderr
    assert "providerCallBackHost" not in result.stdout
    assert result.stdout.startswith("Ocp-Apim-Subscription-Key: ")
    parse_answer(result.stdout)
    result = run("--key", KEY, input="example.com\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("providerCallBackHost: example.com\n")
    assert "Ocp-Apim-Subscription-Key" not in result.stdout
    parse_answer(result.stdout)
    assert [c["key"] for c in fake_provisioning] == [KEY, KEY]


def test_no_input_is_one_line(isolated_dirs, fake_provisioning):
    assert_one_line_error(run("--provider", "example.com", input=""), ExitCode.USAGE)
    assert_one_line_error(run(input=""), ExitCode.USAGE)
    assert fake_provisioning == []


def test_current_sandbox_when_no_base_url_is_set(isolated_dirs, fake_provisioning):
    result = run("--provider", "example.com", "--key", KEY)
    assert result.exit_code == 0, result.stderr
    assert fake_provisioning[0]["base_url"] == SANDBOX_URL == "https://sandbox.momodeveloper.mtn.com"
    assert fake_provisioning[0]["transport"] is None  # a real, TLS-verified connection
    assert fake_provisioning[0]["host"] == "example.com"
    assert parse_answer(result.stdout)["APISecret"] == "e" * 32


def test_older_base_url_name(isolated_dirs, monkeypatch, fake_provisioning):
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9")
    assert run("--provider", "example.com", "--key", KEY).exit_code == 0
    assert fake_provisioning[-1]["base_url"] == "http://127.0.0.1:9"


def test_momo_base_url_beats_base_url(isolated_dirs, monkeypatch, server):
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("MOMO_BASE_URL", server.url)
    result = run("--provider", "example.com", "--key", KEY)
    assert result.exit_code == 0, result.stderr
    answer = parse_answer(result.stdout)
    assert any(r["path"] == f"/v1_0/apiuser/{answer['UserId']}/apikey" for r in server.requests())


def test_an_empty_momo_base_url_counts_as_unset(isolated_dirs, monkeypatch, fake_provisioning):
    monkeypatch.setenv("MOMO_BASE_URL", "  ")
    monkeypatch.setenv("BASE_URL", "local")
    assert run("--provider", "example.com", "--key", KEY).exit_code == 0
    assert fake_provisioning[-1]["base_url"] == "local"


def test_a_url_as_provider_is_reduced_to_its_host(isolated_dirs, monkeypatch):
    """The older command sent whatever it got; we keep accepting a URL, and send its host."""
    monkeypatch.setenv("MOMO_BASE_URL", "local")
    result = run("--provider", "https://Hooks.Example.com/momo", "--key", KEY)
    assert result.exit_code == 0, result.stderr
    answer = parse_answer(result.stdout)
    from momo_cli.commands.provision import show
    from momo_cli.context import AppContext

    shown = CliRunner().invoke(show, [answer["UserId"], "--key", KEY, "--json"], obj=AppContext())
    assert '"provider_callback_host": "hooks.example.com"' in shown.stdout


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (["--provider", "example.com", "--key", ""], {}, ExitCode.USAGE, "--key: is empty"),
        (["--provider", "not a host", "--key", KEY], {}, ExitCode.USAGE, "not a host name"),
        (["--provider", "example.com", "--key", KEY], {"BASE_URL": "https://momo.example.com"}, ExitCode.USAGE,
         "not an MTN MoMo host"),
        (["--provider", "example.com", "--key", KEY], {"MOMO_BASE_URL": "http://sandbox.momodeveloper.mtn.com"},
         ExitCode.USAGE, "plain http"),
        (["--provider", "example.com", "--key", KEY, "--frobnicate"], {}, ExitCode.USAGE, "No such option"),
    ],
)
def test_bad_input_is_one_line(isolated_dirs, monkeypatch, fake_provisioning, args, env, code, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(*args)
    assert_one_line_error(result, code)
    assert words in result.stderr
    assert fake_provisioning == []


def test_unreachable_host_is_one_line_exit_6(isolated_dirs, monkeypatch):
    from tests.support.emulator import free_port

    monkeypatch.setenv("MOMO_BASE_URL", f"http://127.0.0.1:{free_port()}")
    result = run("--provider", "example.com", "--key", KEY)
    assert_one_line_error(result, ExitCode.NETWORK)
    assert KEY not in result.stderr


def test_the_retired_host_is_named(isolated_dirs, monkeypatch):
    async def unreachable(*args, **kwargs):
        raise NetworkError("create API user: could not connect to ericssonbasicapi2.azure-api.net")

    monkeypatch.setattr(provisioning, "provision_sandbox_user", unreachable)
    monkeypatch.setenv("BASE_URL", "https://ericssonbasicapi2.azure-api.net")
    result = run("--provider", "example.com", "--key", KEY)
    assert result.exit_code == ExitCode.NETWORK
    note, error = result.stderr.strip().splitlines()
    assert "retired" in note and "BASE_URL" in note
    assert error.startswith("mtnmomo: error: ") and SANDBOX_URL in error


# -- through the `mtnmomo` entry point ---------------------------------------------------------------


#: Runs the `mtnmomo` console script's target as our package declares it.
ENTRY_POINT = (
    "import sys\n"
    "from importlib.metadata import distribution\n"
    "[ep] = [e for e in distribution('momo-cli').entry_points if e.name == 'mtnmomo']\n"
    "assert ep.value == 'momo_cli.cli:legacy_main', ep.value\n"
    "sys.argv[0] = 'mtnmomo'\n"
    "sys.exit(ep.load()())\n"
)


def _mtnmomo(*args, env=None, input=None):
    """The `mtnmomo` script next to the interpreter when it is ours, else our entry point run the same way.

    (The older mtnmomo package, if installed in the same environment after momo-cli, replaces the
    script with its own: both packages declare `mtnmomo`.)
    """
    script = Path(sys.executable).with_name("mtnmomo")
    ours = script.exists() and "momo_cli.cli" in script.read_text(errors="replace")
    command = [str(script)] if ours else [sys.executable, "-c", ENTRY_POINT]
    return subprocess.run(command + list(args), capture_output=True, text=True, input=input, timeout=60,
                          env={**os.environ, **(env or {})})


def test_the_console_script(isolated_dirs):
    proc = _mtnmomo("--provider", "example.com", "--key", KEY, env={"MOMO_BASE_URL": "local"})
    assert proc.returncode == 0, proc.stderr
    parse_answer(proc.stdout)
    assert proc.stderr == ""


def test_the_console_script_prompts_on_stdin(isolated_dirs):
    proc = _mtnmomo(env={"MOMO_BASE_URL": "local"}, input=f"example.com\n{KEY}\n")
    assert proc.returncode == 0, proc.stderr
    assert "providerCallBackHost: " in proc.stdout and "Ocp-Apim-Subscription-Key: " in proc.stdout
    assert proc.stdout.startswith("providerCallBackHost: Ocp-Apim-Subscription-Key: Here is your")
    assert KEY not in proc.stdout  # not echoed
    parse_answer(proc.stdout)


def test_the_console_script_error_is_one_line(isolated_dirs):
    proc = _mtnmomo("--provider", "https://x.example.com/cb", "--key", "", env={"MOMO_BASE_URL": "local"})
    assert proc.returncode == ExitCode.USAGE
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["mtnmomo: error: --key: is empty (hint: copy the Primary key of "
                                                "the product from momodeveloper.mtn.com/developer)"]


def test_legacy_main_dispatch(isolated_dirs, monkeypatch, capsys, fake_provisioning):
    """--provider/--key (or nothing) select the older command; anything else is momo itself."""
    with pytest.raises(SystemExit) as exit_info:
        legacy_main(["--provider=example.com", "--key=" + KEY])
    assert exit_info.value.code == 0
    parse_answer(capsys.readouterr().out)

    with pytest.raises(SystemExit) as exit_info:
        legacy_main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Usage: mtnmomo [OPTIONS] COMMAND" in out and "provision" in out and "doctor" in out
    assert out.startswith("mtnmomo --provider HOST --key KEY")  # what the older tool's users look for

    with pytest.raises(SystemExit) as exit_info:
        legacy_main(["--provider", "example.com", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Usage: mtnmomo [OPTIONS]" in out and "--provider HOST" in out and "Ocp-Apim-Subscription-Key" in out

    with pytest.raises(SystemExit) as exit_info:
        legacy_main(["profile", "path", "--json"])
    assert exit_info.value.code == 0
    assert '"config_dir"' in capsys.readouterr().out
    assert len(fake_provisioning) == 1
