"""`momo --help` as click renders it, at the widths most terminals give. Generated: do not edit HELP.

cli.main prints it for `momo --help` without importing click (see benchmarks/startup.py). After a
change to the root's options or docstring, the command table or the exit codes, regenerate it with

    python -m momo_cli._roothelp

(tests/test_roothelp.py fails until the text is current).
"""

from __future__ import annotations

from pathlib import Path

#: Formatter widths: 78 for 80-column terminals and pipes, 98 for terminals of 100 columns or more.
WIDTHS = (78, 98)

HELP: dict[int, str] = {
    78: "Usage: momo [OPTIONS] COMMAND [ARGS]...\n\n  momo: the MTN Mobile Money (MoMo) Open API from your terminal.\n\n  With nothing configured every command runs on the built-in emulator (no real\n  money moves).\n\nOptions:\n  -V, --version             Show the version and exit.\n  -p, --profile NAME        Profile to use (default: the active one).\n  --base-url URL            API base URL, or 'local' for the built-in\n                            emulator.\n  --target-environment ENV  X-Target-Environment, e.g. sandbox or mtnuganda.\n  --allow-any-host          Allow a base URL that is not an MTN host or\n                            loopback.\n  --debug                   Log HTTP traffic (secrets masked) and show\n                            tracebacks.\n  --no-color                Plain output without colour.\n  -h, --help                Show this message and exit.\n\nCommands:\n  collect     Ask a customer to pay (request-to-pay, withdraw).\n  disburse    Pay out to wallets: transfer, deposit, refund, batch.\n  remit       Send remittances: transfer and cash transfer.\n  status      Show (and wait for) a transaction's status.\n  balance     Show account balances.\n  account     Check account holders: active, basic info.\n  journal     The local journal of every money-moving request.\n  provision   Create sandbox API users and keys.\n  profile     Manage configuration profiles.\n  sandbox     Run and inspect the local MoMo emulator.\n  callbacks   Receive, forward and replay callbacks.\n  doctor      Check configuration, credentials and connectivity.\n  completion  Print a shell completion script.\n\n  Exit codes:\n\n      0  success (for a transaction: final status SUCCESSFUL)\n      1  unexpected internal error (a bug: please report it)\n      2  usage error or invalid input; nothing was sent\n      3  configuration or credentials missing\n      4  authentication or authorization rejected (401/403)\n      5  the API rejected the request (4xx, or 500 with a MoMo error code)\n      6  network error, timeout or service unavailable: the outcome may be unknown\n      8  still PENDING when --wait gave up\n     10  transaction final and not successful (FAILED, REJECTED, EXPIRED ...)\n    130  interrupted\n",
    98: "Usage: momo [OPTIONS] COMMAND [ARGS]...\n\n  momo: the MTN Mobile Money (MoMo) Open API from your terminal.\n\n  With nothing configured every command runs on the built-in emulator (no real money moves).\n\nOptions:\n  -V, --version             Show the version and exit.\n  -p, --profile NAME        Profile to use (default: the active one).\n  --base-url URL            API base URL, or 'local' for the built-in emulator.\n  --target-environment ENV  X-Target-Environment, e.g. sandbox or mtnuganda.\n  --allow-any-host          Allow a base URL that is not an MTN host or loopback.\n  --debug                   Log HTTP traffic (secrets masked) and show tracebacks.\n  --no-color                Plain output without colour.\n  -h, --help                Show this message and exit.\n\nCommands:\n  collect     Ask a customer to pay (request-to-pay, withdraw).\n  disburse    Pay out to wallets: transfer, deposit, refund, batch.\n  remit       Send remittances: transfer and cash transfer.\n  status      Show (and wait for) a transaction's status.\n  balance     Show account balances.\n  account     Check account holders: active, basic info.\n  journal     The local journal of every money-moving request.\n  provision   Create sandbox API users and keys.\n  profile     Manage configuration profiles.\n  sandbox     Run and inspect the local MoMo emulator.\n  callbacks   Receive, forward and replay callbacks.\n  doctor      Check configuration, credentials and connectivity.\n  completion  Print a shell completion script.\n\n  Exit codes:\n\n      0  success (for a transaction: final status SUCCESSFUL)\n      1  unexpected internal error (a bug: please report it)\n      2  usage error or invalid input; nothing was sent\n      3  configuration or credentials missing\n      4  authentication or authorization rejected (401/403)\n      5  the API rejected the request (4xx, or 500 with a MoMo error code)\n      6  network error, timeout or service unavailable: the outcome may be unknown\n      8  still PENDING when --wait gave up\n     10  transaction final and not successful (FAILED, REJECTED, EXPIRED ...)\n    130  interrupted\n",
}


def render(width: int) -> str:
    """The root help exactly as `momo --help` prints it when click's formatter is `width` wide."""
    from momo_cli.root import root

    settings = {**root.context_settings, "terminal_width": width}
    ctx = root.context_class(root, info_name="momo", **settings)
    return ctx.get_help() + "\n"


def source() -> str:
    """This module's text with HELP rendered from the program."""
    text = Path(__file__).read_text(encoding="utf-8")
    head, _, _ = text.partition("HELP: dict[int, str] = ")
    tail = text[text.index("\n\n\ndef render("):]
    body = "".join(f"    {width}: {render(width)!r},\n" for width in WIDTHS)
    return f"{head}HELP: dict[int, str] = {{\n{body}}}{tail}"


if __name__ == "__main__":  # pragma: no cover - the generator
    Path(__file__).write_text(source(), encoding="utf-8")
    print(f"wrote {__file__}")
