"""`momo provision` and `momo provision show`: requests on the wire, saving, JSON, prompts, bad input, masking."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

from momo_cli.api import provisioning
from momo_cli.cli import root
from momo_cli.config.store import ProfileStore
from momo_cli.exitcodes import ExitCode
from momo_cli.output import Output

SUB_KEY = "SUBKEYMARKER0123456789abcdef0123"
SANDBOX = "https://sandbox.momodeveloper.mtn.com"
JSON_KEYS = {"product", "user_id", "api_key", "provider_callback_host", "target_environment", "profile",
             "env_file", "base_url"}


def run(*args, input=None, env=None):
    return CliRunner().invoke(root, list(args), input=input, env=env)


def assert_one_line_error(result, code=None):
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    # the emulator's "no real money moves" notice may come first; the error is one line
    lines = [line for line in result.stderr.strip().splitlines() if "no real money moves" not in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("momo: error: ")
    assert "Traceback" not in result.stderr


def assert_absent(secret, *texts):
    for text in texts:
        assert secret not in text
        assert secret[4:-4] not in text


@pytest.fixture
def server(served_emulator):
    return served_emulator()


@pytest.fixture
def no_sleep():
    """Any sleep while provisioning fails the test (undone before the server fixture stops its process)."""
    import asyncio
    import time

    def forbidden(*args, **kwargs):
        raise AssertionError("provisioning slept")

    real_async_sleep = asyncio.sleep

    async def async_forbidden(delay, *args, **kwargs):
        if delay and delay > 0:
            raise AssertionError(f"provisioning slept {delay} s")
        return await real_async_sleep(0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", forbidden)
        patch.setattr(asyncio, "sleep", async_forbidden)
        patch.setitem(provisioning.provision_sandbox_user.__kwdefaults__, "sleep", async_forbidden)
        yield


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setattr(Output, "interactive", property(lambda self: True))


@pytest.fixture
def debug_logging():
    """`--debug` adds a handler to the momo_cli logger; take it away again after the test."""
    logger = logging.getLogger("momo_cli")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _api_requests(server):
    return [(r["method"], r["path"]) for r in server.requests()]


# -- on the wire -------------------------------------------------------------------------------------


def test_three_requests_and_no_sleep_on_the_served_emulator(server, no_sleep):
    before = _api_requests(server)
    result = run("--base-url", server.url, "provision", "--provider", "example.com", "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    user_id = data["user_id"]
    sent = _api_requests(server)[len(before):]
    assert sent == [
        ("POST", "/v1_0/apiuser"),
        ("GET", f"/v1_0/apiuser/{user_id}"),
        ("POST", f"/v1_0/apiuser/{user_id}/apikey"),
    ]
    assert [r["status"] for r in server.requests()[len(before):]] == [201, 200, 201]


def test_the_new_credentials_work_and_a_second_command_fetches_no_new_token(server):
    """Two processes in the token's life: one /token/ request between them (the cache on disk)."""
    result = run("--base-url", server.url, "provision", "--provider", "example.com", "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    script = (
        "import asyncio, sys\n"
        "from momo_cli.context import AppContext\n"
        "from momo_cli.commands._session import Session\n"
        "async def main():\n"
        "    app = AppContext(base_url=sys.argv[1])\n"
        "    async with Session(app, app.output()).client('collection') as client:\n"
        "        balance = await client.balance('collection')\n"
        "    print(balance.available_balance, balance.currency)\n"
        "asyncio.run(main())\n"
    )
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", script, server.url], capture_output=True, text=True,
                              env=dict(os.environ), timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[1] == "EUR"
    paths = [path for _, path in _api_requests(server)]
    assert paths.count("/collection/token/") == 1
    assert paths.count("/collection/v1_0/account/balance") == 2
    # no self-provisioning either: the profile's credentials were used
    assert paths.count("/v1_0/apiuser") == 1


# -- saving ------------------------------------------------------------------------------------------


def test_saves_into_the_selected_profile_with_private_files(server):
    result = run("--base-url", server.url, "provision", "--provider", "example.com", "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS
    assert data["product"] == "collection"
    assert data["profile"] == "default"
    assert data["provider_callback_host"] == "example.com"
    assert data["target_environment"] == "sandbox"
    assert data["env_file"] is None
    assert uuid.UUID(data["user_id"]).version == 4
    store = ProfileStore()
    values = store.values("default")
    assert values["collection.user_id"] == data["user_id"]
    assert values["collection.api_key"] == data["api_key"]
    assert values["collection.subscription_key"] == SUB_KEY
    # the credentials belong to this base URL and callback host: the profile says so too
    assert values["base_url"] == server.url
    assert values["callback_host"] == "example.com"
    assert stat.S_IMODE(os.stat(store.credentials_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.config_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    assert SUB_KEY not in store.config_path.read_text()
    assert data["api_key"] not in store.config_path.read_text()


def test_profile_option_saves_into_another_profile(isolated_dirs):
    result = run("provision", "--provider", "example.com", "--profile", "work", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["profile"] == "work"
    store = ProfileStore()
    assert store.values("work")["collection.user_id"] == data["user_id"]
    assert "collection.user_id" not in store.values("default")
    # an existing profile's own settings are used, as with `momo --profile work`
    result = run("provision", "--profile", "work", "--product", "disbursement", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["provider_callback_host"] == "example.com"  # work's callback_host


def test_local_emulator_by_default_with_a_generated_key(isolated_dirs):
    result = run("provision", "--provider", "example.com")
    assert result.exit_code == 0, result.stderr
    assert "no real money moves" in result.stderr
    assert "Created a collection API user in sandbox (local emulator)" in result.stdout
    values = ProfileStore().values("default")
    assert "base_url" not in values  # local is the default: nothing to save
    assert len(values["collection.subscription_key"]) == 32
    user_id = values["collection.user_id"]
    api_key = values["collection.api_key"]
    # shown once, here, in full
    assert user_id in result.stdout and api_key in result.stdout
    assert "shown only this once" in result.stdout
    assert str(ProfileStore().credentials_path) in result.stdout


def test_all_products(server):
    result = run("--base-url", server.url, "provision", "--product", "all", "--provider", "example.com",
                 "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["product"] for d in data] == ["collection", "disbursement", "remittance"]
    assert len({d["user_id"] for d in data}) == 3
    assert all(set(d) == JSON_KEYS for d in data)
    values = ProfileStore().values("default")
    for entry in data:
        assert values[f"{entry['product']}.user_id"] == entry["user_id"]
        assert values[f"{entry['product']}.api_key"] == entry["api_key"]
    assert sum(1 for _, path in _api_requests(server) if path == "/v1_0/apiuser") == 3


def test_key_from_the_environment_older_name_too(server, monkeypatch):
    monkeypatch.setenv("DISBURSEMENT_PRIMARY_KEY", "older-name-key-0123456789")
    monkeypatch.setenv("MOMO_COLLECTION_SUBSCRIPTION_KEY", "momo-name-key-0123456789")
    result = run("--base-url", server.url, "provision", "--provider", "example.com", "--product", "all", "--json")
    assert result.exit_code == 0, result.stderr
    store = ProfileStore()
    values = store.values("default")
    assert values["collection.subscription_key"] == "momo-name-key-0123456789"
    assert values["disbursement.subscription_key"] == "older-name-key-0123456789"
    assert len(values["remittance.subscription_key"]) == 32  # generated: the emulator takes any key


def test_callback_host_from_the_settings(server, monkeypatch):
    monkeypatch.setenv("MOMO_CALLBACK_HOST", "hooks.example.org")
    result = run("--base-url", server.url, "provision", "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["provider_callback_host"] == "hooks.example.org"


# -- --env-file --------------------------------------------------------------------------------------


def test_env_file_new(server, isolated_dirs):
    path = isolated_dirs / "momo.env"
    result = run("--base-url", server.url, "provision", "--provider", "example.com", "--key", SUB_KEY,
                 "--env-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["profile"] is None and data["env_file"] == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    assert dict(line.split("=", 1) for line in lines) == {
        "MOMO_BASE_URL": server.url,
        "MOMO_TARGET_ENVIRONMENT": "sandbox",
        "MOMO_CALLBACK_HOST": "example.com",
        "MOMO_COLLECTION_USER_ID": data["user_id"],
        "MOMO_COLLECTION_API_KEY": data["api_key"],
        "MOMO_COLLECTION_SUBSCRIPTION_KEY": SUB_KEY,
    }
    assert ProfileStore().profiles() == []  # nothing went to a profile


def test_env_file_updates_in_place_and_tightens_the_mode(isolated_dirs):
    path = isolated_dirs / ".env"
    path.write_text(
        "# my settings\n"
        "MOMO_TIMEOUT=10\n"
        "export MOMO_COLLECTION_USER_ID=old-user\n"
        "MOMO_COLLECTION_API_KEY='old-key'\n"
        "MOMO_COLLECTION_API_KEY=older-key\n"
        "OTHER=keep me\n"
    )
    path.chmod(0o644)
    result = run("provision", "--provider", "example.com", "--key", SUB_KEY, "--env-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    text = path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "now 0600" in result.stderr
    assert text.startswith("# my settings\nMOMO_TIMEOUT=10\n")
    assert f"export MOMO_COLLECTION_USER_ID={data['user_id']}\n" in text
    assert text.count("MOMO_COLLECTION_API_KEY=") == 1
    assert f"MOMO_COLLECTION_API_KEY={data['api_key']}\n" in text
    assert "OTHER=keep me\n" in text
    assert "old-key" not in text and "older-key" not in text
    # the settings read it back (it is the .env of the working directory)
    shown = run("profile", "show", "--json")
    settings = json.loads(shown.stdout)["settings"]
    assert settings["collection"]["user_id"]["value"] == data["user_id"]
    assert settings["collection"]["user_id"]["source"] == ".env"
    assert settings["timeout"]["value"] == 10


# -- provision show ----------------------------------------------------------------------------------


def test_show_reads_a_user_back(server):
    made = json.loads(run("--base-url", server.url, "provision", "--provider", "cb.example.com", "--key", SUB_KEY,
                          "--json").stdout)
    result = run("--base-url", server.url, "provision", "show", made["user_id"], "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["user_id"] == made["user_id"]
    assert data["provider_callback_host"] == "cb.example.com"
    assert data["target_environment"] == "sandbox"
    assert made["api_key"] not in result.stdout + result.stderr
    # the configured user is the default; a human view too
    result = run("--base-url", server.url, "provision", "show")
    assert result.exit_code == 0, result.stderr
    assert made["user_id"] in result.stdout and "cb.example.com" in result.stdout
    assert _api_requests(server)[-1] == ("GET", f"/v1_0/apiuser/{made['user_id']}")


def test_show_warns_when_the_callback_host_differs(isolated_dirs, monkeypatch):
    made = json.loads(run("provision", "--provider", "a.example.com", "--json").stdout)
    monkeypatch.setenv("MOMO_CALLBACK_HOST", "b.example.com")
    result = run("provision", "show", made["user_id"])
    assert result.exit_code == 0
    assert "b.example.com" in result.stderr and "a.example.com" in result.stderr


def test_show_unknown_user_is_one_line(isolated_dirs):
    result = run("provision", "show", str(uuid.uuid4()), "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.API_REJECTED)
    assert "no such resource" in result.stderr and "built-in emulator" in result.stderr


@pytest.mark.parametrize("user_id", ["not-a-uuid", "123"])
def test_show_bad_user_id(isolated_dirs, user_id):
    assert_one_line_error(run("provision", "show", user_id, "--key", SUB_KEY), ExitCode.USAGE)


def test_show_without_a_user_id_or_configured_user(isolated_dirs):
    assert_one_line_error(run("--base-url", SANDBOX, "provision", "show", "--key", SUB_KEY), ExitCode.USAGE)


def test_show_takes_the_groups_key(isolated_dirs, monkeypatch):
    made = json.loads(run("provision", "--provider", "example.com", "--json").stdout)
    result = run("provision", "--key", SUB_KEY, "show", made["user_id"], "--json")
    assert result.exit_code == 0, result.stderr


def test_options_of_show_before_show_are_refused(isolated_dirs):
    assert_one_line_error(run("provision", "--json", "show", str(uuid.uuid4())), ExitCode.USAGE)


# -- prompts -----------------------------------------------------------------------------------------


@pytest.fixture
def fake_provisioning(monkeypatch):
    """Record what would be sent to a real host, and answer as the sandbox would."""
    calls = []

    async def fake(base_url, subscription_key, provider_callback_host, **kwargs):
        calls.append({"base_url": base_url, "key": subscription_key, "host": provider_callback_host, **kwargs})
        return provisioning.ProvisionedUser(str(uuid.uuid4()), "f" * 32, provider_callback_host, "sandbox")

    monkeypatch.setattr(provisioning, "provision_sandbox_user", fake)
    return calls


def test_prompts_on_a_terminal_with_hidden_key(isolated_dirs, terminal, fake_provisioning):
    result = run("--base-url", SANDBOX, "provision", "--json", input="hooks.example.com\nPROMPTED-KEY-0123456789\n")
    assert result.exit_code == 0, result.stderr
    assert fake_provisioning[0]["base_url"] == SANDBOX
    assert fake_provisioning[0]["key"] == "PROMPTED-KEY-0123456789"
    assert fake_provisioning[0]["host"] == "hooks.example.com"
    assert "Provider callback host" in result.stderr
    assert "subscription key" in result.stderr
    assert "PROMPTED-KEY-0123456789" not in result.stderr + result.stdout  # hidden input, never echoed
    values = ProfileStore().values("default")
    assert values["collection.subscription_key"] == "PROMPTED-KEY-0123456789"
    assert values["base_url"] == SANDBOX


def test_a_url_typed_at_the_prompt_is_refused(isolated_dirs, terminal, fake_provisioning):
    result = run("--base-url", SANDBOX, "provision", input="https://hooks.example.com/cb\n")
    assert result.exit_code == ExitCode.USAGE
    assert "just the host" in result.stderr
    assert fake_provisioning == []


def test_the_prompt_offers_loopback_on_an_emulator(isolated_dirs, terminal):
    result = run("provision", "--json", input="\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["provider_callback_host"] == "127.0.0.1"


def test_no_terminal_and_no_key_for_a_real_host(isolated_dirs, fake_provisioning):
    result = run("--base-url", SANDBOX, "provision", "--provider", "example.com")
    assert_one_line_error(result, ExitCode.CONFIG)
    assert "MOMO_COLLECTION_SUBSCRIPTION_KEY" in result.stderr
    assert fake_provisioning == []


def test_no_terminal_and_no_host_for_a_real_host(isolated_dirs, fake_provisioning):
    result = run("--base-url", SANDBOX, "provision", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.CONFIG)
    assert "--provider" in result.stderr


def test_one_key_for_all_products_on_a_real_host_gets_a_note(isolated_dirs, fake_provisioning):
    result = run("--base-url", SANDBOX, "provision", "--product", "all", "--provider", "example.com",
                 "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    assert "each product has its own subscription key" in result.stderr
    assert len(fake_provisioning) == 3


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--provider", "example.com", "--key", ""], ExitCode.USAGE, "--key: is empty"),
        (["--provider", "example.com", "--key", "   "], ExitCode.USAGE, "--key: is empty"),
        (["--provider", "example.com", "--key", "two words"], ExitCode.USAGE, "--key"),
        (["--provider", "https://example.com", "--key", "k"], ExitCode.USAGE, "just the host"),
        (["--provider", "https://example.com/cb", "--key", "k"], ExitCode.USAGE, "just the host (example.com)"),
        (["--provider", "example.com/cb", "--key", "k"], ExitCode.USAGE, "just the host"),
        (["--provider", "example.com:8080", "--key", "k"], ExitCode.USAGE, "without a port"),
        (["--provider", "", "--key", "k"], ExitCode.USAGE, "--provider: is empty"),
        (["--provider", "not a host", "--key", "k"], ExitCode.USAGE, "not a host name"),
        (["--product", "wallet", "--provider", "example.com"], ExitCode.USAGE, "'wallet' is not one of"),
        (["--profile", "bad name!", "--provider", "example.com"], ExitCode.USAGE, "not a valid profile name"),
        (["--profile", "p", "--env-file", "x.env", "--provider", "example.com"], ExitCode.USAGE, "choose one"),
        (["surplus"], ExitCode.USAGE, "No such command"),
    ],
)
def test_bad_input_is_one_line(isolated_dirs, fake_provisioning, args, code, words):
    result = run("provision", *args)
    assert_one_line_error(result, code)
    assert words in result.stderr
    assert fake_provisioning == []


def test_unreadable_config_is_one_line(isolated_dirs, fake_provisioning):
    config = ProfileStore().config_path
    config.parent.mkdir(parents=True)
    config.write_text("[profiles.default\nbase_url = 'x'\n")
    result = run("provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.CONFIG)
    assert "config.toml:1" in result.stderr


def test_config_that_cannot_be_read_is_one_line(isolated_dirs, fake_provisioning):
    config = ProfileStore().config_path
    config.mkdir(parents=True)  # a directory where the file should be: unreadable as a file, even for root
    result = run("provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.CONFIG)
    assert "is a directory" in result.stderr


def test_world_readable_credentials_are_refused(isolated_dirs, fake_provisioning):
    store = ProfileStore()
    store.save_credentials("default", "collection", api_key="k" * 32)
    store.credentials_path.chmod(0o644)
    result = run("provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.CONFIG)
    assert "chmod 600" in result.stderr


def test_production_target_environment_is_refused(isolated_dirs, fake_provisioning):
    result = run("--base-url", "https://proxy.momoapi.mtn.com", "--target-environment", "mtnuganda",
                 "provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.USAGE)
    assert "Partner Portal" in result.stderr


def test_a_host_that_is_not_mtn_is_refused(isolated_dirs, fake_provisioning):
    result = run("--base-url", "https://momo.example.com", "provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.USAGE)
    assert "--allow-any-host" in result.stderr


def test_unreachable_emulator_is_one_line_exit_6(isolated_dirs):
    from tests.support.emulator import free_port

    result = run("--base-url", f"http://127.0.0.1:{free_port()}", "provision", "--provider", "example.com")
    assert_one_line_error(result, ExitCode.NETWORK)
    assert ProfileStore().profiles() == []


def test_a_refused_subscription_key_is_exit_4(isolated_dirs, monkeypatch):
    from momo_cli.errors import AuthError

    async def refused(*args, **kwargs):
        raise AuthError("create API user: the subscription key was refused (401)", hint=provisioning.SUBSCRIPTION_KEY_HINT)

    monkeypatch.setattr(provisioning, "provision_sandbox_user", refused)
    result = run("--base-url", SANDBOX, "provision", "--provider", "example.com", "--key", SUB_KEY)
    assert_one_line_error(result, ExitCode.AUTH)
    assert SUB_KEY not in result.stderr


# -- masking -----------------------------------------------------------------------------------------


def test_debug_shows_no_secret_beyond_the_one_time_display(server, debug_logging):
    result = run("--debug", "--base-url", server.url, "provision", "--provider", "example.com",
                 "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    api_key = json.loads(result.stdout)["api_key"]
    assert "/v1_0/apiuser" in result.stderr  # the debug log is there
    assert_absent(SUB_KEY, result.stdout, result.stderr)
    assert_absent(api_key, result.stderr)  # only the one-time display on stdout has it

    later = [
        run("--debug", "--base-url", server.url, "provision", "show", "--json"),
        run("--debug", "--base-url", server.url, "profile", "show"),
        run("--debug", "--base-url", server.url, "profile", "show", "--json"),
        run("--debug", "--base-url", server.url, "doctor"),
        run("--debug", "--base-url", server.url, "doctor", "--json"),
    ]
    for shown in later:
        assert shown.exit_code == 0, (shown.stdout, shown.stderr)
        assert_absent(SUB_KEY, shown.stdout, shown.stderr)
        assert_absent(api_key, shown.stdout, shown.stderr)
    assert "debug: momo_cli.api" in later[-1].stderr


def test_debug_in_a_real_process_masks_everything(server):
    env = {**os.environ, "MOMO_BASE_URL": server.url}
    first = subprocess.run([sys.executable, "-m", "momo_cli", "--debug", "provision", "--provider", "example.com",
                            "--key", SUB_KEY, "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    api_key = json.loads(first.stdout)["api_key"]
    assert_absent(SUB_KEY, first.stdout, first.stderr)
    assert_absent(api_key, first.stderr)
    second = subprocess.run([sys.executable, "-m", "momo_cli", "--debug", "doctor"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert_absent(SUB_KEY, second.stdout, second.stderr)
    assert_absent(api_key, second.stdout, second.stderr)
