"""TLS verification is always on: https origins load the CA bundle; plain-http loopback skips loading it."""

from __future__ import annotations

import ssl

from momo_cli.api._http import make_http_client


def _context(client) -> ssl.SSLContext:
    return client._transport._pool._ssl_context


def test_https_origins_verify_against_the_ca_bundle():
    client = make_http_client(origin="https://sandbox.momodeveloper.mtn.com")
    ctx = _context(client)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0


def test_plain_http_loopback_still_refuses_any_unverified_certificate():
    """No CA is loaded (there is no TLS on http://127.0.0.1), so nothing could ever pass verification."""
    client = make_http_client(origin="http://127.0.0.1:8765")
    ctx = _context(client)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0
