"""Running the CLI in-process for end-to-end tests: `momo(...)` and what it left behind."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from momo_cli.cli import root

#: The sandbox test numbers (momo-api.md section 13) and what they end as, per direction.
PAYER_OUTCOMES = {
    "46733123450": ("FAILED", "INTERNAL_PROCESSING_ERROR"),
    "46733123451": ("FAILED", "APPROVAL_REJECTED"),
    "46733123452": ("FAILED", "EXPIRED"),
    "46733123455": ("FAILED", "PAYER_NOT_FOUND"),
    "46733123456": ("FAILED", "PAYEE_NOT_ALLOWED_TO_RECEIVE"),
    "46733123457": ("FAILED", "NOT_ALLOWED"),
    "46733123458": ("FAILED", "NOT_ALLOWED_TARGET_ENVIRONMENT"),
    "46733123459": ("FAILED", "INVALID_CALLBACK_URL_HOST"),
    "46733123460": ("FAILED", "INVALID_CURRENCY"),
    "46733123461": ("FAILED", "INTERNAL_PROCESSING_ERROR"),
    "46733123462": ("FAILED", "SERVICE_UNAVAILABLE"),
    "46733123463": ("FAILED", "COULD_NOT_PERFORM_TRANSACTION"),
    "56733123453": ("SUCCESSFUL", None),
    "46733123999": ("SUCCESSFUL", None),
}
PAYEE_OUTCOMES = {
    "46733123450": ("FAILED", "INTERNAL_PROCESSING_ERROR"),
    "46733123451": ("FAILED", "APPROVAL_REJECTED"),
    "46733123452": ("FAILED", "EXPIRED"),
    "46733123455": ("FAILED", "NOT_ENOUGH_FUNDS"),
    "46733123456": ("FAILED", "PAYER_LIMIT_REACHED"),
    "46733123457": ("FAILED", "PAYEE_NOT_FOUND"),
    "46733123458": ("FAILED", "NOT_ALLOWED"),
    "46733123459": ("FAILED", "NOT_ALLOWED_TARGET_ENVIRONMENT"),
    "46733123460": ("FAILED", "INVALID_CALLBACK_URL_HOST"),
    "46733123461": ("FAILED", "INVALID_CURRENCY"),
    "46733123462": ("FAILED", "INTERNAL_PROCESSING_ERROR"),
    "46733123463": ("FAILED", "SERVICE_UNAVAILABLE"),
    "46733123999": ("SUCCESSFUL", None),
    "256772123456": ("SUCCESSFUL", None),
}
#: Test numbers that stay PENDING for a long time: "ongoing" (then FAILED/EXPIRED) and "delayed" (then SUCCESSFUL).
ONGOING, DELAYED = "46733123453", "46733123454"

#: command -> (argv prefix, party option, the test-number table that applies)
MONEY_COMMANDS = {
    "collect request": (["collect", "request"], "--payer", PAYER_OUTCOMES),
    "collect withdraw": (["collect", "withdraw"], "--payer", PAYER_OUTCOMES),
    "collect withdraw --v2": (["collect", "withdraw", "--v2"], "--payer", PAYER_OUTCOMES),
    "disburse transfer": (["disburse", "transfer"], "--payee", PAYEE_OUTCOMES),
    "disburse deposit": (["disburse", "deposit"], "--payee", PAYEE_OUTCOMES),
    "disburse deposit --v2": (["disburse", "deposit", "--v2"], "--payee", PAYEE_OUTCOMES),
}

#: The keys design.md section 4 promises for every transaction.
TRANSACTION_KEYS = {
    "reference_id", "product", "operation", "status", "reason", "amount", "currency", "external_id",
    "party", "financial_transaction_id", "environment",
}


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("momo: error:")]


def momo(*args: str, input: str | None = None, base_url: str | None = None) -> Run:
    """Run `momo [--base-url URL] ARGS` in this process; stdout and stderr apart."""
    argv = (["--base-url", base_url] if base_url else []) + [str(a) for a in args]
    result = CliRunner().invoke(root, argv, input=input, prog_name="momo")
    return Run(result.exit_code, result.stdout, result.stderr, result.exception)


def data_dir() -> Path:
    return Path(os.environ["MOMO_DATA_DIR"])


def journal_entries() -> list:
    """Every journaled entry of this test's data dir (none when there is no journal yet)."""
    from momo_cli.journal.store import Journal, journal_path

    path = journal_path(data_dir())
    if not path.exists():
        return []
    with Journal(path) as journal:
        return journal.list()


@pytest.fixture
def fast(monkeypatch):
    """The local emulator settles at once, and a command's send pauses are short."""
    from momo_cli.commands import _money
    from momo_cli.journal.sender import SendPolicy

    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    monkeypatch.setattr(_money, "SEND_POLICY", SendPolicy(max_tries=6, backoff=0.01, max_backoff=0.05))


def use_one_api_user(monkeypatch, creds, *products: str) -> None:
    """Configure the same API user for `products` (a refund names a request to pay of its own API user)."""
    for product in products or ("collection", "disbursement"):
        prefix = f"MOMO_{product.upper()}"
        monkeypatch.setenv(f"{prefix}_USER_ID", creds.user_id)
        monkeypatch.setenv(f"{prefix}_API_KEY", creds.api_key)
        monkeypatch.setenv(f"{prefix}_SUBSCRIPTION_KEY", creds.subscription_key)


def provision_local(callback_host: str = "127.0.0.1"):
    """An API user on the built-in emulator of this test's data dir, made as `momo provision` would."""
    import asyncio
    import secrets

    from momo_cli.api.factory import local_emulator_transport
    from momo_cli.api.provisioning import provision_sandbox_user
    from momo_cli.config.settings import ProductCredentials

    subscription_key = secrets.token_hex(16)
    user = asyncio.run(provision_sandbox_user("local", subscription_key, callback_host,
                                              transport=local_emulator_transport(data_dir())))
    return ProductCredentials(user.user_id, user.api_key, subscription_key)
