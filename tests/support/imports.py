"""What a momo invocation imports: run it in a fresh interpreter and list `sys.modules` afterwards.

Start-up cost is a contract (`momo --help` imports no httpx, rich, pydantic, starlette): tests check
it with this one helper rather than each with its own subprocess snippet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

#: Top-level packages that must stay out of light paths (help, version, completion, light commands).
HEAVY = ("httpx", "rich", "pydantic", "pydantic_settings", "starlette", "uvicorn")

_CODE = """
import json, sys
from momo_cli.cli import main
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit:
        pass
sys.stderr.write("\\n" + json.dumps(sorted(sys.modules)) + "\\n")
"""


@dataclass
class Imported:
    stdout: str
    modules: set[str]

    def heavy(self, forbidden: tuple[str, ...] = HEAVY) -> list[str]:
        """The loaded modules under the `forbidden` top-level packages (or named exactly)."""
        return sorted(m for m in self.modules if m.split(".")[0] in forbidden or m in forbidden)


def imported_by(*argvs: list[str]) -> Imported:
    """Run `momo ARGV` for each argv, in order, in one fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", _CODE, json.dumps([list(a) for a in argvs])],
                          capture_output=True, text=True, timeout=60, check=True)
    return Imported(proc.stdout, set(json.loads(proc.stderr.strip().splitlines()[-1])))
