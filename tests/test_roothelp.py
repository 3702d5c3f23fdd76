"""`momo --help` and `--version` without click: the same text click prints, at every width."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from momo_cli import __version__, _roothelp
from momo_cli.cli import help_width

RUN_MAIN = (
    "import sys, json\n"
    "from momo_cli.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "sys.stderr.write(json.dumps({'code': code, 'click': 'click' in sys.modules}))\n"
)
RUN_CLICK = "import sys\nfrom momo_cli.root import root\nroot.main(sys.argv[1:], prog_name='momo')\n"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "_MOMO_COMPLETE")}
    env.update(extra)
    return env


def fast(args: list[str], **env: str) -> tuple[str, dict]:
    proc = subprocess.run([sys.executable, "-c", RUN_MAIN, *args], capture_output=True, text=True,
                          env=_env(**env), stdin=subprocess.DEVNULL)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def by_click(args: list[str], **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", RUN_CLICK, *args], capture_output=True, text=True,
                          env=_env(**env), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_generated_text_is_current():
    """After changing the root's options, COMMANDS or the exit codes: `python -m momo_cli._roothelp`."""
    for width in _roothelp.WIDTHS:
        assert _roothelp.HELP[width] == _roothelp.render(width), (
            "momo_cli/_roothelp.py is stale: run `python -m momo_cli._roothelp`"
        )
    assert Path(_roothelp.__file__).read_text(encoding="utf-8") == _roothelp.source()


@pytest.mark.parametrize(("columns", "without_click"), [("80", True), ("200", True), ("100", True),
                                                         ("90", False), ("30", False)])
def test_help_equals_clicks_at_every_width(columns, without_click):
    out, state = fast(["--help"], COLUMNS=columns)
    assert state == {"code": 0, "click": not without_click}
    assert out == by_click(["--help"], COLUMNS=columns)


def test_piped_help_is_the_80_column_text_without_click():
    out, state = fast(["-h"])  # stdout is a pipe: click falls back to 80 columns
    assert state == {"code": 0, "click": False}
    assert out == _roothelp.HELP[78] == by_click(["-h"])


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_without_click(flag):
    out, state = fast([flag])
    assert state == {"code": 0, "click": False}
    assert out == f"momo-cli {__version__}\n" == by_click([flag])


@pytest.mark.parametrize("args", [[], ["--help", "profile"], ["profile", "--help"], ["--debug", "--help"]])
def test_anything_else_goes_to_click(args):
    _, state = fast(args)
    assert state["click"] is True


def test_completion_requests_go_to_click():
    _, state = fast(["--help"], _MOMO_COMPLETE="bash_complete", COMP_WORDS="momo --help", COMP_CWORD="1")
    assert state["click"] is True


def test_a_closed_pipe_is_quiet():
    proc = subprocess.run(f"{sys.executable} -c \"from momo_cli.cli import main; main(['--help'])\" | head -c 10",
                          shell=True, capture_output=True, text=True, env=_env())
    assert proc.stdout == "Usage: mom"
    assert "Traceback" not in proc.stderr


def test_help_width_follows_columns(monkeypatch):
    for columns, width in (("80", 78), ("99", 97), ("100", 98), ("300", 98), ("20", 50)):
        monkeypatch.setenv("COLUMNS", columns)
        assert help_width() == width


def test_root_names_are_still_importable_from_cli():
    from momo_cli import cli, root

    assert cli.root is root.root
    assert cli.LazyGroup is root.LazyGroup
    assert cli.run_with_error_contract is root.run_with_error_contract
    with pytest.raises(AttributeError):
        cli.nothing_here  # noqa: B018
