"""Base URLs: credentials go only to MTN hosts, the emulator, or loopback (design.md section 5)."""

from __future__ import annotations

import pytest

from momo_cli.api.hosts import check_base_url
from momo_cli.errors import InvalidInput
from momo_cli.exitcodes import ExitCode

ALLOWED = [
    ("local", "local"),
    (" LOCAL ", "local"),
    ("https://sandbox.momodeveloper.mtn.com", "https://sandbox.momodeveloper.mtn.com"),
    ("https://sandbox.momodeveloper.mtn.com/", "https://sandbox.momodeveloper.mtn.com"),
    ("HTTPS://Sandbox.MomoDeveloper.MTN.com", "https://sandbox.momodeveloper.mtn.com"),
    ("https://proxy.momoapi.mtn.com", "https://proxy.momoapi.mtn.com"),
    ("https://proxy.momoapi.mtn.com:443/", "https://proxy.momoapi.mtn.com"),
    ("https://momoapi.momo.africa", "https://momoapi.momo.africa"),
    ("https://proxy.momoapi.mtn.co.rw", "https://proxy.momoapi.mtn.co.rw"),
    ("https://ericssonbasicapi2.azure-api.net", "https://ericssonbasicapi2.azure-api.net"),
    ("https://ericssonbasicapi1.azure-api.net", "https://ericssonbasicapi1.azure-api.net"),
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ("http://127.0.0.1:80", "http://127.0.0.1"),
    ("http://127.1.2.3:8765", "http://127.1.2.3:8765"),
    ("http://localhost:8765/", "http://localhost:8765"),
    ("https://localhost:8443", "https://localhost:8443"),
    ("http://[::1]:8765", "http://[::1]:8765"),
]

REFUSED = [
    "",
    "   ",
    "sandbox.momodeveloper.mtn.com",  # no scheme
    "ftp://sandbox.momodeveloper.mtn.com",
    "http://sandbox.momodeveloper.mtn.com",  # plain http to a remote host
    "https://example.com",
    "https://evilmtn.com",
    "https://sandbox.momodeveloper.mtn.com.evil.example",
    "https://mtn.com.evil.example",
    "https://momoapi.mtn.co.rw.evil.example",
    "https://ericssonbasicapi2.azure-api.net.evil.example",
    "https://evil-ericssonbasicapi2.azure-api.net",
    "https://sandbox.momodeveloper.mtn.com/collection",  # a path
    "https://sandbox.momodeveloper.mtn.com/v1_0/",
    "https://sandbox.momodeveloper.mtn.com?x=1",  # a query
    "https://sandbox.momodeveloper.mtn.com#frag",
    "https://user:pass@sandbox.momodeveloper.mtn.com",  # credentials in the URL
    "https://sandbox.momodeveloper.mtn.com:notaport",
    "http://0.0.0.0:8765",
    "http://evil.localhost:8765",
    "http://localhost.evil.example:8765",
    "http://[::2]:8765",
    "http://192.168.1.10:8765",
    "https://10.0.0.1",
]


@pytest.mark.parametrize(("url", "expected"), ALLOWED)
def test_allowed_base_urls(url, expected):
    assert check_base_url(url) == expected


@pytest.mark.parametrize("url", REFUSED)
def test_refused_base_urls(url):
    with pytest.raises(InvalidInput) as info:
        check_base_url(url)
    assert info.value.exit_code == ExitCode.USAGE


def test_unknown_https_host_needs_the_flag_and_the_hint_says_so():
    with pytest.raises(InvalidInput) as info:
        check_base_url("https://momo.example.com")
    assert "--allow-any-host" in info.value.one_line()
    assert check_base_url("https://momo.example.com", allow_any_host=True) == "https://momo.example.com"
    assert check_base_url("https://10.0.0.1:8443", allow_any_host=True) == "https://10.0.0.1:8443"


@pytest.mark.parametrize(
    "url",
    [
        "http://momo.example.com",
        "http://192.168.1.10:8765",
        "https://momo.example.com/api",
        "https://momo.example.com?debug=1",
        "https://u:p@momo.example.com",
    ],
)
def test_the_flag_never_allows_plain_http_paths_queries_or_userinfo(url):
    with pytest.raises(InvalidInput):
        check_base_url(url, allow_any_host=True)
