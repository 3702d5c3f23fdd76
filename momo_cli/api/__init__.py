"""The MoMo Open API client: MomoClient, its models, token flow, errors, retries and polling.

Importing this package costs nothing: names are resolved from their modules on first use, so that
`momo --help` never imports httpx or pydantic.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "MomoClient": "momo_cli.api.client",
    "build_client": "momo_cli.api.factory",
    "check_base_url": "momo_cli.api.hosts",
    "TokenCache": "momo_cli.api.tokens",
    "RetryPolicy": "momo_cli.api.retry",
    "wait_for_final": "momo_cli.api.polling",
    "PollResult": "momo_cli.api.polling",
    "explain_reason": "momo_cli.api.errors",
    "provision_sandbox_user": "momo_cli.api.provisioning",
    "get_api_user": "momo_cli.api.provisioning",
    "ProvisionedUser": "momo_cli.api.provisioning",
    "TransactionStatus": "momo_cli.api.models",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
