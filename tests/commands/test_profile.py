"""`momo profile`: output, JSON keys, masking, confirmations and errors, through the root command."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from momo_cli.cli import root
from momo_cli.config.store import ProfileStore
from momo_cli.exitcodes import ExitCode
from momo_cli.output import Output
from tests.support.imports import imported_by

SECRET = "SECRETMARKER-0123456789abcdef"
SUB_KEY = "SUBKEYMARKER-fedcba9876543210"
#: The part of a secret a mask never shows (mask keeps 4 characters at each end).
SECRET_MIDDLE = SECRET[4:-4]


def run(*args, input=None, env=None):
    return CliRunner().invoke(root, list(args), input=input, env=env, catch_exceptions=False)


def assert_no_secret(result, *secrets):
    for secret in secrets or (SECRET, SUB_KEY):
        for stream in (result.stdout, result.stderr):
            assert secret not in stream
            assert secret[4:-4] not in stream


@pytest.fixture
def store(isolated_dirs) -> ProfileStore:
    return ProfileStore()


@pytest.fixture
def work(store):
    """A saved, active `work` profile with complete collection credentials."""
    store.set("work", "base_url", "https://sandbox.momodeveloper.mtn.com")
    store.save_credentials("work", "collection", user_id="user-1", api_key=SECRET, subscription_key=SUB_KEY)
    store.use("work")
    return store


@pytest.fixture
def terminal(monkeypatch):
    """Pretend a person sits at the terminal (stdin and stderr are TTYs)."""
    monkeypatch.setattr(Output, "interactive", property(lambda self: True))


# -- list --------------------------------------------------------------------------------------------


def test_list_with_nothing_saved_shows_the_built_in_default(isolated_dirs):
    result = run("profile", "list")
    assert result.exit_code == 0, result.stderr
    assert "default (built-in)" in result.stdout
    assert "(local)" in result.stdout


def test_list_json(work):
    work.set("other", "target_environment", "mtnghana")
    result = run("profile", "list", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["active_profile"] == "work"
    assert [p["name"] for p in data["profiles"]] == ["default", "other", "work"]
    by_name = {p["name"]: p for p in data["profiles"]}
    assert set(by_name["work"]) == {"name", "active", "saved", "base_url", "target_environment", "products"}
    assert by_name["work"]["active"] is True and by_name["work"]["products"] == ["collection"]
    assert by_name["default"]["saved"] is False
    assert by_name["other"]["target_environment"] == "mtnghana"
    assert_no_secret(result)


def test_list_human_marks_the_active_profile_and_shows_full_urls(work):
    result = run("profile", "list")
    line = next(line for line in result.stdout.splitlines() if " work " in line)
    assert line.startswith("*")
    assert "https://sandbox.momodeveloper.mtn.com" in line
    assert_no_secret(result)


# -- show --------------------------------------------------------------------------------------------


def test_show_masks_secrets_and_names_sources(work):
    result = run("profile", "show")
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)
    out = result.stdout
    assert out.splitlines()[0] == "profile work (the active profile)"
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    assert rows["collection.api_key"][1] == "SECR…cdef"
    assert rows["collection.api_key"][-2:] == ["profile", "work"]
    assert rows["base_url"][1] == "https://sandbox.momodeveloper.mtn.com"
    assert rows["timeout"][1:] == ["30", "default"]


def test_show_json_keys_and_masking(work):
    result = run("profile", "show", "--json")
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)
    data = json.loads(result.stdout)
    assert set(data) == {
        "profile", "profile_source", "active_profile", "is_local", "secrets_shown", "env_file",
        "config_dir", "settings",
    }
    assert data["profile"] == "work" and data["profile_source"] == "config.toml"
    assert data["is_local"] is False and data["secrets_shown"] is False
    settings = data["settings"]
    assert set(settings) == {"base_url", "target_environment", "callback_host", "timeout",
                             "collection", "disbursement", "remittance"}
    assert settings["base_url"] == {"value": "https://sandbox.momodeveloper.mtn.com", "source": "profile work"}
    assert settings["timeout"] == {"value": 30.0, "source": "default"}
    assert settings["callback_host"] == {"value": None, "source": "default"}
    assert settings["collection"]["api_key"] == {"value": "SECR…cdef", "source": "profile work", "secret": True}
    assert settings["collection"]["user_id"] == {"value": "user-1", "source": "profile work", "secret": False}
    assert set(settings["remittance"]) == {"user_id", "api_key", "subscription_key"}


def test_show_secrets_prints_them_and_warns(work):
    result = run("profile", "show", "--show-secrets")
    assert result.exit_code == 0
    assert SECRET in result.stdout and SUB_KEY in result.stdout
    assert "secrets are shown" in result.stderr
    data = json.loads(run("profile", "show", "--json", "--show-secrets").stdout)
    assert data["settings"]["collection"]["api_key"]["value"] == SECRET
    assert data["secrets_shown"] is True


def test_show_applies_environment_dotenv_and_flags(work, isolated_dirs, monkeypatch):
    (isolated_dirs / ".env").write_text("MOMO_CALLBACK_HOST=cb.example\nMOMO_TIMEOUT=9\n")
    monkeypatch.setenv("COLLECTION_API_SECRET", "ENVSECRET-abcdefghijklmnop")
    monkeypatch.setenv("MOMO_TIMEOUT", "12")
    result = run("--target-environment", "mtnuganda", "profile", "show", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    s = data["settings"]
    assert s["target_environment"] == {"value": "mtnuganda", "source": "flag"}
    assert s["callback_host"] == {"value": "cb.example", "source": ".env"}
    assert s["timeout"] == {"value": 12.0, "source": "env MOMO_TIMEOUT"}
    assert s["collection"]["api_key"]["source"] == "env COLLECTION_API_SECRET"
    assert s["collection"]["api_key"]["value"] == "ENVS…mnop"
    assert data["env_file"] == str(isolated_dirs / ".env")
    assert "ENVSECRET-abcdefghijklmnop" not in result.stdout + result.stderr


def test_show_name_selects_that_profile(work):
    work.set("other", "callback_host", "other.example")
    data = json.loads(run("profile", "show", "other", "--json").stdout)
    assert data["profile"] == "other" and data["profile_source"] == "flag"
    assert data["active_profile"] == "work"
    assert data["settings"]["callback_host"]["value"] == "other.example"


def test_show_of_the_local_default_says_so(isolated_dirs):
    result = run("profile", "show")
    assert result.exit_code == 0
    assert "built-in emulator" in result.stdout
    assert json.loads(run("profile", "show", "--json").stdout)["is_local"] is True


def test_show_of_a_missing_profile_is_exit_3(work):
    result = run("profile", "show", "ghost")
    assert result.exit_code == ExitCode.CONFIG
    assert result.stdout == ""
    assert "ghost" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_show_with_an_unknown_target_environment_lists_the_known_ones(isolated_dirs):
    result = run("--target-environment", "mtnmars", "profile", "show")
    assert result.exit_code == ExitCode.CONFIG
    assert "mtnmars" in result.stderr and "mtnuganda" in result.stderr


def test_show_refuses_a_world_readable_credentials_file_with_the_fix(work):
    os.chmod(work.credentials_path, 0o644)
    for args in (("profile", "show"), ("profile", "list"), ("profile", "show", "--json", "--show-secrets")):
        result = run(*args)
        assert result.exit_code == ExitCode.CONFIG
        assert result.stdout == ""
        assert f"chmod 600 {work.credentials_path}" in result.stderr
        assert_no_secret(result)


def test_bad_toml_is_exit_3_naming_the_file_and_line(store):
    store.directory.mkdir(parents=True)
    store.config_path.write_text('[profiles.work]\nbase_url = "local"\ntimeout = \n')
    result = run("profile", "show")
    assert result.exit_code == ExitCode.CONFIG
    assert f"{store.config_path}:3:" in result.stderr


# -- set / unset ------------------------------------------------------------------------------------------


def test_set_writes_to_the_selected_profile_and_reports_on_stderr(work):
    result = run("profile", "set", "timeout", "45")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "profile work: timeout = 45 (saved in config.toml)" in result.stderr
    assert work.values("work")["timeout"] == 45


def test_set_with_profile_option_creates_the_profile(store):
    result = run("profile", "set", "base_url", "http://127.0.0.1:8765", "--profile", "served")
    assert result.exit_code == 0, result.stderr
    assert store.profiles() == ["served"]
    assert store.values("served") == {"base_url": "http://127.0.0.1:8765"}


def test_set_follows_the_global_profile_and_momo_profile(store, monkeypatch):
    store.set("a", "timeout", "1")
    store.set("b", "timeout", "1")
    assert run("-p", "a", "profile", "set", "timeout", "2").exit_code == 0
    monkeypatch.setenv("MOMO_PROFILE", "b")
    assert run("profile", "set", "timeout", "3").exit_code == 0
    assert store.values("a")["timeout"] == 2 and store.values("b")["timeout"] == 3


def test_set_secret_from_stdin_keeps_it_out_of_output(store):
    result = run("profile", "set", "disbursement.api_key", "-", "--profile", "w", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)
    assert "credentials.toml" in result.stderr
    assert "SECR…cdef" in result.stderr
    assert store.values("w")["disbursement.api_key"] == SECRET
    assert SECRET not in store.config_path.read_text()


def test_set_secret_on_the_command_line_works_and_suggests_stdin(store):
    result = run("profile", "set", "collection.subscription_key", SUB_KEY, "-p", "w")
    assert result.exit_code == 0
    assert_no_secret(result)
    assert "stdin" in result.stderr
    assert store.values("w")["collection.subscription_key"] == SUB_KEY


@pytest.mark.parametrize(("stdin", "message"), [("", "no value on stdin"), ("a\nb\n", "more than one line")])
def test_set_from_stdin_refuses_empty_and_multi_line_values(store, stdin, message):
    result = run("profile", "set", "collection.api_key", "-", "-p", "w", input=stdin)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert store.profiles() == []


def test_set_without_value_prompts_for_a_secret_on_a_terminal(store, terminal):
    result = run("profile", "set", "remittance.api_key", "-p", "w", input=SECRET + "\n")
    assert result.exit_code == 0, result.stderr
    assert_no_secret(result)
    assert store.values("w")["remittance.api_key"] == SECRET


def test_set_without_value_and_without_terminal_is_exit_2(store):
    for key in ("remittance.api_key", "base_url"):
        result = run("profile", "set", key)
        assert result.exit_code == ExitCode.USAGE
        assert "missing VALUE" in result.stderr
    assert store.profiles() == []


def test_set_unknown_key_is_exit_2_listing_valid_keys(isolated_dirs):
    result = run("profile", "set", "api_key", SECRET)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert "collection.api_key" in result.stderr and "base_url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert_no_secret(result, SECRET)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [("timeout", "soon", "positive number"), ("target_environment", "mtnmars", "mtnuganda"),
     ("base_url", "ftp://x", "http(s) URL")],
)
def test_set_bad_value_is_exit_2(store, key, value, fragment):
    result = run("profile", "set", key, value, "-p", "w")
    assert result.exit_code == ExitCode.USAGE
    assert fragment in result.stderr
    assert store.profiles() == []


def test_set_warns_when_an_environment_variable_overrides_the_key(store, monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://legacy.example")
    result = run("profile", "set", "base_url", "local", "-p", "w")
    assert result.exit_code == 0
    assert "BASE_URL is set in the environment" in result.stderr


def test_unset(work):
    result = run("profile", "unset", "collection.api_key")
    assert result.exit_code == 0
    assert "removed" in result.stderr
    assert "collection.api_key" not in work.values("work")
    result = run("profile", "unset", "collection.api_key")
    assert result.exit_code == 0 and "was not set" in result.stderr
    result = run("profile", "unset", "nope")
    assert result.exit_code == ExitCode.USAGE and "collection.user_id" in result.stderr


# -- use / remove / path -------------------------------------------------------------------------------------


def test_use_switches_the_active_profile(work):
    work.set("other", "timeout", "3")
    result = run("profile", "use", "other")
    assert result.exit_code == 0
    assert "active profile: other" in result.stderr
    assert json.loads(run("profile", "show", "--json").stdout)["profile"] == "other"


def test_use_unknown_is_exit_2(work):
    result = run("profile", "use", "ghost")
    assert result.exit_code == ExitCode.USAGE
    assert "work" in result.stderr


def test_use_notes_an_overriding_momo_profile(work, monkeypatch):
    work.set("other", "timeout", "3")
    monkeypatch.setenv("MOMO_PROFILE", "work")
    result = run("profile", "use", "other")
    assert result.exit_code == 0
    assert "MOMO_PROFILE=work is set" in result.stderr


def test_remove_without_a_terminal_and_without_yes_is_exit_2(work):
    result = run("profile", "remove", "work")
    assert result.exit_code == ExitCode.USAGE
    assert "--yes" in result.stderr
    assert work.profiles() == ["work"]


def test_remove_with_yes(work):
    result = run("profile", "remove", "work", "--yes")
    assert result.exit_code == 0
    assert work.profiles() == [] and work.active() is None
    assert SECRET not in work.credentials_path.read_text()


def test_remove_asks_on_a_terminal(work, terminal):
    declined = run("profile", "remove", "work", input="n\n")
    assert declined.exit_code == ExitCode.INTERRUPTED
    assert work.profiles() == ["work"]
    assert "Remove profile 'work'" in declined.stderr and declined.stdout == ""
    accepted = run("profile", "remove", "work", input="y\n")
    assert accepted.exit_code == 0
    assert work.profiles() == []


def test_remove_unknown_is_exit_2(work):
    result = run("profile", "remove", "ghost", "--yes")
    assert result.exit_code == ExitCode.USAGE


def test_path_prints_the_dir_and_both_files(store):
    result = run("profile", "path")
    assert result.exit_code == 0
    assert str(store.directory) in result.stdout
    assert str(store.config_path) in result.stdout
    assert str(store.credentials_path) in result.stdout
    data = json.loads(run("profile", "path", "--json").stdout)
    assert data == {
        "config_dir": str(store.directory),
        "config_file": str(store.config_path),
        "credentials_file": str(store.credentials_path),
        "data_dir": os.environ["MOMO_DATA_DIR"],
        "cache_dir": os.environ["MOMO_CACHE_DIR"],
    }


def test_no_command_ever_leaks_a_secret(work, isolated_dirs):
    (isolated_dirs / ".env").write_text(f"MOMO_REMITTANCE_API_KEY={SECRET}\n")
    for args in (
        ("profile", "list"), ("profile", "list", "--json"), ("profile", "show"), ("profile", "show", "--json"),
        ("profile", "show", "work"), ("profile", "path"), ("profile", "set", "timeout", "3"),
        ("profile", "unset", "timeout"), ("profile", "use", "work"),
    ):
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert_no_secret(result)


def test_profile_help_and_light_commands_import_no_pydantic_or_rich(isolated_dirs):
    for args in (["profile", "--help"], ["profile", "list", "--json"], ["profile", "path"]):
        assert imported_by(args).heavy(("pydantic", "pydantic_settings", "rich", "httpx")) == [], args