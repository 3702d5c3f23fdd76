"""`momo disburse`: pay out (transfer, deposit, refund). Declarations over `_money`.

`momo disburse batch` lives in its own module (`disburse_batch`): the group finds it by name on
first use, so this module never imports it up front.
"""

from __future__ import annotations

import importlib

import click

from momo_cli.commands._money import Spec, money_command

#: sub-command name -> (module, attribute) of the sub-commands that live in other modules
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("momo_cli.commands.disburse_batch", "batch"),
}


class DisburseGroup(click.Group):
    """A group that also offers the sub-commands of LAZY_COMMANDS, imported when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(name for name in LAZY_COMMANDS if self._lazy(name) is not None)
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        return command if command is not None else self._lazy(name)

    @staticmethod
    def _lazy(name: str) -> click.Command | None:
        entry = LAZY_COMMANDS.get(name)
        if entry is None:
            return None
        module_name, attribute = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # not built yet
                return None
            raise
        command = getattr(module, attribute, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=DisburseGroup)
def disburse() -> None:
    """Pay out to wallets: transfer, deposit, refund (disbursement product), and batch payouts."""


money_command(
    disburse, "transfer", Spec("disbursement", "transfer", "payee"),
    help="Transfer money from your account to a payee's wallet.",
    examples="""
  momo disburse transfer --amount 600 --payee 46733123450 --wait
  momo disburse transfer --amount 600 --currency EUR --payee 46733123999 --yes --json | jq .status
""",
)

money_command(
    disburse, "deposit", Spec("disbursement", "deposit", "payee", v2_flag=True),
    help="Deposit money into a payee's wallet.",
    examples="""
  momo disburse deposit --amount 75 --payee 46733123999 --wait
  momo disburse deposit --v2 --amount 75 --payee 46733123999 --yes
""",
)

money_command(
    disburse, "refund", Spec("disbursement", "refund", None, v2_flag=True, refund=True),
    help="Refund (part of) a request to pay, by its reference id.",
    examples="""
  momo disburse refund --refund 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11 --amount 600 --wait
""",
)
