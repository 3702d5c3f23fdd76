"""Debug logging on stderr with every secret masked (design.md section 5)."""

from __future__ import annotations

import logging
import re

#: Header values and JSON fields that carry secrets.
_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer)\s+)([A-Za-z0-9._~+/=-]+)"),
    re.compile(r"(?i)(ocp-apim-subscription-key['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
    re.compile(r"(?i)((?:api_?key|apikey|access_token|subscription_key|api_secret)['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
]


def mask(secret: str | None) -> str:
    """`abcd…wxyz` for long secrets, `****` for short ones, '' for none."""
    if not secret:
        return ""
    if len(secret) <= 12:
        return "****"
    return f"{secret[:4]}…{secret[-4:]}"


#: The user-info part of a URL (`scheme://user:password@`, or `user:password@` without a scheme).
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")


def without_userinfo(url: str) -> str:
    """`url` with any `user:password@` shown as `***@`, for messages that quote a URL someone gave."""
    return _USERINFO.sub(lambda m: (m.group(1) or "") + "***@", url)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def enable_debug_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("momo_cli")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
