"""Settings: precedence, the older variable names, .env, profile selection, validation, provenance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from momo_cli.config import keys as K
from momo_cli.config.settings import ProductCredentials, Settings, load_settings, read_dotenv
from momo_cli.config.store import ProfileStore
from momo_cli.errors import ConfigError, InvalidInput
from momo_cli.exitcodes import ExitCode

SECRET = "SECRETMARKER-0123456789abcdef"


@pytest.fixture
def store(isolated_dirs) -> ProfileStore:
    return ProfileStore()


def env_with(**extra) -> dict[str, str]:
    """The test's (isolated) environment plus `extra`."""
    return {**os.environ, **extra}


def write_dotenv(directory: Path, text: str) -> Path:
    path = directory / ".env"
    path.write_text(text)
    return path


# -- defaults ------------------------------------------------------------------------------------


def test_defaults_with_nothing_configured(isolated_dirs):
    s = load_settings({})
    assert s.profile == "default" and s.source("profile") == "default"
    assert s.base_url == "local" and s.is_local
    assert s.target_environment == "sandbox"
    assert s.timeout == 30.0
    assert s.callback_host is None
    assert all(source == "default" for _, _, source in s.items())
    assert [key for key, _, _ in s.items()] == list(K.KEYS)
    assert s.credentials("collection") == ProductCredentials(None, None, None)
    assert s.config_dir == isolated_dirs / "config"
    assert s.data_dir == isolated_dirs / "data"
    assert s.cache_dir == isolated_dirs / "cache"
    assert s.env_file is None


def test_flags_of_none_mean_not_given(isolated_dirs):
    s = load_settings({"profile": None, "base_url": None, "target_environment": None})
    assert s.base_url == "local" and s.source("base_url") == "default"


# -- precedence ------------------------------------------------------------------------------------

#: key -> a distinct valid value per layer
LAYER_VALUES = {
    "base_url": {
        "profile": "https://profile.example", "dotenv": "https://dotenv.example",
        "legacy": "https://legacy.example", "momo": "https://momo.example", "flag": "https://flag.example",
    },
    "target_environment": {
        "profile": "mtnghana", "dotenv": "mtnzambia", "legacy": "mtnbenin", "momo": "mtnrwanda", "flag": "mtnuganda",
    },
    "callback_host": {
        "profile": "p.example", "dotenv": "d.example", "legacy": "l.example", "momo": "m.example", "flag": "f.example",
    },
    "collection.api_key": {
        "profile": SECRET + "p", "dotenv": SECRET + "d", "legacy": SECRET + "l", "momo": SECRET + "m",
        "flag": SECRET + "f",
    },
    "disbursement.subscription_key": {
        "profile": "sub-p", "dotenv": "sub-d", "legacy": "sub-l", "momo": "sub-m", "flag": "sub-f",
    },
    "remittance.user_id": {
        "profile": "user-p", "dotenv": "user-d", "legacy": "user-l", "momo": "user-m", "flag": "user-f",
    },
}


@pytest.mark.parametrize("key", sorted(LAYER_VALUES))
def test_each_source_beats_the_next(store, isolated_dirs, key):
    values = LAYER_VALUES[key]
    names = K.ENV_NAMES[key]

    store.set("default", key, values["profile"])
    s = load_settings({})
    assert (s.get(key), s.source(key)) == (values["profile"], "profile default")

    write_dotenv(isolated_dirs, f"{names.primary}={values['dotenv']}\n")
    s = load_settings({})
    assert (s.get(key), s.source(key)) == (values["dotenv"], ".env")

    env = env_with(**{names.legacy: values["legacy"]})
    s = load_settings({}, env=env)
    assert (s.get(key), s.source(key)) == (values["legacy"], f"env {names.legacy}")

    env[names.primary] = values["momo"]
    s = load_settings({}, env=env)
    assert (s.get(key), s.source(key)) == (values["momo"], f"env {names.primary}")

    s = load_settings({key: values["flag"]}, env=env)
    assert (s.get(key), s.source(key)) == (values["flag"], "flag")


def test_timeout_precedence_has_no_older_name(store, isolated_dirs):
    store.set("default", "timeout", "11")
    assert (load_settings({}).timeout, load_settings({}).source("timeout")) == (11.0, "profile default")
    write_dotenv(isolated_dirs, "MOMO_TIMEOUT=12\n")
    assert load_settings({}).source("timeout") == ".env"
    s = load_settings({}, env=env_with(MOMO_TIMEOUT="13"))
    assert (s.timeout, s.source("timeout")) == (13.0, "env MOMO_TIMEOUT")
    s = load_settings({"timeout": 14}, env=env_with(MOMO_TIMEOUT="13"))
    assert (s.timeout, s.source("timeout")) == (14.0, "flag")
    assert K.ENV_NAMES["timeout"].legacy is None


def test_an_older_name_in_the_environment_beats_a_momo_name_in_dotenv(isolated_dirs):
    write_dotenv(isolated_dirs, "MOMO_BASE_URL=https://dotenv.example\n")
    s = load_settings({}, env=env_with(BASE_URL="https://legacy.example"))
    assert (s.base_url, s.source("base_url")) == ("https://legacy.example", "env BASE_URL")


def test_an_empty_variable_counts_as_unset(store):
    store.set("default", "base_url", "https://profile.example")
    s = load_settings({}, env=env_with(MOMO_BASE_URL="", BASE_URL="  "))
    assert s.source("base_url") == "profile default"


def test_global_flags_from_the_app_context_shape(isolated_dirs):
    flags = {"profile": None, "base_url": "http://127.0.0.1:8765/", "target_environment": "SANDBOX"}
    s = load_settings(flags)
    assert s.base_url == "http://127.0.0.1:8765"
    assert s.target_environment == "sandbox"
    assert not s.is_local
    assert s.source("base_url") == s.source("target_environment") == "flag"


# -- the older variable names -------------------------------------------------------------------------

LEGACY = [(key, names) for key, names in K.ENV_NAMES.items() if names.legacy]


def _valid(key: str, tag: str) -> str:
    return {
        "base_url": f"https://{tag}.example", "target_environment": "mtnghana" if tag == "legacy" else "mtncongo",
        "callback_host": f"{tag}.example",
    }.get(key, f"{tag}-{key}-value")


@pytest.mark.parametrize(("key", "names"), LEGACY, ids=[key for key, _ in LEGACY])
def test_every_older_name_is_read_and_the_momo_name_beats_it(isolated_dirs, key, names):
    s = load_settings({}, env=env_with(**{names.legacy: _valid(key, "legacy")}))
    assert (s.get(key), s.source(key)) == (_valid(key, "legacy"), f"env {names.legacy}")
    s = load_settings({}, env=env_with(**{names.legacy: _valid(key, "legacy"), names.primary: _valid(key, "momo")}))
    assert (s.get(key), s.source(key)) == (_valid(key, "momo"), f"env {names.primary}")


def test_the_older_names_are_the_mtnmomo_ones():
    assert K.ENV_NAMES["target_environment"].in_order() == ("MOMO_TARGET_ENVIRONMENT", "ENVIRONMENT")
    assert K.ENV_NAMES["base_url"].in_order() == ("MOMO_BASE_URL", "BASE_URL")
    assert K.ENV_NAMES["callback_host"].in_order() == ("MOMO_CALLBACK_HOST", "CALLBACK_HOST")
    assert K.ENV_NAMES["collection.user_id"].in_order() == ("MOMO_COLLECTION_USER_ID", "COLLECTION_USER_ID")
    assert K.ENV_NAMES["disbursement.api_key"].in_order() == ("MOMO_DISBURSEMENT_API_KEY", "DISBURSEMENT_API_SECRET")
    assert K.ENV_NAMES["remittance.subscription_key"].in_order() == (
        "MOMO_REMITTANCE_SUBSCRIPTION_KEY", "REMITTANCE_PRIMARY_KEY",
    )


def test_legacy_product_names_fill_credentials(isolated_dirs):
    env = env_with(COLLECTION_USER_ID="u-1", COLLECTION_API_SECRET=SECRET, COLLECTION_PRIMARY_KEY="sub-1")
    creds = load_settings({}, env=env).credentials("collection")
    assert creds == ProductCredentials("u-1", SECRET, "sub-1")
    assert creds.complete


# -- .env ----------------------------------------------------------------------------------------------


def test_dotenv_dialect_quotes_comments_export(tmp_path):
    path = write_dotenv(
        tmp_path,
        "# a comment line\n"
        "\n"
        'export MOMO_BASE_URL="https://sandbox.momodeveloper.mtn.com"  # trailing comment\n'
        "MOMO_CALLBACK_HOST='cb.example # not a comment'\n"
        "MOMO_COLLECTION_API_KEY=abc#def\n"
        'MOMO_COLLECTION_USER_ID = "spaced value"\n'
        'momo_timeout=7\n'
        "EMPTY=\n"
        "NO_VALUE\n"
        'ESCAPED="a \\"quoted\\" word"\n',
    )
    values = read_dotenv(path)
    assert values["MOMO_BASE_URL"] == "https://sandbox.momodeveloper.mtn.com"
    assert values["MOMO_CALLBACK_HOST"] == "cb.example # not a comment"
    assert values["MOMO_COLLECTION_API_KEY"] == "abc#def"
    assert values["MOMO_COLLECTION_USER_ID"] == "spaced value"
    assert values["MOMO_TIMEOUT"] == "7"  # names are upper-cased
    assert values["EMPTY"] == ""
    assert "NO_VALUE" not in values
    assert values["ESCAPED"] == 'a "quoted" word'


def test_dotenv_is_read_from_the_working_directory_only(isolated_dirs, tmp_path):
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    write_dotenv(elsewhere, "MOMO_BASE_URL=https://dotenv.example\n")
    assert load_settings({}).base_url == "local"  # cwd is the test's home
    s = load_settings({}, cwd=elsewhere)
    assert (s.base_url, s.source("base_url")) == ("https://dotenv.example", ".env")
    assert s.env_file == elsewhere / ".env"
    # a parent's .env is not read
    child = elsewhere / "child"
    child.mkdir()
    assert load_settings({}, cwd=child).base_url == "local"


def test_dotenv_older_names_and_momo_names(isolated_dirs):
    write_dotenv(isolated_dirs, "ENVIRONMENT=mtnghana\nBASE_URL=https://old.example\nMOMO_BASE_URL=https://new.example\n")
    s = load_settings({})
    assert (s.target_environment, s.source("target_environment")) == ("mtnghana", ".env")
    assert s.base_url == "https://new.example"


def test_a_bad_value_in_dotenv_names_the_file(isolated_dirs):
    path = write_dotenv(isolated_dirs, "MOMO_TIMEOUT=soon\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({})
    assert str(path) in caught.value.message


# -- profile selection -----------------------------------------------------------------------------------


@pytest.fixture
def four_profiles(store):
    for name in ("flagged", "envd", "dotenvd", "active"):
        store.set(name, "callback_host", f"{name}.example")
    store.use("active")
    return store


def test_profile_selection_order(four_profiles, isolated_dirs):
    s = load_settings({})
    assert (s.profile, s.source("profile"), s.callback_host) == ("active", "config.toml", "active.example")
    assert s.source("callback_host") == "profile active"
    assert s.active_profile == "active"

    write_dotenv(isolated_dirs, "MOMO_PROFILE=dotenvd\n")
    s = load_settings({})
    assert (s.profile, s.source("profile")) == ("dotenvd", ".env")

    env = env_with(MOMO_PROFILE="envd")
    s = load_settings({}, env=env)
    assert (s.profile, s.source("profile")) == ("envd", "env MOMO_PROFILE")

    s = load_settings({"profile": "flagged"}, env=env)
    assert (s.profile, s.source("profile"), s.callback_host) == ("flagged", "flag", "flagged.example")
    assert s.active_profile == "active"


def test_a_flag_equal_to_momo_profile_came_from_the_variable(four_profiles):
    # The root --profile option reads MOMO_PROFILE itself (click envvar).
    s = load_settings({"profile": "envd"}, env=env_with(MOMO_PROFILE="envd"))
    assert s.source("profile") == "env MOMO_PROFILE"


def test_default_profile_when_nothing_is_active(store):
    store.set("default", "timeout", "9")
    store.set("other", "timeout", "8")
    s = load_settings({})
    assert (s.profile, s.timeout, s.source("timeout")) == ("default", 9.0, "profile default")


def test_a_selected_profile_that_does_not_exist_is_a_config_error(store):
    store.set("work", "timeout", "9")
    for flags, env in (({"profile": "ghost"}, None), ({}, env_with(MOMO_PROFILE="ghost"))):
        with pytest.raises(ConfigError) as caught:
            load_settings(flags, env=env)
        assert caught.value.exit_code == ExitCode.CONFIG
        assert "ghost" in caught.value.message and "work" in caught.value.message


def test_a_bad_profile_name_is_invalid_input(isolated_dirs):
    with pytest.raises(InvalidInput):
        load_settings({"profile": "../x"})


def test_the_other_profiles_values_are_not_used(store):
    store.set("default", "base_url", "https://default.example")
    store.set("work", "timeout", "5")
    s = load_settings({"profile": "work"})
    assert s.base_url == "local" and s.source("base_url") == "default"


# -- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "nan", "inf", "1e999"])
def test_timeout_must_be_a_positive_number(isolated_dirs, bad):
    with pytest.raises(ConfigError) as caught:
        load_settings({}, env=env_with(MOMO_TIMEOUT=bad))
    assert "MOMO_TIMEOUT" in caught.value.message
    assert caught.value.exit_code == ExitCode.CONFIG


def test_unknown_target_environment_lists_the_known_ones(isolated_dirs):
    with pytest.raises(ConfigError) as caught:
        load_settings({"target_environment": "mtnmars"})
    message = caught.value.message
    assert "mtnmars" in message and "--target-environment" in message
    for known in ("sandbox", "mtnuganda", "mtnrwanda"):
        assert known in message


def test_a_bad_stored_value_names_the_profile_and_file(store):
    store.directory.mkdir(parents=True)
    store.config_path.write_text('[profiles.default]\ntimeout = -3\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({})
    assert "profile default" in caught.value.message
    assert str(store.config_path) in caught.value.message


def test_a_bad_base_url_is_refused(isolated_dirs):
    with pytest.raises(ConfigError, match="neither 'local' nor an http"):
        load_settings({}, env=env_with(BASE_URL="sandbox.momodeveloper.mtn.com"))


def test_an_unreadable_credentials_file_stops_loading(store):
    store.set("default", "collection.api_key", SECRET)
    os.chmod(store.credentials_path, 0o644)
    with pytest.raises(ConfigError) as caught:
        load_settings({})
    assert f"chmod 600 {store.credentials_path}" in caught.value.hint


# -- credentials and secrets --------------------------------------------------------------------------------


def test_credentials_per_product_from_mixed_sources(store):
    store.save_credentials("default", "collection", user_id="u-1", api_key=SECRET)
    s = load_settings({}, env=env_with(MOMO_COLLECTION_SUBSCRIPTION_KEY="sub-env"))
    assert s.credentials("collection") == ProductCredentials("u-1", SECRET, "sub-env")
    assert s.source("collection.user_id") == "profile default"
    assert s.source("collection.subscription_key") == "env MOMO_COLLECTION_SUBSCRIPTION_KEY"
    assert s.credentials("Disbursement").missing() == ["user_id", "api_key", "subscription_key"]


def test_unknown_product_is_invalid_input(isolated_dirs):
    s = load_settings({})
    with pytest.raises(InvalidInput, match="collection, disbursement, remittance"):
        s.credentials("payments")


def test_reprs_mask_secrets(store):
    store.save_credentials("default", "remittance", user_id="u-1", api_key=SECRET, subscription_key=SECRET + "2")
    s = load_settings({})
    creds = s.credentials("remittance")
    for text in (repr(creds), str(creds), repr(s)):
        assert SECRET not in text
    assert "SECR…cdef" in repr(creds)
    assert "u-1" in repr(creds)


def test_require_credentials_says_what_is_missing_and_how_to_set_it(store):
    store.save_credentials("default", "collection", api_key=SECRET)
    s = load_settings({})
    with pytest.raises(ConfigError) as caught:
        s.require_credentials("collection")
    text = caught.value.one_line()
    assert caught.value.exit_code == ExitCode.CONFIG
    assert "user_id, subscription_key" in text
    assert "MOMO_COLLECTION_USER_ID" in text and "MOMO_COLLECTION_SUBSCRIPTION_KEY" in text
    assert SECRET not in text
    assert s.require_credentials("collection", fields=("api_key",)).api_key == SECRET


def test_get_and_source_reject_unknown_keys(isolated_dirs):
    s = load_settings({})
    with pytest.raises(InvalidInput):
        s.get("nope")
    with pytest.raises(InvalidInput):
        s.source("nope")


def test_settings_is_read_only(isolated_dirs):
    s = load_settings({})
    with pytest.raises(AttributeError):
        s.base_url = "x"  # type: ignore[misc]
    assert isinstance(s, Settings)
    assert Settings.is_secret("collection.api_key") and not Settings.is_secret("collection.user_id")


def test_dirs_follow_the_given_environment(tmp_path, isolated_dirs):
    env = env_with(MOMO_CONFIG_DIR=str(tmp_path / "c"), MOMO_DATA_DIR=str(tmp_path / "d"), MOMO_CACHE_DIR=str(tmp_path / "k"))
    s = load_settings({}, env=env)
    assert (s.config_dir, s.data_dir, s.cache_dir) == (tmp_path / "c", tmp_path / "d", tmp_path / "k")
