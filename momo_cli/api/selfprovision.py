"""API users the CLI provisions for itself on an emulator (design.md section 3).

With the base URL `local` (the in-process emulator) or a loopback `momo sandbox serve`, and no
credentials configured for a product, the CLI creates an API user and key there on first use and
keeps them in `<data dir>/emulator-credentials.json` (0600), keyed by base URL and product. Real
MoMo hosts never get this: there, missing credentials are a configuration error (exit 3).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from momo_cli.api.hosts import LOCAL, is_loopback_host
from momo_cli.config.store import atomic_write_text, check_private_file
from momo_cli.config.settings import ProductCredentials

FILENAME = "emulator-credentials.json"
#: The providerCallbackHost of self-provisioned users: where `momo callbacks listen` listens.
DEFAULT_CALLBACK_HOST = "127.0.0.1"


def is_emulator_url(base_url: str) -> bool:
    """True for `local` and loopback URLs: the only places the CLI provisions users by itself."""
    if base_url == LOCAL:
        return True
    host = urlsplit(base_url).hostname
    return bool(host) and is_loopback_host(host)


class SelfProvisioned:
    """The file of self-provisioned credentials in a data dir."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILENAME

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        check_private_file(self.path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a damaged file only costs a new API user
        return data if isinstance(data, dict) else {}

    def get(self, base_url: str, product: str, callback_host: str = DEFAULT_CALLBACK_HOST) -> ProductCredentials | None:
        """The remembered user of `product`, if it was made with `callback_host` as its
        providerCallbackHost (fixed at creation: another host needs another user)."""
        entry = self._read().get(base_url, {}).get(product)
        if not isinstance(entry, dict) or entry.get("callback_host", DEFAULT_CALLBACK_HOST) != callback_host:
            return None
        creds = ProductCredentials(entry.get("user_id"), entry.get("api_key"), entry.get("subscription_key"))
        return creds if creds.complete else None

    def put(self, base_url: str, product: str, creds: ProductCredentials,
            callback_host: str = DEFAULT_CALLBACK_HOST) -> None:
        data = self._read()
        data.setdefault(base_url, {})[product] = {
            "user_id": creds.user_id,
            "api_key": creds.api_key,
            "subscription_key": creds.subscription_key,
            "callback_host": callback_host,
        }
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")

    def forget(self, base_url: str | None = None) -> None:
        """Drop the users of one emulator (all of them when `base_url` is None), e.g. after a reset."""
        if base_url is None:
            self.path.unlink(missing_ok=True)
            return
        data = self._read()
        if data.pop(base_url, None) is not None:
            atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")


async def provision_for(
    base_url: str,
    product: str,
    store: SelfProvisioned,
    *,
    callback_host: str | None,
    transport: Any = None,
    timeout: float = 30.0,
) -> ProductCredentials:
    """Create an API user and key on the emulator at `base_url`, remember and return them."""
    from momo_cli.api.provisioning import provision_sandbox_user

    subscription_key = secrets.token_hex(16)
    host = callback_host_for(callback_host)
    user = await provision_sandbox_user(base_url, subscription_key, host, transport=transport, timeout=timeout)
    creds = ProductCredentials(user.user_id, user.api_key, subscription_key)
    store.put(base_url, product, creds, host)
    return creds


def callback_host_for(configured: str | None) -> str:
    """The providerCallbackHost of a self-provisioned user: the configured callback host, else loopback."""
    from momo_cli.api.hosts import callback_hostname

    return callback_hostname(configured) or DEFAULT_CALLBACK_HOST
