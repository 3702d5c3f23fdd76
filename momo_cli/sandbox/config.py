"""EmulatorConfig: everything that shapes one emulator process (stdlib only, cheap to import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from momo_cli.money import ENVIRONMENT_CURRENCY

CALLBACK_METHODS = ("POST", "PUT")


@dataclass
class EmulatorConfig:
    """The emulator's knobs. Only `db_path` is required; the rest default to the sandbox's behaviour.

    Times are in seconds. Rates are shares in [0, 1]. `seed` makes fault injection repeatable.
    """

    db_path: Path | str
    #: X-Target-Environment the emulated platform answers to; its currency is the only one accepted.
    target_environment: str = "sandbox"
    #: how long an ordinary transaction stays PENDING before its final status (0 = final at once)
    settle_after: float = 2.0
    #: test number 46733123453 ("ongoing"): PENDING this long, then FAILED / EXPIRED
    ongoing_timeout: float = 300.0
    #: test number 46733123454 ("delayed"): PENDING this long, then SUCCESSFUL
    delayed_after: float = 60.0
    #: lifetime of an access token
    token_ttl: float = 3600.0
    #: float each API user's account starts with, per product
    initial_balance: Decimal = Decimal("1000000")
    # -- fault injection (never applied to the /_sandbox/ admin endpoints) ---------------------
    #: latency added to every answer, in milliseconds
    latency_ms: float = 0.0
    #: share of money-moving POSTs answered 500 after the transaction was stored
    error_rate: float = 0.0
    #: share of money-moving POSTs whose connection is closed after storing, without an answer
    drop_rate: float = 0.0
    #: requests per second above which the answer is 429 (None or 0: no limit)
    rate_limit: int | None = None
    #: seed of the random generator behind error_rate and drop_rate (None: unpredictable)
    seed: int | None = None
    # -- callbacks -------------------------------------------------------------------------------
    #: force one method for every callback ("POST" or "PUT"); None: POST for v1_0, PUT for v2_0
    callback_method: str | None = None
    #: delivery attempts per callback before giving up
    callback_attempts: int = 5
    #: first pause between attempts; doubles after each failure
    callback_backoff: float = 0.5
    #: per-attempt timeout of a callback delivery
    callback_timeout: float = 2.0
    # -- limits and logging ----------------------------------------------------------------------
    #: largest request body accepted (larger: 413)
    max_body_bytes: int = 1024 * 1024
    #: rows kept in the request log
    request_log_size: int = 10_000
    #: log one line per request on the `momo_cli.sandbox.requests` logger
    log_requests: bool = False

    def __post_init__(self) -> None:
        self.db_path = Path(os.fspath(self.db_path)).expanduser()
        self.initial_balance = Decimal(str(self.initial_balance))
        if self.target_environment not in ENVIRONMENT_CURRENCY:
            raise ValueError(f"unknown target environment {self.target_environment!r}")
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in ("settle_after", "ongoing_timeout", "delayed_after", "latency_ms", "callback_backoff"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative")
        if float(self.token_ttl) <= 0:
            raise ValueError("token_ttl must be positive")
        if self.rate_limit is not None and int(self.rate_limit) < 0:
            raise ValueError("rate_limit must not be negative")
        if self.callback_method is not None:
            method = str(self.callback_method).upper()
            if method not in CALLBACK_METHODS:
                raise ValueError(f"callback_method must be POST or PUT, not {self.callback_method!r}")
            self.callback_method = method

    @property
    def currency(self) -> str:
        """The one currency this environment accepts (EUR for the sandbox)."""
        return ENVIRONMENT_CURRENCY[self.target_environment]
