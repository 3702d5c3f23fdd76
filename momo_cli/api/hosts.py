"""Which base URLs the client talks to (design.md section 5): MTN hosts, `local` and loopback only.

A base URL decides where the API user, API key and subscription key are sent, so a typo or a pasted
phishing link must not receive them. Anything else needs `--allow-any-host`, and plain http is allowed
only to loopback, whatever the flag says. Standard library only: cheap to import.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from momo_cli.errors import InvalidInput
from momo_cli.logs import without_userinfo

#: The base URL that selects the built-in emulator.
LOCAL = "local"

_FIELD = "base URL"
_ANY_HOST_HINT = "pass --allow-any-host if you really mean this host"

#: Host names of the MoMo API (momo-api.md section 1.1): suffixes and full patterns.
_MTN_HOST_PATTERNS = (
    re.compile(r"^(?:[a-z0-9-]+\.)*mtn\.com$"),
    re.compile(r"^(?:[a-z0-9-]+\.)*momoapi\.mtn\.co\.[a-z]{2,3}$"),
    re.compile(r"^(?:[a-z0-9-]+\.)*momo\.africa$"),
    re.compile(r"^ericssonbasicapi\d*\.azure-api\.net$"),
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost":  # not *.localhost: not every resolver keeps those on loopback
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_mtn_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(pattern.match(host) for pattern in _MTN_HOST_PATTERNS)


def check_base_url(url: str, allow_any_host: bool = False) -> str:
    """Validate and normalise a base URL; returns `local` or `scheme://host[:port]` without a slash.

    Raises InvalidInput (exit 2) for anything we will not send credentials to.
    """
    raw = (url or "").strip()
    if not raw:
        raise InvalidInput(_FIELD, "is empty", hint="use 'local' or https://sandbox.momodeveloper.mtn.com")
    if raw.lower() == LOCAL:
        return LOCAL
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            _FIELD,
            f"{without_userinfo(raw)!r} is not an http(s) URL",
            hint="write it in full, e.g. https://sandbox.momodeveloper.mtn.com, or use 'local'",
        )
    if "@" in parts.netloc:
        raise InvalidInput(_FIELD, "must not contain a user name or password; credentials go in the settings")
    if parts.path not in ("", "/"):
        raise InvalidInput(
            _FIELD,
            f"must be the host only, without the path {parts.path!r}",
            hint="the client adds /collection, /disbursement, /remittance and /v1_0/apiuser itself",
        )
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise InvalidInput(_FIELD, "must not have a query string or a fragment")
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        raise InvalidInput(_FIELD, f"{without_userinfo(raw)!r} has an invalid port") from None
    if not host:
        raise InvalidInput(_FIELD, f"{without_userinfo(raw)!r} has no host name")

    loopback = is_loopback_host(host)
    if scheme == "http" and not loopback:
        raise InvalidInput(
            _FIELD,
            f"plain http is allowed only to loopback (127.0.0.1, localhost, [::1]), not to {host}",
            hint=f"use https://{host}",
        )
    if not loopback and not is_mtn_host(host) and not allow_any_host:
        raise InvalidInput(
            _FIELD,
            f"{host} is not an MTN MoMo host, 'local' or loopback",
            hint=_ANY_HOST_HINT,
        )

    shown_host = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown_host}:{port}"
    return f"{scheme}://{shown_host}"


def callback_hostname(value: str | None) -> str | None:
    """The host part of a providerCallbackHost setting, whether given as a host or a URL."""
    if not value:
        return None
    text = value.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None
