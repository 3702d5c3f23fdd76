"""`momo completion`: the scripts match completions/, completing works and stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from momo_cli.cli import root
from momo_cli.commands.completion import SHELLS, completion_script
from momo_cli.exitcodes import ExitCode

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"
HEAVY = ("httpx", "rich", "pydantic", "pydantic_settings", "starlette", "uvicorn")


@pytest.mark.parametrize("shell", SHELLS)
def test_checked_in_script_is_current(shell):
    """completions/ holds what the program prints; regenerate with `momo completion SHELL > completions/momo.SHELL`."""
    checked_in = (COMPLETIONS / f"momo.{shell}").read_text()
    result = CliRunner().invoke(root, ["completion", shell])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == checked_in, (
        f"completions/momo.{shell} is stale: run `momo completion {shell} > completions/momo.{shell}`"
    )
    assert result.stdout == completion_script(shell) + "\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_scripts_call_momo_back_with_its_variable(shell):
    script = completion_script(shell)
    assert "_MOMO_COMPLETE" in script
    assert f"{shell}_complete" in script


def test_no_other_files_in_completions():
    assert sorted(p.name for p in COMPLETIONS.iterdir()) == sorted(f"momo.{shell}" for shell in SHELLS)


def test_shell_name_is_case_insensitive():
    result = CliRunner().invoke(root, ["completion", "BASH"])
    assert result.exit_code == 0
    assert result.stdout == (COMPLETIONS / "momo.bash").read_text()


def test_unknown_shell_is_one_line_and_exit_2():
    result = CliRunner().invoke(root, ["completion", "powershell"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "powershell" in result.stderr


def test_missing_shell_is_exit_2():
    result = CliRunner().invoke(root, ["completion"])
    assert result.exit_code == ExitCode.USAGE


def _complete(words: str) -> tuple[list[str], list[str]]:
    """Run the program as bash's completion would; returns (completed values, heavy modules loaded)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    code = (
        "import sys, json\n"
        "from momo_cli.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "_MOMO_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    values = [line.split(",", 1)[1] for line in proc.stdout.splitlines() if line.startswith("plain,")]
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("momo_cli.sandbox"))
    return values, heavy


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("momo pro", ["provision", "profile"]),
        ("momo provision --product ", ["collection", "disbursement", "remittance", "all"]),
        ("momo provision s", ["show"]),
        ("momo doctor --pro", ["--product"]),
        ("momo completion ", ["bash", "zsh", "fish"]),
    ],
)
def test_completing_answers_without_heavy_imports(words, expected):
    values, heavy = _complete(words)
    assert values == expected
    assert heavy == [], f"completing {words!r} imported {heavy}"
