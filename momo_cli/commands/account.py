"""`momo account`: check account holders (active, basic user info)."""

from __future__ import annotations

import click

from momo_cli.commands._money import ID_TYPES
from momo_cli.commands._session import app_context
from momo_cli.operations import PRODUCTS


@click.group()
def account() -> None:
    """Check account holders: is a wallet active, and who holds it."""


def _options(func):
    func = click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")(func)
    func = click.option("--product", type=click.Choice(PRODUCTS, case_sensitive=False), default="collection",
                        show_default=True, help="Whose credentials ask.")(func)
    func = click.option("--id-type", type=click.Choice(ID_TYPES, case_sensitive=False), default="msisdn",
                        show_default=True, help="What ID is.")(func)
    return click.argument("holder_id", metavar="ID")(func)


def _holder(id_type: str, holder_id: str) -> tuple[str, str]:
    from momo_cli import money

    return money.normalize_party(id_type, holder_id, field="ID")


def _run(obj, json_mode: bool, product: str, call):
    import asyncio

    from momo_cli.commands._session import Session

    app = app_context(obj)
    out = app.output(json_mode=json_mode)
    session = Session(app, out)

    async def ask():
        async with session.client(product) as client:
            return await call(client)

    try:
        return out, session, asyncio.run(ask())
    finally:
        session.close()


@account.command(epilog="""\b
Examples:
  momo account active 46733123999
  momo account active notfound@email.com --id-type email --json

Exit 0 whether or not the holder is active (read "active" in the output); 5 when the API refuses
to answer (NOT_ALLOWED ...), 6 when it is unavailable.
""")
@_options
@click.pass_obj
def active(obj, holder_id: str, id_type: str, product: str, json_mode: bool) -> None:
    """Is ID a registered, active account holder?"""
    kind, value = _holder(id_type, holder_id)
    product = product.lower()
    out, session, result = _run(obj, json_mode, product,
                                lambda client: client.account_holder_active(product, kind, value))
    doc = {"id": value, "id_type": kind, "active": bool(result.result), "product": product,
           "environment": session.settings.target_environment}
    if json_mode:
        out.json(doc)
        return
    from rich.text import Text

    line = Text(f"{value} ")
    line.append("is an active account holder" if doc["active"] else "is not an active account holder",
                style="bold green" if doc["active"] else "bold red")
    line.append(f"  · {product} · {session.environment_label}", style="dim")
    out.console.print(line)


@account.command(epilog="""\b
Examples:
  momo account info 46733123999
  momo account info 46733123999 --json | jq -r .name
""")
@_options
@click.pass_obj
def info(obj, holder_id: str, id_type: str, product: str, json_mode: bool) -> None:
    """Show the basic user info of account holder ID (name, birth date, locale ...)."""
    kind, value = _holder(id_type, holder_id)
    product = product.lower()
    out, session, result = _run(obj, json_mode, product,
                                lambda client: client.basic_user_info(product, kind, value))
    doc = {"id": value, "id_type": kind, **result.to_json(), "product": product,
           "environment": session.settings.target_environment}
    if json_mode:
        out.json(doc)
        return
    from rich import box
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", justify="right")
    grid.add_column()
    labels = (("name", "Name"), ("given_name", "Given name"), ("family_name", "Family name"),
              ("birthdate", "Birth date"), ("gender", "Gender"), ("locale", "Locale"), ("status", "Status"))
    for key, label in labels:
        if doc.get(key):
            grid.add_row(label, str(doc[key]))
    grid.add_row("Environment", session.environment_label)
    out.console.print(Panel(grid, title=f"Account holder {value}", title_align="left", box=box.ROUNDED,
                            expand=False))
