"""build_client: a MomoClient from resolved settings (docs/architecture.md, "Client").

The base URL `local` means the emulator in this process, over `momo_cli.sandbox.local_transport`,
with its state in `$MOMO_DATA_DIR/emulator.db` (the same file `momo sandbox serve` uses by default),
so consecutive commands see the same transactions. Tokens are cached in the settings' cache dir.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from momo_cli.api.client import MomoClient
from momo_cli.api.hosts import LOCAL, check_base_url
from momo_cli.api.tokens import TokenCache

if TYPE_CHECKING:  # pragma: no cover
    import httpx

#: The emulator database inside the data dir (as `momo sandbox serve --db` defaults to).
EMULATOR_DB = "emulator.db"
#: Seconds the local emulator keeps an ordinary transaction PENDING (its default when unset; 0 settles
#: at once, which is what tests and quick demos want).
SETTLE_AFTER_ENV = "MOMO_EMULATOR_SETTLE_AFTER"


def _settle_after() -> dict[str, float]:
    """`settle_after` for the local emulator from MOMO_EMULATOR_SETTLE_AFTER, if set."""
    import os

    from momo_cli.errors import ConfigError

    text = os.environ.get(SETTLE_AFTER_ENV, "").strip()
    if not text:
        return {}
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{SETTLE_AFTER_ENV}: {text!r} is not a number of seconds (0 or more)")
    return {"settle_after": value}


def local_emulator_transport(data_dir: Path | str, target_environment: str = "sandbox") -> "httpx.AsyncBaseTransport":
    """The in-process emulator's transport over `data_dir/emulator.db`."""
    from momo_cli.errors import ConfigError
    from momo_cli.sandbox import EmulatorConfig, local_transport

    try:
        config = EmulatorConfig(
            db_path=Path(data_dir) / EMULATOR_DB, target_environment=target_environment, **_settle_after()
        )
    except ValueError as exc:
        raise ConfigError(
            f"the local emulator cannot run: {exc}",
            hint="set MOMO_TARGET_ENVIRONMENT to 'sandbox' (or one of the published environments)",
        ) from None
    Path(data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    return local_transport(config)


def build_client(
    settings: Any,
    *,
    allow_any_host: bool = False,
    transport: "httpx.AsyncBaseTransport | None" = None,
    credentials: Callable[[str], Any] | None = None,
    token_cache: TokenCache | None = None,
) -> MomoClient:
    """A MomoClient for `settings` (anything with base_url, target_environment, callback_host, timeout,
    data_dir, cache_dir and credentials(product)). Credentials are read per product on first use; the
    default source is `settings.require_credentials` when it exists (its ConfigError names what is missing).
    """
    base_url = check_base_url(settings.base_url, allow_any_host=allow_any_host)
    if base_url == LOCAL and transport is None:
        transport = local_emulator_transport(settings.data_dir, settings.target_environment)
    if credentials is None:
        credentials = getattr(settings, "require_credentials", None) or settings.credentials
    if token_cache is None:
        token_cache = TokenCache(settings.cache_dir)
    return MomoClient(
        base_url,
        settings.target_environment,
        credentials,
        transport=transport,
        token_cache=token_cache,
        timeout=float(settings.timeout or 30.0),
        callback_host=settings.callback_host,
        allow_any_host=allow_any_host,
    )
