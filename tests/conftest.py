"""Every test runs with its own config, data and cache dirs and no MoMo variables from the outside."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.emulator"]

_LEGACY_NAMES = ("ENVIRONMENT", "BASE_URL", "CALLBACK_HOST")
_PRODUCTS = ("COLLECTION", "DISBURSEMENT", "REMITTANCE")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("MOMO_") or name in _LEGACY_NAMES or any(
            name.startswith(f"{p}_") for p in _PRODUCTS
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MOMO_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("MOMO_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("MOMO_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.chdir(home)
    return home
