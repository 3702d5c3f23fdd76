"""Where momo keeps its files, and the private directories it creates."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from momo_cli.config import paths

DIRS = [
    (paths.config_dir, "MOMO_CONFIG_DIR", "XDG_CONFIG_HOME", (".config",)),
    (paths.data_dir, "MOMO_DATA_DIR", "XDG_DATA_HOME", (".local", "share")),
    (paths.cache_dir, "MOMO_CACHE_DIR", "XDG_CACHE_HOME", (".cache",)),
]


@pytest.mark.parametrize(("func", "own", "xdg", "default"), DIRS)
def test_own_variable_beats_xdg_beats_home(tmp_path, func, own, xdg, default):
    env = {"HOME": str(tmp_path / "home"), xdg: str(tmp_path / "xdg"), own: str(tmp_path / "own")}
    assert func(env) == tmp_path / "own"
    del env[own]
    assert func(env) == tmp_path / "xdg" / "momo"
    del env[xdg]
    assert func(env) == tmp_path.joinpath("home", *default, "momo")


@pytest.mark.parametrize(("func", "own", "xdg", "default"), DIRS)
def test_relative_xdg_value_is_ignored_and_empty_own_value_is_unset(tmp_path, func, own, xdg, default):
    env = {"HOME": str(tmp_path), xdg: "relative/dir", own: ""}
    assert func(env) == tmp_path.joinpath(*default, "momo")


def test_defaults_read_the_process_environment(isolated_dirs):
    # conftest points the three MOMO_*_DIR variables into the test's home.
    assert paths.config_dir() == isolated_dirs / "config"
    assert paths.data_dir() == isolated_dirs / "data"
    assert paths.cache_dir() == isolated_dirs / "cache"


def test_tilde_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.config_dir({"MOMO_CONFIG_DIR": "~/cfg", "HOME": str(tmp_path)}) == tmp_path / "cfg"


def test_ensure_private_dir_creates_0700_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        made = paths.ensure_private_dir(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert made.is_dir()
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_ensure_private_dir_leaves_an_existing_directory_alone(tmp_path):
    chosen = tmp_path / "chosen"
    chosen.mkdir(mode=0o755)
    os.chmod(chosen, 0o755)
    paths.ensure_private_dir(chosen)
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o755


def test_ensure_helpers_use_the_resolved_dirs(isolated_dirs):
    assert paths.ensure_config_dir() == isolated_dirs / "config"
    assert paths.ensure_data_dir().is_dir()
    assert paths.ensure_cache_dir().is_dir()
    assert stat.S_IMODE((isolated_dirs / "config").stat().st_mode) == 0o700


def test_light_config_modules_do_not_import_pydantic_or_rich():
    code = (
        "import sys, json\n"
        "import momo_cli.config, momo_cli.config.paths, momo_cli.config.keys, momo_cli.config.store\n"
        "import momo_cli.config.settings\n"
        "sys.stdout.write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(proc.stdout)
    heavy = [m for m in loaded if m.split(".")[0] in ("pydantic", "pydantic_settings", "rich", "httpx")]
    assert heavy == []


def test_loading_settings_without_a_dotenv_file_imports_no_pydantic(tmp_path):
    code = (
        "import sys, json, os\n"
        "from momo_cli.config.settings import load_settings\n"
        "s = load_settings({})\n"
        "assert s.base_url == 'local'\n"
        "sys.stdout.write(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items()}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    loaded = json.loads(proc.stdout)
    assert not [m for m in loaded if m.split(".")[0] in ("pydantic", "pydantic_settings")]
