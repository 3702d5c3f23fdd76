"""`momo remit`: remittances (transfer, cash transfer). Declarations over `_money`."""

from __future__ import annotations

import click

from momo_cli.commands._money import Spec, money_command


@click.group()
def remit() -> None:
    """Send remittances: transfer and cash transfer (remittance product)."""


money_command(
    remit, "transfer", Spec("remittance", "transfer", "payee"),
    help="Send a remittance to a payee's wallet.",
    examples="""
  momo remit transfer --amount 250 --payee 46733123999 --wait
""",
)

money_command(
    remit, "cash-transfer", Spec("remittance", "cash_transfer", "payee", version="v2_0", cash_transfer=True),
    help="Send a cash transfer (v2) with the sender's details.",
    examples="""
  momo remit cash-transfer --amount 100 --payee 46733123999 --originating-country SE \\
      --original-amount 1150 --original-currency SEK --payer-first-name Ada --payer-surname Lovelace \\
      --payer-id-type PASS --payer-id-number X1234567 --wait
""",
)
