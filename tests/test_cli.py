"""The root command: lazy imports, the exit-code contract, one-line errors."""

from __future__ import annotations

from click.testing import CliRunner

from momo_cli import __version__
from momo_cli.cli import COMMANDS, root
from momo_cli.exitcodes import MEANINGS, ExitCode
from tests.support.imports import HEAVY, imported_by


def test_help_and_version_import_nothing_heavy():
    for args in (["--help"], ["--version"], []):
        heavy = imported_by(args).heavy(HEAVY + ("momo_cli.sandbox",))
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
