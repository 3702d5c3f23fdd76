from __future__ import annotations

import uuid

import pytest

from momo_cli.journal.store import Journal


@pytest.fixture
def journal_file(tmp_path):
    return tmp_path / "data" / "journal.sqlite3"


@pytest.fixture
def journal(journal_file):
    with Journal(journal_file) as j:
        yield j


def transfer_body(amount: str = "600", payee: str = "46733123450", external_id: str = "ext-1") -> dict:
    return {
        "amount": amount,
        "currency": "EUR",
        "externalId": external_id,
        "payee": {"partyIdType": "MSISDN", "partyId": payee},
        "payerMessage": "salary",
        "payeeNote": "thanks",
    }


def new_transfer(journal: Journal, **overrides):
    """Journal a disbursement transfer (state created) and return its entry."""
    values = {
        "reference_id": str(uuid.uuid4()),
        "product": "disbursement",
        "operation": "transfer",
        "body": transfer_body(),
        "profile": "default",
        "base_url": "local",
        "target_environment": "sandbox",
    }
    values.update(overrides)
    return journal.record_new(**values)
