"""Whatever a profile name or a value looks like, the files that hold the secrets stay valid TOML.

`momo profile set timeout 5 --profile $'work\\n'` used to pass the profile-name check (`$` matches
before a trailing newline) and write `[profiles.work<newline>]` as a bare TOML key: config.toml was
broken and every later command ended in exit 3 until someone edited it by hand. Now such a name is
exit 2 and nothing is written; the writer quotes any key that is not plainly bare.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from momo_cli.config.toml_writer import dumps
from tests.security.support import FUZZ_SETTINGS, invoke, marker

FUZZ = settings(max_examples=150, **FUZZ_SETTINGS)
NAMES = st.one_of(
    st.text(max_size=70),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,70}\Z"),
    st.builds(lambda name, tail: name + tail, st.from_regex(r"\A[a-z]{1,8}\Z"),
              st.sampled_from(["\n", "\r\n", " ", "\t", "]", '"', "\x00", ".x", "\n[profiles.evil]"])),
)


def config_files() -> tuple[Path, Path]:
    directory = Path(os.environ["MOMO_CONFIG_DIR"])
    return directory / "config.toml", directory / "credentials.toml"


@FUZZ
@given(NAMES)
@example("work\n")
@example("work\n[profiles.evil]")
def test_any_profile_name_keeps_the_files_valid(name):
    secret = marker("NAME")
    first = invoke(["profile", "set", "timeout", "5", "--profile", name])
    second = invoke(["profile", "set", "collection.api_key", "-", "--profile", name], input=secret + "\n")
    for result in (first, second):
        assert result.exit_code in (0, 2), (repr(name), result.stderr)
        assert "Traceback" not in result.stderr and secret not in result.stdout + result.stderr
    for path in config_files():
        if path.exists():
            tomllib.loads(path.read_text())  # still TOML
    listed = invoke(["profile", "list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    if first.exit_code == 0 and name:  # an empty --profile means "the selected profile"
        assert name in {p["name"] for p in json.loads(listed.stdout)["profiles"]}


@FUZZ
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=20), st.integers(), st.booleans()),
                       max_size=4))
@example({"0\n": ""})
@example({"a\n[x]": "y"})
def test_the_writer_quotes_every_key_that_is_not_bare(table):
    assert tomllib.loads(dumps({"profiles": {"p": table}}))["profiles"]["p"] == table
