"""docs/configuration.md and .env.example name every variable the settings read."""

from __future__ import annotations

from pathlib import Path

import pytest

from momo_cli.config import keys as K
from momo_cli.config.settings import read_dotenv

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("MOMO_PROFILE", "MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR")
ALL_NAMES = sorted({name for names in K.ENV_NAMES.values() for name in names.in_order()} | set(EXTRA))


@pytest.mark.parametrize("document", [".env.example", "docs/configuration.md"])
def test_every_variable_is_documented(document):
    text = (ROOT / document).read_text()
    missing = [name for name in ALL_NAMES if name not in text]
    assert missing == []


def test_every_key_is_documented():
    text = (ROOT / "docs/configuration.md").read_text()
    for key in K.GENERAL_KEYS + tuple(f"<product>.{field}" for field in K.CREDENTIAL_FIELDS):
        assert f"`{key}`" in text


def test_env_example_sets_nothing_until_uncommented(tmp_path):
    assert read_dotenv(ROOT / ".env.example") == {}
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and "=" in line.split()[1] else line
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip()
    )
    path = tmp_path / ".env"
    path.write_text(uncommented)
    values = read_dotenv(path)
    assert set(ALL_NAMES) <= set(values)
