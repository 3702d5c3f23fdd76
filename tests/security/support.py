"""Helpers of the security suite: marker secrets, a leak detector, file walks, a CLI runner.

A *marker* is a secret we choose (or one the emulator generated for us) that is easy to look for.
`Secrets.in_text` names the markers a text holds; the tests then say which places may hold them.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

#: Hypothesis settings of the fuzz tests: reproducible (same examples on every run), no deadline
#: (a slow CI machine must not fail a property), modest counts so the folder stays quick.
FUZZ_SETTINGS = dict(derandomize=True, deadline=None, database=None)

#: A secret is also looked for in pieces of this many characters: a table that folds a long value
#: over two lines, or a message that cuts it, still leaks most of it. Masks show 4 + 4 characters.
WINDOW = 10


MARKER_PREFIX = "SECRETMARKER"


def marker(label: str) -> str:
    """A distinctive secret, e.g. `SECRETMARKERSUB5f3a...`: nothing else could contain it by chance."""
    return f"{MARKER_PREFIX}{label}{secrets.token_hex(12)}"


def basic_credentials(user_id: str, api_key: str) -> str:
    """The Basic token of user:key, as it travels in the Authorization header of /token/."""
    return base64.b64encode(f"{user_id}:{api_key}".encode()).decode("ascii")


def pieces(secret: str) -> set[str]:
    """The secret and every WINDOW-character piece of it (longer secrets only), except the pieces
    every marker shares (inside MARKER_PREFIX)."""
    if len(secret) < 2 * WINDOW:
        return {secret}
    windows = {secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return {secret} | {piece for piece in windows if piece not in MARKER_PREFIX}


def found_in(text: str | bytes, secret: str) -> bool:
    """True when `text` holds `secret` or a WINDOW-long piece of it."""
    haystack = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return any(piece in haystack for piece in pieces(secret))


@dataclass
class Secrets:
    """Named secrets (name -> value); names say what leaked in failure messages."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str | None) -> None:
        if value:
            self.values[name] = value

    def in_text(self, text: str | bytes) -> list[str]:
        return sorted(name for name, value in self.values.items() if found_in(text, value))

    def __iter__(self):
        return iter(self.values.items())


def files_under(*roots: Path) -> list[Path]:
    """Every regular file under `roots` (no symlinks followed)."""
    found: list[Path] = []
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path)
    return sorted(found)


def files_holding(secrets_: Secrets, roots: Iterable[Path]) -> dict[Path, list[str]]:
    """{file: names of the secrets its bytes contain} for every file under `roots` that holds one."""
    holding: dict[Path, list[str]] = {}
    for path in files_under(*roots):
        names = secrets_.in_text(path.read_bytes())
        if names:
            holding[path] = names
    return holding


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@dataclass
class Result:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    def describe(self) -> str:
        return f"momo {' '.join(self.argv)} -> exit {self.exit_code}"


def invoke(argv: list[str], *, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """`momo ARGV` in this process, stdout and stderr apart. The handler `--debug` adds to the
    momo_cli logger (it writes to this run's stderr) is taken away afterwards."""
    from momo_cli.root import root

    logger = logging.getLogger("momo_cli")
    handlers, level = list(logger.handlers), logger.level
    try:
        result = CliRunner().invoke(root, argv, input=input, env=env, prog_name="momo")
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    return Result(list(argv), result.exit_code, result.stdout, result.stderr, result.exception)
