"""The money-moving operations of the MoMo API as data: one table shared by client, emulator and journal.

Each operation has a creating POST (per API version) and one status GET. Paths are relative to
`{base}/{product}`. Names here are the ones the journal, the JSON output and the emulator's admin
endpoints use.
"""

from __future__ import annotations

from dataclasses import dataclass

PRODUCTS = ("collection", "disbursement", "remittance")


@dataclass(frozen=True)
class Operation:
    product: str
    name: str
    #: API version ("v1_0"/"v2_0") -> path of the creating POST
    create_paths: dict[str, str]
    #: path of the status GET, with `{reference_id}`
    status_path: str
    #: the body field that names the other party: "payer" (money comes in) or "payee" (money goes out)
    party_field: str

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(self.create_paths)

    def create_path(self, version: str = "v1_0") -> str:
        try:
            return self.create_paths[version]
        except KeyError:
            raise ValueError(f"{self.product} {self.name} has no {version} endpoint") from None

    @property
    def incoming(self) -> bool:
        """True when money moves into the API user's account (collections)."""
        return self.party_field == "payer"


def _op(product, name, create_paths, status_path, party_field) -> Operation:
    return Operation(product, name, create_paths, status_path, party_field)


OPERATIONS: dict[tuple[str, str], Operation] = {
    (op.product, op.name): op
    for op in (
        _op("collection", "request_to_pay", {"v1_0": "/v1_0/requesttopay"},
            "/v1_0/requesttopay/{reference_id}", "payer"),
        _op("collection", "request_to_withdraw",
            {"v1_0": "/v1_0/requesttowithdraw", "v2_0": "/v2_0/requesttowithdraw"},
            "/v1_0/requesttowithdraw/{reference_id}", "payer"),
        _op("disbursement", "transfer", {"v1_0": "/v1_0/transfer"},
            "/v1_0/transfer/{reference_id}", "payee"),
        _op("disbursement", "deposit", {"v1_0": "/v1_0/deposit", "v2_0": "/v2_0/deposit"},
            "/v1_0/deposit/{reference_id}", "payee"),
        _op("disbursement", "refund", {"v1_0": "/v1_0/refund", "v2_0": "/v2_0/refund"},
            "/v1_0/refund/{reference_id}", "payee"),
        _op("remittance", "transfer", {"v1_0": "/v1_0/transfer"},
            "/v1_0/transfer/{reference_id}", "payee"),
        _op("remittance", "cash_transfer", {"v2_0": "/v2_0/cashtransfer"},
            "/v2_0/cashtransfer/{reference_id}", "payee"),
    )
}

FINAL_STATUSES = frozenset({"SUCCESSFUL", "FAILED", "REJECTED", "EXPIRED", "CANCELLED", "TIMEOUT"})


def get_operation(product: str, name: str) -> Operation:
    try:
        return OPERATIONS[(product, name)]
    except KeyError:
        known = ", ".join(f"{p} {n}" for p, n in OPERATIONS)
        raise ValueError(f"unknown operation {product} {name} (known: {known})") from None


def is_final(status: str | None) -> bool:
    return (status or "").upper() in FINAL_STATUSES
