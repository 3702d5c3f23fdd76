"""`momo doctor`: every check, its line, its JSON, and the exit code of the worst failure."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from momo_cli.cli import root
from momo_cli.commands import doctor as doctor_module
from momo_cli.config.store import ProfileStore
from momo_cli.exitcodes import ExitCode
from momo_cli.output import Output

SANDBOX = "https://sandbox.momodeveloper.mtn.com"
SUB_KEY = "SUBKEYMARKER0123456789abcdef0123"


def run(*args, env=None):
    return CliRunner().invoke(root, list(args), env=env)


def checks(result) -> dict[str, dict]:
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    for entry in data:
        assert set(entry) == {"check", "ok", "detail"}
        assert isinstance(entry["ok"], bool) and isinstance(entry["detail"], str)
    return {entry["check"]: entry for entry in data}


def failed(result) -> list[str]:
    return [name for name, entry in checks(result).items() if not entry["ok"]]


@pytest.fixture
def server(module_served_emulator):
    return module_served_emulator()


@pytest.fixture
def provisioned(server):
    """A profile on the served emulator with collection credentials and a matching callback host."""
    result = run("--base-url", server.url, "provision", "--provider", "hooks.example.com", "--key", SUB_KEY, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def reachable(monkeypatch):
    """Pretend the TCP check passes (there is no network to the MTN sandbox in tests)."""

    def fake(report, base_url):
        report.ok("base URL reachable", f"{base_url} (test)")
        return True

    monkeypatch.setattr(doctor_module, "check_reachable", fake)


def test_nothing_configured_on_the_built_in_emulator_passes(isolated_dirs):
    result = run("doctor", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    found = checks(result)
    assert list(found) == [
        "config dir", "profile", "base URL", "target environment",
        "collection credentials", "disbursement credentials", "remittance credentials",
        "base URL reachable",
        "collection token", "disbursement token", "remittance token",
        "collection callback host", "disbursement callback host", "remittance callback host",
    ]
    assert all(entry["ok"] for entry in found.values())
    assert "does not exist yet" in found["config dir"]["detail"]
    assert "default" in found["profile"]["detail"]
    assert found["base URL"]["detail"].startswith("local")
    assert "EUR" in found["target environment"]["detail"]
    assert "emulator" in found["collection credentials"]["detail"]
    assert "valid for" in found["collection token"]["detail"]
    assert "127.0.0.1" in found["collection callback host"]["detail"]
    # a second run sees the self-provisioned users
    again = checks(run("doctor", "--json"))
    assert "self-provisioned" in again["collection credentials"]["detail"]


def test_provisioned_profile_on_the_served_emulator_passes(provisioned, server):
    result = run("--base-url", server.url, "doctor", "--product", "collection", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    found = checks(result)
    assert found["credentials file"]["detail"].endswith("(mode 0600)")
    assert found["config dir"]["detail"].endswith("(mode 0700)")
    assert "loopback" in found["base URL"]["detail"]
    assert provisioned["user_id"] in found["collection credentials"]["detail"]
    assert "profile default" in found["collection credentials"]["detail"]
    assert "accepted a connection" in found["base URL reachable"]["detail"]
    assert "hooks.example.com is the API user's providerCallbackHost" == found["collection callback host"]["detail"]
    assert "disbursement credentials" not in found


def test_human_lines_plain_when_not_a_terminal(provisioned, server):
    result = run("--base-url", server.url, "doctor", "--product", "collection")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("ok   ") for line in lines)
    assert any(line.startswith("ok   collection token") for line in lines)
    assert "all 10 checks passed" in result.stderr


def test_marks_on_a_terminal(provisioned, server, monkeypatch):
    monkeypatch.setattr(Output, "stdout_is_tty", property(lambda self: True))
    result = run("--no-color", "--base-url", server.url, "doctor", "--product", "collection")
    assert result.exit_code == 0
    assert all(line.startswith("✓ ") for line in result.stdout.splitlines())


def test_missing_credentials_for_a_real_host_is_exit_3(isolated_dirs, reachable):
    result = run("--base-url", SANDBOX, "doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["collection credentials", "disbursement credentials", "remittance credentials"]
    detail = checks(result)["collection credentials"]["detail"]
    assert "MOMO_COLLECTION_API_KEY" in detail and "momo provision" in detail


def test_only_configured_products_are_checked_on_a_real_host(isolated_dirs, reachable, monkeypatch):
    async def fake_api(report, session, settings, base_url, usable, allow_any_host):
        for product in usable:
            report.ok(f"{product} token", "test")

    monkeypatch.setattr(doctor_module, "check_api", fake_api)
    monkeypatch.setenv("MOMO_DISBURSEMENT_USER_ID", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70")
    monkeypatch.setenv("MOMO_DISBURSEMENT_API_KEY", "k" * 32)
    monkeypatch.setenv("MOMO_DISBURSEMENT_SUBSCRIPTION_KEY", SUB_KEY)
    result = run("--base-url", SANDBOX, "doctor", "--json")
    assert result.exit_code == 0, result.stdout
    found = checks(result)
    assert "collection credentials" not in found
    assert "env MOMO_DISBURSEMENT_USER_ID" in found["disbursement credentials"]["detail"]
    assert SUB_KEY not in result.stdout
    # --product all asks for every product
    result = run("--base-url", SANDBOX, "doctor", "--product", "all", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["collection credentials", "remittance credentials"]


def test_wrong_api_key_is_exit_4(provisioned, server, monkeypatch):
    monkeypatch.setenv("MOMO_COLLECTION_API_KEY", "0" * 32)
    result = run("--base-url", server.url, "doctor", "--product", "collection", "--json")
    assert result.exit_code == ExitCode.AUTH, result.stdout
    assert failed(result) == ["collection token"]
    detail = checks(result)["collection token"]["detail"]
    assert "refused" in detail and "MOMO_COLLECTION_API_KEY" in detail
    assert "0" * 32 not in detail


def test_unreachable_loopback_port_is_exit_6(isolated_dirs):
    from tests.support.emulator import free_port

    port = free_port()
    result = run("--base-url", f"http://127.0.0.1:{port}", "doctor", "--json")
    assert result.exit_code == ExitCode.NETWORK
    found = checks(result)
    assert f"127.0.0.1:{port}" in found["base URL reachable"]["detail"]
    assert failed(result) == ["base URL reachable", "collection token", "disbursement token", "remittance token"]


def test_the_worst_failure_decides(isolated_dirs, monkeypatch):
    """Missing credentials (3) and an unreachable host (6): exit 6."""
    from tests.support.emulator import free_port

    monkeypatch.setenv("MOMO_COLLECTION_USER_ID", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70")
    result = run("--base-url", f"http://127.0.0.1:{free_port()}", "--allow-any-host", "doctor", "--json")
    assert result.exit_code == ExitCode.NETWORK


def test_callback_host_mismatch_is_exit_3(provisioned, server, monkeypatch):
    monkeypatch.setenv("MOMO_CALLBACK_HOST", "other.example.com")
    result = run("--base-url", server.url, "doctor", "--product", "collection", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["collection callback host"]
    detail = checks(result)["collection callback host"]["detail"]
    assert "other.example.com" in detail and "hooks.example.com" in detail
    assert "INVALID_CALLBACK_URL_HOST" in detail


def test_unknown_api_user_is_exit_3(provisioned, server, monkeypatch):
    monkeypatch.setenv("MOMO_COLLECTION_USER_ID", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70")
    result = run("--base-url", server.url, "doctor", "--product", "collection", "--json")
    assert result.exit_code == ExitCode.AUTH  # the token is refused (4) and the user is unknown (3)
    assert failed(result) == ["collection token", "collection callback host"]
    assert "not known" in checks(result)["collection callback host"]["detail"]


def test_world_readable_credentials_file_is_exit_3(isolated_dirs):
    store = ProfileStore()
    store.save_credentials("default", "collection", api_key="k" * 32)
    store.credentials_path.chmod(0o644)
    result = run("doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["credentials file"]
    assert f"chmod 600 {store.credentials_path}" in checks(result)["credentials file"]["detail"]


def test_invalid_config_file_is_exit_3(isolated_dirs):
    store = ProfileStore()
    store.directory.mkdir(mode=0o700, parents=True)
    store.config_path.write_text("[profiles.default\n")
    result = run("doctor")
    assert result.exit_code == ExitCode.CONFIG
    assert "FAIL config file" in result.stdout and "config.toml:1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_group_writable_config_dir_fails(isolated_dirs):
    store = ProfileStore()
    store.directory.mkdir(parents=True)
    store.directory.chmod(0o775)
    result = run("doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert "chmod 700" in checks(result)["config dir"]["detail"]


def test_bad_setting_is_reported_in_the_profile_check(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MOMO_TIMEOUT", "soon")
    result = run("doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["profile"]
    assert "MOMO_TIMEOUT" in checks(result)["profile"]["detail"]


def test_missing_profile(isolated_dirs):
    result = run("--profile", "nope", "doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert "does not exist" in checks(result)["profile"]["detail"]


def test_host_that_is_not_allowed(isolated_dirs):
    result = run("--base-url", "https://momo.example.com", "doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert failed(result) == ["base URL"]
    assert "--allow-any-host" in checks(result)["base URL"]["detail"]


def test_sandbox_host_with_a_production_environment(isolated_dirs, reachable, monkeypatch):
    monkeypatch.setenv("MOMO_TARGET_ENVIRONMENT", "mtnuganda")
    result = run("--base-url", SANDBOX, "doctor", "--json")
    assert result.exit_code == ExitCode.CONFIG
    assert "target environment" in failed(result)


def test_production_environment_and_currency(isolated_dirs, reachable, monkeypatch):
    monkeypatch.setenv("MOMO_TARGET_ENVIRONMENT", "mtnghana")
    result = run("--base-url", "https://proxy.momoapi.mtn.com", "doctor", "--json")
    detail = checks(result)["target environment"]["detail"]
    assert detail == "mtnghana, currency GHS (from env MOMO_TARGET_ENVIRONMENT)"


def test_unknown_product_is_exit_2(isolated_dirs):
    result = run("doctor", "--product", "wallet")
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_secret_in_any_output_with_debug(provisioned, server):
    import logging

    logger = logging.getLogger("momo_cli")
    handlers, level = list(logger.handlers), logger.level
    try:
        for args in (["doctor"], ["doctor", "--json"], ["doctor", "--product", "all"]):
            result = run("--debug", "--base-url", server.url, *args)
            assert result.exit_code == 0, result.stdout + result.stderr
            for secret in (SUB_KEY, provisioned["api_key"]):
                assert secret not in result.stdout + result.stderr
                assert secret[4:-4] not in result.stdout + result.stderr
            assert "debug: momo_cli.api" in result.stderr
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
