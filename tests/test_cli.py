"""The root command: lazy imports, the exit-code contract, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from momo_cli import __version__
from momo_cli.cli import COMMANDS, root
from momo_cli.exitcodes import MEANINGS, ExitCode

HEAVY = ("httpx", "rich", "pydantic", "pydantic_settings", "starlette", "uvicorn", "momo_cli.sandbox")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from momo_cli.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_help_and_version_import_nothing_heavy():
    for args in (["--help"], ["--version"], []):
        loaded = _modules_after(args)
        heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY)
        assert heavy == [], f"momo {' '.join(args)} imported {heavy}"


def test_version():
    result = CliRunner().invoke(root, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"momo-cli {__version__}"


def test_help_lists_every_command_and_the_exit_codes():
    result = CliRunner().invoke(root, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    for code in MEANINGS:
        assert f" {int(code)}  " in result.output


def test_unknown_command_is_one_line_and_exit_2():
    result = CliRunner().invoke(root, ["nope"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "No such command" in result.stderr


def test_unknown_option_is_one_line_and_exit_2():
    result = CliRunner().invoke(root, ["--frobnicate"])
    assert result.exit_code == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_command_has_working_help():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(root, [name, "--help"])
        assert result.exit_code == 0, (name, result.output, result.stderr)
        assert "Usage:" in result.output
        group = root.get_command(None, name)
        for sub in getattr(group, "commands", {}):
            result = runner.invoke(root, [name, sub, "--help"])
            assert result.exit_code == 0, (name, sub, result.stderr)


def test_exit_code_doc_matches_the_program():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "exit-codes.md").read_text()
    rows = {int(line.split("|")[1]) for line in doc.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()}
    assert rows == {int(code) for code in ExitCode}
