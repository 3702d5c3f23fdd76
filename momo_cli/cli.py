"""The entry points (`momo`, `mtnmomo`) and the table of commands. Standard library only.

The root group itself is click code in momo_cli.root, imported when a command runs. `momo --help`,
`momo -h`, `momo --version` and `momo -V` are answered here without importing click: the help is the
text click renders (momo_cli._roothelp, generated, kept equal by tests/test_roothelp.py), printed when the
terminal width is one it was rendered for; any other width, or any other argument, goes to click.
`root`, `LazyGroup` and `run_with_error_contract` are still importable from this module.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: command name -> (module, attribute, one-line help shown in `momo --help` without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "collect": ("momo_cli.commands.collect", "collect", "Ask a customer to pay (request-to-pay, withdraw)."),
    "disburse": ("momo_cli.commands.disburse", "disburse", "Pay out to wallets: transfer, deposit, refund, batch."),
    "remit": ("momo_cli.commands.remit", "remit", "Send remittances: transfer and cash transfer."),
    "status": ("momo_cli.commands.status", "status", "Show (and wait for) a transaction's status."),
    "balance": ("momo_cli.commands.balance", "balance", "Show account balances."),
    "account": ("momo_cli.commands.account", "account", "Check account holders: active, basic info."),
    "journal": ("momo_cli.commands.journal", "journal", "The local journal of every money-moving request."),
    "provision": ("momo_cli.commands.provision", "provision", "Create sandbox API users and keys."),
    "profile": ("momo_cli.commands.profile", "profile", "Manage configuration profiles."),
    "sandbox": ("momo_cli.commands.sandbox", "sandbox", "Run and inspect the local MoMo emulator."),
    "callbacks": ("momo_cli.commands.callbacks", "callbacks", "Receive, forward and replay callbacks."),
    "doctor": ("momo_cli.commands.doctor", "doctor", "Check configuration, credentials and connectivity."),
    "completion": ("momo_cli.commands.completion", "completion", "Print a shell completion script."),
}

#: The root's max_content_width: click renders help at max(min(columns, this) - 2, 50) characters.
MAX_CONTENT_WIDTH = 100

_FROM_ROOT = ("root", "LazyGroup", "run_with_error_contract")


def __getattr__(name: str) -> Any:
    """`root`, `LazyGroup`, `run_with_error_contract`: from momo_cli.root, imported (with click) on first use."""
    if name in _FROM_ROOT:
        from momo_cli import root as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def help_width() -> int:
    """The width click's HelpFormatter will use: shutil.get_terminal_size's columns, as click reads them."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    if columns <= 0:
        columns = 80
    return max(min(columns, MAX_CONTENT_WIDTH) - 2, 50)


def _answer_without_click(args: list[str]) -> bool:
    """Print the root help or the version if that is all `args` ask for; False when click must answer."""
    if len(args) != 1 or args[0] not in ("--help", "-h", "--version", "-V") or "_MOMO_COMPLETE" in os.environ:
        return False
    if args[0] in ("--version", "-V"):
        from momo_cli import __version__

        text = f"momo-cli {__version__}\n"
    else:
        from momo_cli._roothelp import HELP

        text = HELP.get(help_width())
        if text is None:
            return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `momo --help | head -1`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown quiet
        except OSError:
            pass
    return True


def main(argv: list[str] | None = None) -> None:
    if _answer_without_click(sys.argv[1:] if argv is None else list(argv)):
        sys.exit(0)
    from momo_cli.root import root

    root.main(args=argv, prog_name="momo")


#: Options of the older `mtnmomo` command; their presence (or no arguments) selects its behaviour.
LEGACY_OPTIONS = ("--provider", "--key")


def legacy_main(argv: list[str] | None = None) -> None:
    """`mtnmomo`: the same program, but `mtnmomo [--provider HOST] [--key KEY]` provisions as it always did."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--help"], ["-h"]):
        # People who knew the older tool look here first for --provider/--key.
        sys.stdout.write(
            "mtnmomo --provider HOST --key KEY    create a sandbox API user and key, as the older mtnmomo did\n"
            "                                     (`mtnmomo --provider x --help` for its options)\n\n"
        )
    if not args or any(arg.split("=", 1)[0] in LEGACY_OPTIONS for arg in args):
        from momo_cli.commands.provision import legacy_command

        legacy_command.main(args=args, prog_name="mtnmomo")
        return
    from momo_cli.root import root

    root.main(args=args, prog_name="mtnmomo")
