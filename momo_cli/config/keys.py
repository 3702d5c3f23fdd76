"""The configuration keys, their environment variable names, and the rules for their values.

One table shared by the store (`momo profile set`), the settings resolver and the docs, so a key,
its variables and its validation cannot drift apart. Standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from momo_cli.errors import ConfigError, InvalidInput

PRODUCTS: tuple[str, ...] = ("collection", "disbursement", "remittance")

#: Keys that hold one value per profile.
GENERAL_KEYS: tuple[str, ...] = ("base_url", "target_environment", "callback_host", "timeout")
#: Per-product credential fields; `<product>.<field>`.
CREDENTIAL_FIELDS: tuple[str, ...] = ("user_id", "api_key", "subscription_key")
SECRET_FIELDS: frozenset[str] = frozenset({"api_key", "subscription_key"})

KEYS: tuple[str, ...] = GENERAL_KEYS + tuple(
    f"{product}.{field}" for product in PRODUCTS for field in CREDENTIAL_FIELDS
)
SECRET_KEYS: frozenset[str] = frozenset(
    f"{product}.{field}" for product in PRODUCTS for field in SECRET_FIELDS
)

DEFAULT_PROFILE = "default"
DEFAULTS: dict[str, Any] = {
    "base_url": "local",
    "target_environment": "sandbox",
    "callback_host": None,
    "timeout": 30.0,
}

_PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")  # \Z: `$` lets a trailing newline through


@dataclass(frozen=True)
class EnvNames:
    """The variables that set a key: the MOMO_ name first, then the older unprefixed one (if any)."""

    primary: str
    legacy: str | None = None

    def in_order(self) -> tuple[str, ...]:
        return (self.primary,) if self.legacy is None else (self.primary, self.legacy)


def _build_env_names() -> dict[str, EnvNames]:
    names = {
        "base_url": EnvNames("MOMO_BASE_URL", "BASE_URL"),
        "target_environment": EnvNames("MOMO_TARGET_ENVIRONMENT", "ENVIRONMENT"),
        "callback_host": EnvNames("MOMO_CALLBACK_HOST", "CALLBACK_HOST"),
        "timeout": EnvNames("MOMO_TIMEOUT"),
    }
    # The older `mtnmomo` package called the API key the "API secret" and the subscription key the
    # "primary key".
    legacy_field = {"user_id": "USER_ID", "api_key": "API_SECRET", "subscription_key": "PRIMARY_KEY"}
    for product in PRODUCTS:
        upper = product.upper()
        for field in CREDENTIAL_FIELDS:
            names[f"{product}.{field}"] = EnvNames(
                f"MOMO_{upper}_{field.upper()}", f"{upper}_{legacy_field[field]}"
            )
    return names


#: key -> its environment variables (the same names are read from `.env`).
ENV_NAMES: dict[str, EnvNames] = _build_env_names()
PROFILE_ENV = "MOMO_PROFILE"


def is_secret(key: str) -> bool:
    return key in SECRET_KEYS


def split_key(key: str) -> tuple[str | None, str]:
    """`collection.api_key` -> ('collection', 'api_key'); `base_url` -> (None, 'base_url')."""
    if "." in key:
        product, _, field = key.partition(".")
        return product, field
    return None, key


def check_key(key: str) -> str:
    """The key, normalised; an unknown one is InvalidInput (exit 2) listing the valid keys."""
    normal = (key or "").strip().lower().replace("-", "_")
    if normal not in KEYS:
        raise InvalidInput(
            "key", f"unknown key {key!r}; valid keys: {', '.join(KEYS)}",
        )
    return normal


def check_product(product: str) -> str:
    normal = (product or "").strip().lower()
    if normal not in PRODUCTS:
        raise InvalidInput("product", f"unknown product {product!r}; valid products: {', '.join(PRODUCTS)}")
    return normal


def check_profile_name(name: str) -> str:
    if not _PROFILE_NAME_RE.match(name or ""):
        raise InvalidInput(
            "profile",
            f"{name!r} is not a valid profile name (letters, digits, '-' and '_'; at most 64 characters)",
        )
    return name


def _known_environments() -> tuple[str, ...]:
    from momo_cli.money import ENVIRONMENT_CURRENCY

    return tuple(ENVIRONMENT_CURRENCY)


def _fail(error: type, key: str, message: str, hint: str | None = None) -> None:
    if issubclass(error, InvalidInput):
        raise error(key, message, hint=hint)
    raise error(message, hint=hint)


def normalize_value(key: str, value: Any, *, origin: str, error: type = ConfigError) -> Any:
    """Check and tidy one value of `key`. `origin` says where it came from, for the error message.

    `error` is ConfigError (exit 3) for stored or inherited values, InvalidInput (exit 2) when the
    value was typed on the command line. Secret values never appear in a message. Returns the value
    to use: a float for timeout, a string otherwise, None for an empty optional value.
    """
    if value is None:
        return None
    if key == "timeout":
        return _normalize_timeout(value, origin=origin, error=error)
    if isinstance(value, bool) or not isinstance(value, str):
        shown = "a non-string value" if is_secret(key) else repr(value)
        _fail(error, key, f"{key} from {origin} must be a string, not {shown}")
    text = value.strip()
    if not text:
        return None
    if is_secret(key) and not (text.isascii() and text.isprintable()):
        # It travels in an HTTP header (or the Basic credentials): a pasted curly quote or invisible
        # space would fail there as an internal error. Never quoted: it is a secret.
        _fail(
            error, key,
            f"{key} from {origin} has a character that is not printable ASCII "
            "(a pasted quote or an invisible space?)",
            "copy the key again as plain text",
        )
    if key == "target_environment":
        known = _known_environments()
        lowered = text.lower()
        if lowered not in known:
            _fail(
                error, key,
                f"unknown target environment {text!r} from {origin}; known: {', '.join(known)}",
                "use sandbox for the sandbox and the local emulator, or your country's mtn<country> value",
            )
        return lowered
    if key == "base_url":
        if text.lower() == "local":
            return "local"
        if not re.match(r"^https?://[^\s/]+", text, re.IGNORECASE):
            from momo_cli.logs import without_userinfo

            _fail(
                error, key,
                f"base URL {without_userinfo(text)!r} from {origin} is neither 'local' nor an http(s) URL",
                "e.g. https://sandbox.momodeveloper.mtn.com, or 'local' for the built-in emulator",
            )
        return text.rstrip("/")
    return text


def _normalize_timeout(value: Any, *, origin: str, error: type) -> float:
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        _fail(
            error, "timeout",
            f"timeout {value!r} from {origin} is not a positive number of seconds",
            "e.g. MOMO_TIMEOUT=30",
        )
    return number
