"""The callback MoMo would send for a transaction, built from a plain description of its final state.

This is the seam for replaying a journal entry by reference id: the journal turns an entry into the
dictionary below and `callback_request()` gives the method and body MoMo would use
(momo-api.md section 10: the status body without any reference id; POST for v1 operations, PUT for
v2 ones). Standard library only.

The entry: {product, operation, status, reason, amount, currency, external_id, party_type, party_id,
financial_transaction_id, payer_message, payee_note}, and optionally `version` ("v1_0"/"v2_0") and,
for a cash transfer, the payer fields in the API's spelling (`originatingCountry`, `payerFirstName`
...), passed through as they are.
"""

from __future__ import annotations

from typing import Any, Mapping

from momo_cli.callbacks.events import CASH_TRANSFER_FIELDS
from momo_cli.operations import OPERATIONS, get_operation

#: The User-Agent of a replayed synthetic callback.
SYNTHETIC_USER_AGENT = "momo-cli callbacks replay"


def _clean(value: Any) -> Any:
    if value is None:
        return None
    return value if isinstance(value, (str, dict)) else str(value)


def callback_body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The body of the callback for `entry`, in MoMo's field order and spelling.

    `financialTransactionId` only for SUCCESSFUL, `reason` only for a final status that is not
    SUCCESSFUL (a string, or `{code, message}` as given); PENDING carries neither.
    """
    operation = get_operation(str(entry["product"]), str(entry["operation"]))
    status = str(entry.get("status") or "PENDING").upper()
    body: dict[str, Any] = {}
    if status == "SUCCESSFUL" and entry.get("financial_transaction_id"):
        body["financialTransactionId"] = _clean(entry["financial_transaction_id"])
    if entry.get("external_id") is not None:
        body["externalId"] = _clean(entry["external_id"])
    body["amount"] = _clean(entry.get("amount"))
    body["currency"] = _clean(entry.get("currency"))
    if entry.get("party_id") is not None:
        body[operation.party_field] = {
            "partyIdType": str(entry.get("party_type") or "MSISDN").upper(),
            "partyId": _clean(entry["party_id"]),
        }
    if entry.get("payer_message") is not None:
        body["payerMessage"] = _clean(entry["payer_message"])
    if entry.get("payee_note") is not None:
        body["payeeNote"] = _clean(entry["payee_note"])
    if operation.name == "cash_transfer":
        for key in sorted(CASH_TRANSFER_FIELDS & set(entry)):
            name = "originatingCountry" if key == "orginatingCountry" else key
            body[name] = _clean(entry[key])
    body["status"] = status
    reason = entry.get("reason")
    if status not in ("SUCCESSFUL", "PENDING", "CREATED") and reason not in (None, ""):
        body["reason"] = _clean(reason)
    return body


def callback_method(entry: Mapping[str, Any]) -> str:
    """POST for a v1 operation, PUT for a v2 one (an operation with only a v2 endpoint is v2)."""
    operation = OPERATIONS.get((str(entry["product"]), str(entry["operation"])))
    version = entry.get("version") or (operation.versions[0] if operation else "v1_0")
    return "PUT" if str(version).startswith("v2") else "POST"


def callback_request(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(method, body) of the callback MoMo sends for `entry`."""
    return callback_method(entry), callback_body(entry)
