"""`momo collect`: ask a customer to pay (request to pay, request to withdraw) and notify them.

The money-moving commands are declarations: the shared machinery is in `_money`.
"""

from __future__ import annotations

import click

from momo_cli.commands._money import Spec, money_command
from momo_cli.commands._session import app_context


@click.group()
def collect() -> None:
    """Ask a customer to pay: request to pay, request to withdraw, delivery notification.

    With nothing configured it runs on the built-in emulator, where the sandbox test numbers decide
    the outcome (46733123451 declines, 46733123453 stays pending, any other number pays).
    """


money_command(
    collect, "request", Spec("collection", "request_to_pay", "payer"),
    help="Ask a payer to pay (request to pay): they approve on their phone.",
    examples="""
  momo collect request --amount 600 --payer 46733123450 --wait
  momo collect request --amount 12.50 --currency EUR --payer 46733123999 --external-id order-42 --yes
  ref=$(momo collect request --amount 5 --payer 46733123999 --yes -q)
""",
)

money_command(
    collect, "withdraw", Spec("collection", "request_to_withdraw", "payer", v2_flag=True),
    help="Ask a payer to approve a withdrawal (request to withdraw).",
    examples="""
  momo collect withdraw --amount 100 --payer 46733123999 --wait
  momo collect withdraw --v2 --amount 100 --payer 46733123999 --yes --json
""",
)


@collect.command(short_help="Notify the payer of a successful request to pay.", epilog="""\b
Examples:
  momo collect notify 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11 --message "Your order has shipped"

Only a successful request to pay can be followed by a notification (else exit 5).
""")
@click.argument("reference_id")
@click.option("--message", required=True, metavar="TEXT", help="The text (at most 160 characters, plain ASCII).")
@click.option("--language", metavar="CODE", help="Language of the message (ISO 639, e.g. en).")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def notify(obj, reference_id: str, message: str, language: str | None, json_mode: bool) -> None:
    """Send a delivery notification to the payer of a successful request to pay."""
    import asyncio

    from momo_cli import money
    from momo_cli.commands._session import Session
    from momo_cli.errors import InvalidInput

    reference_id = money.check_reference_id(reference_id, field="REFERENCE_ID")
    text = money.check_message(message, field="--message") or ""
    if not text.strip():
        raise InvalidInput("--message", "must not be empty")
    if not text.isascii():
        raise InvalidInput("--message", "must be plain ASCII (it travels in an HTTP header)")
    if language is not None and not (language.isascii() and language.isalpha() and 2 <= len(language) <= 3):
        raise InvalidInput("--language", f"{language!r} is not an ISO 639 code such as 'en' or 'fr'")
    app = app_context(obj)
    out = app.output(json_mode=json_mode)
    session = Session(app, out)
    try:
        journal_entry = session.journal().get(reference_id)
        if journal_entry is not None and journal_entry.operation != "request_to_pay":
            raise InvalidInput(
                "REFERENCE_ID",
                f"{reference_id} is a {journal_entry.product} {journal_entry.operation.replace('_', ' ')}: "
                "only a request to pay can be followed by a notification",
            )

        async def send() -> None:
            async with session.client("collection") as client:
                await client.delivery_notification(reference_id, text, language=language)

        asyncio.run(send())
    finally:
        session.close()
    if json_mode:
        out.json({"reference_id": reference_id, "notified": True, "message": text,
                  "language": language.lower() if language else None,
                  "environment": session.settings.target_environment})
    else:
        out.line(f"Notification sent to the payer of {reference_id}.")
