"""`momo status REFERENCE_ID`: a transaction's status, and with --wait its final one.

A reference id the journal knows takes its product and operation from there, and every answer is
journaled. Another one (sent by some other program) needs --product and --operation (or just
--product: its usual operation) and is only read.

Exit codes, like gh's "pending": 0 SUCCESSFUL, 10 final and not successful, 8 still PENDING (with
or without --wait), 5 unknown to the API (404), 6 network trouble.
"""

from __future__ import annotations

import time

import click

from momo_cli.commands._money import check_output_flags
from momo_cli.commands._session import app_context
from momo_cli.commands._wait import DEFAULT_INTERVAL, DEFAULT_TIMEOUT
from momo_cli.errors import InvalidInput, MomoCliError, NotFound, UsageError
from momo_cli.operations import OPERATIONS, PRODUCTS

#: The operation a bare --product means.
DEFAULT_OPERATION = {"collection": "request_to_pay", "disbursement": "transfer", "remittance": "transfer"}
OPERATION_NAMES = sorted({name for _, name in OPERATIONS})

EPILOG = """\b
Examples:
  momo status 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11
  momo status 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11 --wait --timeout 300
  momo status 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11 --product disbursement --operation deposit --json

\b
Exit codes: 0 SUCCESSFUL; 10 final and not successful (FAILED, REJECTED, EXPIRED ...);
8 still PENDING (also without --wait: scripts can loop on it); 5 the API does not know the
reference id; 6 network error; 2 invalid input.
"""


def _operation_name(text: str | None) -> str | None:
    if text is None:
        return None
    name = text.strip().lower().replace("-", "_")
    if name not in OPERATION_NAMES:
        raise InvalidInput("--operation", f"{text!r} is not one of {', '.join(OPERATION_NAMES)}")
    return name


@click.command(epilog=EPILOG)
@click.argument("reference_id")
@click.option("--product", type=click.Choice(PRODUCTS, case_sensitive=False),
              help="Product of a transaction the journal does not know.")
@click.option("--operation", metavar="NAME",
              help=f"Operation of a transaction the journal does not know ({', '.join(OPERATION_NAMES)}).")
@click.option("--wait", is_flag=True, help="Wait until the transaction is final (or --timeout).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="S", help="Seconds --wait waits at most.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=DEFAULT_INTERVAL, show_default=True,
              metavar="S", help="Seconds before the second status check (then it backs off).")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def status(obj, reference_id, product, operation, wait, timeout, interval, json_mode):
    """Show a transaction's status; with --wait, wait for its final status."""
    import asyncio

    from momo_cli import money
    from momo_cli.commands._session import Session

    reference_id = money.check_reference_id(reference_id, field="REFERENCE_ID")
    operation = _operation_name(operation)
    product = product.lower() if product else None
    check_output_flags(json_mode, False)
    app = app_context(obj)
    out = app.output(json_mode=json_mode)
    session = Session(app, out)
    try:
        entry = session.journal().get(reference_id)
        if entry is not None:
            _journaled(session, entry, product, operation, wait=wait, timeout=timeout, interval=interval)
            return
        if product is None and operation is None:
            raise UsageError(
                f"{reference_id} is not in the journal: say what it is with --product (and --operation)",
                hint="for example --product collection --operation request_to_pay",
            )
        if product is None:
            candidates = sorted({p for p, name in OPERATIONS if name == operation})
            if len(candidates) != 1:
                raise UsageError(f"--operation {operation} needs --product ({' or '.join(candidates)})")
            product = candidates[0]
        operation = operation or DEFAULT_OPERATION[product]
        if (product, operation) not in OPERATIONS:
            raise InvalidInput("--operation", f"{product} has no {operation} operation")
        asyncio.run(_untracked(session, reference_id, product, operation, wait=wait, timeout=timeout,
                               interval=interval))
    finally:
        session.close()


def _journaled(session, entry, product, operation, *, wait, timeout, interval) -> None:
    """A journaled transaction: one status GET (or a wait), journaled, then printed."""
    import asyncio

    from momo_cli.commands._transaction import check_same_api, finish
    from momo_cli.journal.store import State

    if product and product != entry.product or operation and operation != entry.operation:
        raise UsageError(
            f"{entry.reference_id} is journaled as a {entry.product} {entry.operation}, "
            f"not {product or entry.product} {operation or entry.operation}",
            hint="leave --product and --operation out for a journaled reference id",
        )
    if entry.closed:
        finish(session, entry, waited=wait, pending_is_error=True, created=False)
        return
    check_same_api(session, entry)

    async def ask():
        """(entry, answered 404, seconds waited or None); a failed status GET is raised."""
        from momo_cli.commands._wait import wait_entry
        from momo_cli.journal import sender

        journal = session.journal()
        async with session.client(entry.product) as client:
            not_found = False
            try:
                current = await sender.resolve(journal, client, entry)
            except NotFound:
                current = journal.get(entry.reference_id)
                not_found = True
            if not (wait and current.state is State.SUBMITTED):
                return current, not_found, None
            started = time.monotonic()
            current = await wait_entry(session, client, journal, current, timeout=timeout, interval=interval)
            return current, False, time.monotonic() - started

    try:
        current, not_found, waited_for = asyncio.run(ask())
    except MomoCliError:
        # The API could not be asked (network, credentials): scripts still get what the journal knows.
        if session.out.json_mode:
            from momo_cli.commands._transaction import public, transaction_doc

            session.out.json(public(transaction_doc(session.journal().get(entry.reference_id) or entry)))
        raise
    if not_found and current.state is State.SUBMITTED:
        raise NotFound(
            f"{current.reference_id}: the API does not know it (yet): it was accepted, and a status check "
            "right after the 202 may briefly answer 404",
            hint=f"try `momo status {current.reference_id} --wait`",
        )
    finish(session, current, waited=wait, pending_is_error=True, created=False, not_found=not_found,
           waited_for=waited_for)


async def _untracked(session, reference_id, product, operation, *, wait, timeout, interval) -> None:
    """A transaction the journal does not know: read it (and wait), print it, nothing journaled."""
    from momo_cli.api.polling import wait_for_final
    from momo_cli.operations import get_operation
    from momo_cli.render import spinner

    op = get_operation(product, operation)
    out = session.out
    async with session.client(product) as client:
        if wait:
            with spinner(out, f"Waiting for {reference_id}") as spin:
                result = await wait_for_final(
                    lambda: client.get_transaction(op, reference_id), interval=interval, timeout=timeout,
                    on_update=lambda status, elapsed: spin.update(getattr(status, "status", None), elapsed),
                )
            current = result.status
            if current is None:
                raise NotFound(f"{reference_id}: the API does not know this {product} {operation}",
                               hint="check the reference id, the product and the operation")
        else:
            current = await client.get_transaction(op, reference_id)
    doc = untracked_doc(reference_id, product, operation, current, session)
    _finish_untracked(session, doc, waited=wait)


def untracked_doc(reference_id, product, operation, current, session) -> dict:
    from momo_cli.api.errors import explain_reason
    from momo_cli.operations import is_final

    data = current.to_json()
    reason = data["reason"] if is_final(current.status) and current.status != "SUCCESSFUL" else None
    return {
        "reference_id": reference_id,
        "product": product,
        "operation": operation,
        "status": current.status,
        "reason": reason,
        "amount": data["amount"],
        "currency": data["currency"],
        "external_id": data["external_id"],
        "party": data["party"] or {"type": None, "id": None},
        "financial_transaction_id": data["financial_transaction_id"],
        "environment": session.settings.target_environment,
        "reason_explanation": explain_reason(reason) or None,
        "state": None,
        "outcome": _outcome(current.status),
        "payer_message": data["payer_message"],
        "payee_note": data["payee_note"],
        "journaled": False,
        "_environment_label": session.environment_label,
    }


def _outcome(status: str | None) -> str:
    from momo_cli.operations import is_final

    if status == "SUCCESSFUL":
        return "successful"
    return "failed" if is_final(status) else "pending"


def _finish_untracked(session, doc: dict, *, waited: bool) -> None:
    from momo_cli.commands._transaction import public, render_transaction, title_of
    from momo_cli.errors import StillPending, TransactionFailed

    out = session.out
    if out.json_mode:
        out.json(public(doc))
    else:
        render_transaction(out, doc)
    ref, title = doc["reference_id"], title_of(doc["product"], doc["operation"])
    if doc["outcome"] == "failed":
        detail = f": {doc['reason']}" if doc["reason"] else ""
        explanation = f" ({doc['reason_explanation']})" if doc["reason_explanation"] and out.json_mode else ""
        raise TransactionFailed(f"the {title} {ref} ended {doc['status']}{detail}{explanation}")
    if doc["outcome"] == "pending":
        raise StillPending(f"the {title} {ref} is still {doc['status']}",
                           hint=f"follow it{' later' if waited else ''} with `momo status {ref} --wait "
                                f"--product {doc['product']} --operation {doc['operation']}`")
