"""A journaled transaction as the commands show it, and the exit code of its outcome.

`transaction_doc(entry)` is the JSON of design.md section 4 (`public(doc)` without the keys meant for
rendering), `render_transaction` the panel people read, and `finish` prints an entry and raises the
error of its outcome: 0 SUCCESSFUL or accepted, 10 failed, 8 still pending, 5/4/3/2 not accepted,
6 outcome unknown. Used by the money-moving commands, `momo status` and `momo journal`.

Heavy modules (rich, the journal's sender) are imported inside the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from momo_cli.errors import (
    ApiError,
    AuthError,
    ConfigError,
    MomoCliError,
    NetworkError,
    StillPending,
    TransactionFailed,
    UsageError,
)

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._session import Session
    from momo_cli.journal.store import Entry
    from momo_cli.output import Output

TITLES = {
    ("collection", "request_to_pay"): "request to pay",
    ("collection", "request_to_withdraw"): "request to withdraw",
    ("disbursement", "transfer"): "transfer",
    ("disbursement", "deposit"): "deposit",
    ("disbursement", "refund"): "refund",
    ("remittance", "transfer"): "remittance transfer",
    ("remittance", "cash_transfer"): "cash transfer",
}


def title_of(product: str, operation: str) -> str:
    return TITLES.get((product, operation), f"{product} {operation.replace('_', ' ')}")


def party_words(party: dict[str, Any] | None) -> str:
    if not party or not party.get("id"):
        return "-"
    kind = str(party.get("type") or "MSISDN").upper()
    return str(party["id"]) if kind == "MSISDN" else f"{party['id']} ({kind.lower()})"


# --------------------------------------------------------------------------------------------------
# The document


def transaction_doc(entry: "Entry", *, environment_label: str | None = None) -> dict[str, Any]:
    """The JSON of a journaled transaction: the keys of design.md section 4 first, then extras."""
    from momo_cli.api.errors import explain_reason

    body: dict[str, Any] = {}
    try:
        body = entry.body
    except ValueError:  # pragma: no cover - the journal only stores JSON
        pass
    error = None
    if entry.last_error:
        error = {"message": entry.last_error, "type": entry.error_type, "code": entry.error_code}
    reason = entry.reason if entry.state == "final" and entry.status != "SUCCESSFUL" else None
    doc: dict[str, Any] = {
        "reference_id": entry.reference_id,
        "product": entry.product,
        "operation": entry.operation,
        "status": entry.status,
        "reason": reason,
        "amount": entry.amount,
        "currency": entry.currency,
        "external_id": entry.external_id,
        "party": {"type": entry.party_type, "id": entry.party_id},
        "financial_transaction_id": entry.financial_transaction_id,
        "environment": entry.target_environment,
        "reason_explanation": explain_reason(reason) or None,
        "state": str(entry.state),
        "outcome": outcome_of(entry),
        "version": entry.version,
        "payer_message": body.get("payerMessage") or None,
        "payee_note": body.get("payeeNote") or None,
        "callback_url": entry.callback_url,
        "refund_of": body.get("referenceIdToRefund"),
        "profile": entry.profile,
        "base_url": entry.base_url,
        "journaled": True,
        "run_id": entry.run_id,
        "line_no": entry.line_no,
        "attempts": entry.attempts,
        "error": error,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }
    if environment_label:
        doc["_environment_label"] = environment_label
    return doc


def outcome_of(entry: "Entry") -> str:
    from momo_cli.journal.sender import final_outcome

    return final_outcome(entry)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the keys meant for rendering only."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def render_transaction(out: "Output", doc: dict[str, Any], *, title: str | None = None) -> None:
    """A panel on stdout for people (nothing with --json or -q: the caller prints those)."""
    from momo_cli.render import transaction_panel

    shown = dict(doc)
    if doc.get("_environment_label"):
        shown["environment"] = doc["_environment_label"]
    explanation = doc.get("reason_explanation")
    out.console.print(transaction_panel(shown, explanation=explanation, title=title))


# --------------------------------------------------------------------------------------------------
# The outcome


def same_api(session: "Session", entry: "Entry") -> bool:
    """Was `entry` sent with these settings: the same base URL, target environment and profile (whose
    API user may be another: asking, or resending, as another user would give wrong answers)?"""
    settings = session.settings
    return ((entry.base_url or settings.base_url, entry.target_environment or settings.target_environment,
             entry.profile or settings.profile)
            == (settings.base_url, settings.target_environment, settings.profile))


def flags_for(entry: "Entry") -> str:
    """The global flags that reach the API and profile `entry` was sent with."""
    return (f"--profile {entry.profile} --base-url {entry.base_url} "
            f"--target-environment {entry.target_environment}")


def check_same_api(session: "Session", entry: "Entry") -> None:
    """Refuse to act on an entry journaled against another API or profile: its answers would be wrong."""
    if same_api(session, entry):
        return
    settings = session.settings
    raise UsageError(
        f"{entry.reference_id} was sent to {entry.base_url} ({entry.target_environment}) with profile "
        f"{entry.profile}, not to {settings.base_url} ({settings.target_environment}) with profile {settings.profile}",
        hint=f"run it with {flags_for(entry)}",
    )


def _split_error(entry: "Entry") -> tuple[str | None, str | None]:
    """The journal's last error as (detail, hint): the action prefix naming the reference id and the
    hint are taken apart, so that a message can say them once."""
    text = entry.last_error
    if not text:
        return None, None
    hint = None
    if " (hint: " in text and text.endswith(")"):
        text, hint = text.split(" (hint: ", 1)
        hint = hint[:-1]
    marker = f"{entry.reference_id}: "
    if marker in text:
        text = text.split(marker, 1)[1]
    return text, hint


def rejection_error(entry: "Entry") -> MomoCliError:
    """The error (and exit code) of an entry the API refused: 4 for auth, 3 config, 2 ours, else 5."""
    detail, hint = _split_error(entry)
    message = f"the {title_of(entry.product, entry.operation)} {entry.reference_id} was not accepted"
    if detail:
        message += f": {detail}"
    classes: dict[str, type[MomoCliError]] = {
        "AuthError": AuthError, "ConfigError": ConfigError,
        "InvalidInput": UsageError, "UsageError": UsageError,
    }
    cls = classes.get(entry.error_type or "")
    if cls is not None:
        return cls(message, hint=hint)
    code = entry.error_code if entry.error_code and not entry.error_code.isdigit() else None
    if entry.operation == "refund" and code == "RESOURCE_NOT_FOUND":
        hint = ("--refund must be the reference id of a successful request to pay made on this API "
                "(the emulator also wants it made by the same API user: give collection and "
                "disbursement the same MOMO_*_USER_ID and MOMO_*_API_KEY)")
    return ApiError(message, code=code, hint=hint)


def unknown_error(entry: "Entry") -> NetworkError:
    ref = entry.reference_id
    title = title_of(entry.product, entry.operation)
    if entry.state == "created" and entry.attempts == 0:
        what = f"the {title} {ref} was journaled but not sent"
    elif entry.state == "created":
        what = f"the {title} {ref} could not be sent"
    else:
        what = f"the outcome of the {title} {ref} is unknown"
    detail, _ = _split_error(entry)
    return NetworkError(
        what + (f" ({detail})" if detail else ""),
        hint=f"`momo journal reconcile` settles it (it sends it again, same reference id, only if it never "
             f"arrived); `momo status {ref}` asks once",
    )


def finish(session: "Session", entry: "Entry", *, waited: bool, pending_is_error: bool = False,
           created: bool = True, not_found: bool = False, waited_for: float | None = None) -> None:
    """Print the entry (panel, JSON or reference id) and raise the error of its outcome, if any.

    PENDING is exit 8 after a wait (or when `pending_is_error`, as for `momo status`), else exit 0
    with a note on how to follow it.
    """
    out = session.out
    outcome = outcome_of(entry)
    settings = session.settings
    same_api = (entry.base_url, entry.target_environment) == (settings.base_url, settings.target_environment)
    doc = transaction_doc(entry, environment_label=session.environment_label if same_api else None)
    if out.json_mode:
        out.json(public(doc))
    elif out.quiet:
        if created:
            out.line(entry.reference_id)
    elif outcome in ("successful", "failed", "pending"):
        render_transaction(out, doc)
    ref = entry.reference_id
    title = title_of(entry.product, entry.operation)
    if outcome == "successful":
        return
    if outcome == "failed":
        reason = doc["reason"] or entry.status
        # the panel already explains the reason to people; scripts and logs get the words here
        explanation = None if out.human else doc["reason_explanation"]
        raise TransactionFailed(
            f"the {title} {ref} ended {entry.status}" + (f": {reason}" if reason and reason != entry.status else "")
            + (f" ({explanation})" if explanation else "")
        )
    if outcome == "pending":
        if waited or pending_is_error:
            after = f" after {waited_for:.0f} s" if waited and waited_for else (" after waiting" if waited else "")
            raise StillPending(
                f"the {title} {ref} is still {entry.status or 'PENDING'}{after}",
                hint=f"follow it{' later' if waited else ''} with `momo status {ref} --wait`",
            )
        out.info(f"Accepted and {entry.status or 'PENDING'}: follow it with `momo status {ref} --wait`.")
        return
    if outcome == "rejected":
        raise rejection_error(entry)
    if not_found:
        raise NetworkError(
            f"{ref} never reached the API (the status check answered 404)",
            hint="`momo journal reconcile` sends it again with the same reference id" if entry.may_have_been_sent
            else f"it was never sent: run its command again with --reference-id {ref} to send it",
        )
    raise unknown_error(entry)
