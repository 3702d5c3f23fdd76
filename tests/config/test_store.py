"""The profile store: where values go, file modes, atomic writes, refusals, bad files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from momo_cli.config import store as store_module
from momo_cli.config.store import ProfileStore, atomic_write_text, check_private_file, read_toml
from momo_cli.errors import ConfigError, InvalidInput
from momo_cli.exitcodes import ExitCode

SECRET = "SECRETMARKER-0123456789abcdef"
SUB_KEY = "SUBKEYMARKER-fedcba9876543210"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(isolated_dirs) -> ProfileStore:
    return ProfileStore()


def test_store_lives_in_the_config_dir(store, isolated_dirs):
    assert store.directory == isolated_dirs / "config"
    assert store.path().config_file == isolated_dirs / "config" / "config.toml"
    assert store.path().credentials_file == isolated_dirs / "config" / "credentials.toml"


def test_an_empty_store_has_no_profiles_and_no_files(store):
    assert store.profiles() == []
    assert store.active() is None
    assert store.values("default") == {}
    assert not store.directory.exists()


def test_secrets_go_to_credentials_and_the_rest_to_config(store):
    store.set("work", "base_url", "https://sandbox.momodeveloper.mtn.com/")
    store.set("work", "collection.user_id", "user-1")
    store.set("work", "collection.api_key", SECRET)
    store.set("work", "collection.subscription_key", SUB_KEY)
    config = store.config_path.read_text()
    credentials = store.credentials_path.read_text()
    assert SECRET not in config and SUB_KEY not in config
    assert SECRET in credentials and SUB_KEY in credentials
    assert "user-1" in config and "user-1" not in credentials
    assert store.values("work") == {
        "base_url": "https://sandbox.momodeveloper.mtn.com",  # trailing slash tidied
        "collection.user_id": "user-1",
        "collection.api_key": SECRET,
        "collection.subscription_key": SUB_KEY,
    }
    assert store.get("work", "collection.api_key") == SECRET
    assert store.profiles() == ["work"]


def test_files_are_0600_in_a_0700_directory_whatever_the_umask(store):
    old = os.umask(0)
    try:
        store.set("work", "collection.api_key", SECRET)
        store.set("work", "timeout", "10")
    finally:
        os.umask(old)
    assert mode(store.directory) == 0o700
    assert mode(store.credentials_path) == 0o600
    assert mode(store.config_path) == 0o600


def test_writes_leave_no_temporary_files(store):
    for i in range(5):
        store.set("work", "timeout", str(i + 1))
        store.set("work", "remittance.api_key", SECRET + str(i))
    store.unset("work", "remittance.api_key")
    store.use("work")
    store.remove("work")
    leftovers = sorted(p.name for p in store.directory.iterdir())
    assert leftovers == [".lock", "config.toml", "credentials.toml"]


def test_the_temporary_file_is_private_before_the_secret_is_written(tmp_path, monkeypatch):
    seen = []
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(store_module.os, "fdopen", spying_fdopen)
    old = os.umask(0)
    try:
        atomic_write_text(tmp_path / "secret.toml", "k = 1\n")
    finally:
        os.umask(old)
    assert seen == [0o600]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "config.toml"
    atomic_write_text(target, "old = 1\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new = 2\n")
    assert target.read_text() == "old = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666])
def test_a_credentials_file_others_may_access_is_refused_with_the_fix(store, loose):
    store.set("work", "collection.api_key", SECRET)
    os.chmod(store.credentials_path, loose)
    with pytest.raises(ConfigError) as caught:
        store.values("work")
    err = caught.value
    assert err.exit_code == ExitCode.CONFIG
    assert f"`chmod 600 {store.credentials_path}`" in err.hint
    assert str(store.credentials_path) in err.message
    assert f"{loose:04o}" in err.message
    assert SECRET not in err.one_line()
    # every reader refuses, and so does a writer (it would have to read the file first)
    for call in (store.profiles, lambda: store.set("work", "collection.subscription_key", SUB_KEY)):
        with pytest.raises(ConfigError):
            call()
    os.chmod(store.credentials_path, 0o600)
    assert store.values("work")["collection.api_key"] == SECRET


def test_check_private_file_accepts_0600_and_0400_and_a_missing_file(tmp_path):
    path = tmp_path / "c.toml"
    check_private_file(path)
    path.write_text("")
    for ok in (0o600, 0o400):
        os.chmod(path, ok)
        check_private_file(path)


@pytest.mark.parametrize("which", ["config_path", "credentials_path"])
def test_bad_toml_names_the_file_and_the_line(store, which):
    store.set("work", "base_url", "local")
    path = getattr(store, which)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[profiles.work]\nbase_url = "local"\nbroken = = "{SECRET}"\n')
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError) as caught:
        store.values("work")
    text = caught.value.one_line()
    assert f"{path}:3:" in text
    assert "line 3" in text
    assert SECRET not in text
    assert caught.value.exit_code == ExitCode.CONFIG


def test_read_toml_of_a_missing_file_is_empty(tmp_path):
    assert read_toml(tmp_path / "nope.toml") == {}


def test_non_utf8_file_is_a_config_error(tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes(b"a = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_toml(path)


def test_a_secret_written_into_config_toml_by_hand_is_refused(store):
    store.directory.mkdir(parents=True)
    store.config_path.write_text(f'[profiles.work.collection]\napi_key = "{SECRET}"\n')
    with pytest.raises(ConfigError) as caught:
        store.values("work")
    assert "credentials.toml" in caught.value.hint
    assert "momo profile set collection.api_key - --profile work" in caught.value.hint
    assert SECRET not in caught.value.one_line()


@pytest.mark.parametrize(
    "content",
    [
        '[profiles.work]\nbase-url = "x"\n',
        '[profiles.work.collection]\napi_secret = "x"\n',
        'profiles = 3\n',
        '[profiles]\nwork = 1\n',
        'active_profile = 1\n',
        '[profiles.work]\ncollection = "x"\n',
        '[profiles.work.base_url]\nx = 1\n',
    ],
)
def test_a_malformed_config_is_a_config_error_naming_the_file(store, content):
    store.directory.mkdir(parents=True)
    store.config_path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        store.profiles()
    assert str(store.config_path) in caught.value.message


def test_credentials_file_may_only_hold_product_tables(store):
    store.directory.mkdir(parents=True)
    store.credentials_path.write_text('[profiles.work]\nbase_url = "x"\n')
    os.chmod(store.credentials_path, 0o600)
    with pytest.raises(ConfigError, match="only product tables"):
        store.profiles()


def test_hand_written_credentials_with_user_id_are_read(store):
    store.directory.mkdir(parents=True)
    store.credentials_path.write_text(
        f'[profiles.ci.disbursement]\nuser_id = "u"\napi_key = "{SECRET}"\nsubscription_key = "{SUB_KEY}"\n'
    )
    os.chmod(store.credentials_path, 0o600)
    assert store.profiles() == ["ci"]
    assert store.values("ci")["disbursement.user_id"] == "u"


def test_use_sets_the_active_profile(store):
    store.set("work", "timeout", "5")
    store.use("work")
    assert store.active() == "work"
    store.use("default")  # the built-in profile needs no saving
    assert store.active() == "default"


def test_use_of_an_unknown_profile_is_invalid_input(store):
    store.set("work", "timeout", "5")
    with pytest.raises(InvalidInput) as caught:
        store.use("ghost")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "work" in caught.value.message


def test_unset_removes_one_key_and_reports_whether_it_was_there(store):
    store.set("work", "collection.api_key", SECRET)
    store.set("work", "collection.user_id", "u")
    assert store.unset("work", "collection.api_key") is True
    assert store.unset("work", "collection.api_key") is False
    assert store.unset("ghost", "base_url") is False
    assert store.values("work") == {"collection.user_id": "u"}
    assert SECRET not in store.credentials_path.read_text()
    assert store.unset("work", "collection.user_id") is True
    assert store.profiles() == ["work"]  # the profile stays, empty


def test_remove_deletes_both_halves_and_the_active_mark(store):
    store.set("work", "base_url", "local")
    store.set("work", "collection.api_key", SECRET)
    store.set("other", "timeout", "3")
    store.use("work")
    assert store.remove("work") is True
    assert store.profiles() == ["other"]
    assert store.active() is None
    assert SECRET not in store.credentials_path.read_text()
    assert store.remove("work") is False


def test_save_credentials_splits_secret_and_public_parts(store):
    store.save_credentials("default", "collection", user_id="u-9", api_key=SECRET, subscription_key=SUB_KEY)
    assert "u-9" in store.config_path.read_text()
    assert SECRET in store.credentials_path.read_text()
    store.save_credentials("default", "collection", api_key="NEWKEY-0000000000000")
    values = store.values("default")
    assert values["collection.user_id"] == "u-9"
    assert values["collection.subscription_key"] == SUB_KEY
    assert values["collection.api_key"] == "NEWKEY-0000000000000"
    with pytest.raises(InvalidInput):
        store.save_credentials("default", "payments", user_id="u")


def test_concurrent_writers_do_not_lose_changes(store):
    barrier = threading.Barrier(6)
    errors = []

    def save(product, n):
        try:
            barrier.wait()
            store.save_credentials(f"p{n}", product, user_id=f"u{n}", api_key=f"{SECRET}{n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=save, args=(product, i))
        for i, product in enumerate(["collection", "disbursement", "remittance"] * 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.profiles() == [f"p{i}" for i in range(6)]
    for i in range(6):
        assert store.values(f"p{i}")[f"{['collection', 'disbursement', 'remittance'][i % 3]}.api_key"] == f"{SECRET}{i}"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeout", "abc"), ("timeout", "0"), ("timeout", "-2"), ("timeout", "nan"), ("timeout", "inf"),
        ("target_environment", "mars"), ("base_url", "ftp://x"), ("base_url", "sandbox.momodeveloper.mtn.com"),
        ("base_url", "  "), ("collection.api_key", ""),
    ],
)
def test_bad_values_are_refused_before_anything_is_written(store, key, value):
    with pytest.raises(InvalidInput) as caught:
        store.set("work", key, value)
    assert caught.value.exit_code == ExitCode.USAGE
    assert not store.config_path.exists()


def test_values_are_tidied_and_timeout_stored_as_a_number(store):
    assert store.set("w", "target_environment", " MTNUganda ") == "mtnuganda"
    assert store.set("w", "timeout", "30") == 30
    assert store.set("w", "timeout", "2.5") == 2.5
    assert store.set("w", "base_url", "LOCAL") == "local"
    assert "timeout = 2.5" in store.config_path.read_text()


@pytest.mark.parametrize("name", ["", "has space", "../etc", "a.b", "-lead", "x" * 65])
def test_bad_profile_names_are_refused(store, name):
    with pytest.raises(InvalidInput):
        store.set(name, "timeout", "1")


def test_unknown_keys_list_the_valid_ones(store):
    with pytest.raises(InvalidInput) as caught:
        store.set("w", "api_key", "x")
    assert "collection.api_key" in caught.value.message and "base_url" in caught.value.message
