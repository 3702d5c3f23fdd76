"""`momo balance`: the available balance of each product's account."""

from __future__ import annotations

import click

from momo_cli.commands._session import app_context
from momo_cli.operations import PRODUCTS

EPILOG = """\b
Examples:
  momo balance
  momo balance --product disbursement --json | jq -r .available_balance
  momo balance --currency EUR

\b
JSON: one object {product, available_balance, currency, environment} with --product NAME; a list
of them with --product all (the default). Products without credentials are left out of `all`
(with a note on stderr), except on an emulator where the CLI provisions its own API users.
"""


@click.command(epilog=EPILOG)
@click.option("--product", type=click.Choice((*PRODUCTS, "all"), case_sensitive=False), default="all",
              show_default=True, help="Which account.")
@click.option("--currency", metavar="C", help="Ask for the balance in this currency (ISO 4217).")
@click.option("--json", "json_mode", is_flag=True, help="Print JSON on stdout.")
@click.pass_obj
def balance(obj, product: str, currency: str | None, json_mode: bool) -> None:
    """Show the available balance of your collection, disbursement and remittance accounts."""
    import asyncio

    from momo_cli import money
    from momo_cli.commands._session import Session
    from momo_cli.errors import ConfigError

    if currency is not None:
        currency = money.parse_currency(currency, field="--currency")
    product = product.lower()
    app = app_context(obj)
    out = app.output(json_mode=json_mode)
    session = Session(app, out)
    settings = session.settings
    if currency is not None:  # the API answers INVALID_CURRENCY for any other: say so before asking
        currency = money.check_currency(currency, settings.target_environment, field="--currency")
    if product == "all":
        products = list(PRODUCTS)
        if not session.on_emulator:
            products = [p for p in PRODUCTS if settings.credentials(p).complete]
            skipped = [p for p in PRODUCTS if p not in products]
            if not products:
                settings.require_credentials(PRODUCTS[0])  # raises ConfigError naming what to set
                raise ConfigError("no product has credentials")  # pragma: no cover - the line above raises
            if skipped:
                out.info(f"momo: no credentials for {', '.join(skipped)}: left out")
    else:
        products = [product]

    async def fetch() -> list[dict]:
        rows = []
        async with session.client(*products) as client:
            for name in products:
                result = await client.balance(name, currency)
                rows.append({
                    "product": name,
                    "available_balance": result.available_text,
                    "currency": result.currency,
                    "environment": settings.target_environment,
                })
        return rows

    try:
        rows = asyncio.run(fetch())
    finally:
        session.close()
    if json_mode:
        out.json(rows if product == "all" else rows[0])
        return
    from momo_cli.render import table

    view = table(
        ["product", "available", "currency"],
        [(row["product"], row["available_balance"], row["currency"]) for row in rows],
        title=f"Balances · {session.environment_label}", status_column=None,
    )
    out.console.print(view)
