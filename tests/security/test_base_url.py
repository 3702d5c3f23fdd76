"""The base URL decides where the API user, API key and subscription key go (design.md section 5).

Through the CLI: anything but an MTN host, `local` or loopback is refused with exit 2 and one line,
before any request; `--allow-any-host` lets an https host through, never plain http to anything but
loopback; a user name and password in the URL, a path, a query or a fragment are refused, and a
password in a URL is never quoted back.

Nothing here reaches beyond loopback: `guard` fails any name lookup or connection to another address
(and every HTTP request to one), recording what the CLI tried.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import httpx
import pytest

from momo_cli.api.hosts import is_loopback_host
from tests.security.support import invoke, marker

pytestmark = [pytest.mark.served]

PASSWORD = marker("PASSWORD")
USER_ID = "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70"

#: (command words, ...) that send requests: each must refuse the base URL before sending.
SENDING_COMMANDS = [
    ["balance", "--product", "collection"],
    ["collect", "request", "--amount", "1", "--payer", "46733123999", "--yes"],
    ["status", USER_ID, "--product", "collection"],
    ["account", "active", "46733123999"],
    ["provision", "--provider", "example.com", "--key", "abc123"],
    ["provision", "show", USER_ID],
]


@dataclass
class Guard:
    requests: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        return [*self.requests, *self.lookups, *self.connects]


@pytest.fixture
def guard(monkeypatch, quick_retries) -> Guard:
    """Only loopback traffic leaves this process; every other attempt is recorded and fails."""
    seen = Guard()
    real_send = httpx.AsyncHTTPTransport.handle_async_request
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    async def send(self, request):
        if not is_loopback_host(request.url.host):
            seen.requests.append(str(request.url))
            raise httpx.ConnectError("blocked by the test: nothing leaves loopback", request=request)
        return await real_send(self, request)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not is_loopback_host(str(name)):
            seen.lookups.append(str(name))
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test: nothing leaves loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else ""
        if isinstance(address, tuple) and not is_loopback_host(str(host)):
            seen.connects.append(str(host))
            raise OSError("blocked by the test: nothing leaves loopback")
        return real_connect(self, address)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", send)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture(scope="module")
def server(module_served_emulator):
    return module_served_emulator("--settle-after", "0", "--quiet")


@pytest.fixture
def credentials(server, monkeypatch):
    """Working credentials of the served emulator for every product, in the environment."""
    creds = server.api().provision("127.0.0.1")
    for product in ("COLLECTION", "DISBURSEMENT", "REMITTANCE"):
        monkeypatch.setenv(f"MOMO_{product}_USER_ID", creds.user_id)
        monkeypatch.setenv(f"MOMO_{product}_API_KEY", creds.api_key)
        monkeypatch.setenv(f"MOMO_{product}_SUBSCRIPTION_KEY", creds.subscription_key)
    return creds


def refused_urls(port: int) -> list[str]:
    return [
        "http://example.com",
        "https://evil.example",
        "http://10.0.0.1",
        "http://192.168.1.10:8765",
        "http://0.0.0.0:8765",
        f"http://user:{PASSWORD}@127.0.0.1:{port}",
        f"https://user:{PASSWORD}@sandbox.momodeveloper.mtn.com",
        f"https://:{PASSWORD}@sandbox.momodeveloper.mtn.com",
        f"https://{PASSWORD}@evil.example",
        f"http://127.0.0.1:{port}/collection",
        "https://sandbox.momodeveloper.mtn.com/v1_0",
        f"https://sandbox.momodeveloper.mtn.com?subscription-key={PASSWORD}",
        f"https://sandbox.momodeveloper.mtn.com/?{PASSWORD}",
        "https://sandbox.momodeveloper.mtn.com#top",
        "https://sandbox.momodeveloper.mtn.com.evil.example",
        "https://mtn.com.evil.example",
        "https://evil-mtn.com",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io:8765",
        "http://sandbox.momodeveloper.mtn.com",  # an MTN host, but not over plain http
        "https://sandbox.momodeveloper.mtn.com:99999",
        f"http://127.0.0.1:{port}:{port}",
    ]


def assert_refused(result) -> None:
    """Exit 2, one line naming the base URL, nothing on stdout, no password quoted."""
    assert result.exit_code == 2, (result.describe(), result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("momo: error: base URL"), result.stderr
    assert result.stdout == ""
    assert PASSWORD not in result.stderr


def test_refused_base_urls_exit_2_in_one_line_before_any_request(server, credentials, guard):
    before = len(server.requests())
    for url in refused_urls(server.port):
        for command in SENDING_COMMANDS:
            assert_refused(invoke(["--base-url", url, *command]))
    assert guard.outside == [], "a refused base URL was contacted"
    assert len(server.requests()) == before, "a refused loopback base URL received a request"


@pytest.mark.parametrize("variable", ["MOMO_BASE_URL", "BASE_URL"])
def test_refused_from_the_environment_too(server, credentials, guard, monkeypatch, variable):
    before = len(server.requests())
    for url in refused_urls(server.port):
        monkeypatch.setenv(variable, url)
        assert_refused(invoke(["balance", "--product", "collection"]))
        assert_refused(invoke(["--debug", "balance", "--product", "collection", "--json"]))
    assert guard.outside == []
    assert len(server.requests()) == before


def test_refused_from_a_profile_too(server, credentials, guard):
    before = len(server.requests())
    for number, url in enumerate(refused_urls(server.port)):
        name = f"p{number}"
        saved = invoke(["profile", "set", "base_url", url, "--profile", name])
        assert saved.exit_code == 0, saved.stderr
        assert_refused(invoke(["--profile", name, "collect", "request", "--amount", "1",
                               "--payer", "46733123999", "--yes"]))
    assert guard.outside == []
    assert len(server.requests()) == before


def test_doctor_reports_a_refused_base_url_without_contacting_it(credentials, guard):
    for url in ("https://evil.example", f"https://user:{PASSWORD}@sandbox.momodeveloper.mtn.com",
                "http://10.0.0.1"):
        for json_flag in ([], ["--json"]):
            result = invoke(["--base-url", url, "doctor", *json_flag])
            assert result.exit_code == 3, (result.stdout, result.stderr)
            assert "base URL" in result.stdout and PASSWORD not in result.stdout + result.stderr
    assert guard.outside == []


def test_a_password_in_a_base_url_of_another_scheme_is_not_quoted(credentials, guard, monkeypatch):
    """`ftp://user:password@...` is not an http(s) URL: the error says so without the password."""
    for url in (f"ftp://user:{PASSWORD}@example.com", f"user:{PASSWORD}@example.com",
                f"https://user:{PASSWORD}@"):
        result = invoke(["--base-url", url, "balance", "--product", "collection"])
        assert result.exit_code in (2, 3), result.stderr
        assert len(result.stderr.splitlines()) == 1 and "base URL" in result.stderr, result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        monkeypatch.setenv("MOMO_BASE_URL", url)
        result = invoke(["balance", "--product", "collection"])
        assert result.exit_code in (2, 3) and PASSWORD not in result.stdout + result.stderr, result.stderr
        monkeypatch.delenv("MOMO_BASE_URL")
    assert guard.outside == []


# -- --allow-any-host -------------------------------------------------------------------------------


def test_allow_any_host_lets_an_https_host_through_validation(credentials, guard):
    """The request is attempted (and stopped by the guard): the flag did its part, no more."""
    result = invoke(["--allow-any-host", "--base-url", "https://other.example", "balance", "--product", "collection"])
    assert result.exit_code == 6, (result.stdout, result.stderr)  # the network "failed": the guard
    assert set(guard.requests) == {"https://other.example/collection/token/"}
    assert guard.connects == [] and guard.lookups == []
    # without the flag: refused before anything
    guard.requests.clear()
    assert_refused(invoke(["--base-url", "https://other.example", "balance", "--product", "collection"]))
    assert guard.outside == []


def test_allow_any_host_never_allows_plain_http_beyond_loopback(server, credentials, guard):
    before = len(server.requests())
    for url in ("http://other.example", "http://10.0.0.1", "http://192.168.0.2:8765", "http://0.0.0.0:8765",
                f"http://user:{PASSWORD}@127.0.0.1:{server.port}", f"https://user:{PASSWORD}@other.example",
                "https://other.example/path", "https://other.example?x=1"):
        for command in SENDING_COMMANDS:
            assert_refused(invoke(["--allow-any-host", "--base-url", url, *command]))
    assert guard.outside == []
    assert len(server.requests()) == before


# -- allowed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://sandbox.momodeveloper.mtn.com",
    "https://proxy.momoapi.mtn.com",
    "https://momodeveloper.mtn.com",
    "https://proxy.momoapi.mtn.co.ug",
    "https://ericssonbasicapi2.azure-api.net",
    "https://api.momo.africa",
    "https://SANDBOX.MomoDeveloper.MTN.com.",
])
def test_mtn_hosts_are_allowed(credentials, guard, url):
    result = invoke(["--base-url", url, "balance", "--product", "collection"])
    assert result.exit_code == 6, (result.stdout, result.stderr)  # allowed, then stopped by the guard
    assert guard.requests and all(request.startswith("https://") and request.endswith("/collection/token/")
                                  for request in guard.requests)


def test_local_is_allowed(guard, fast_sending):
    result = invoke(["--base-url", "local", "balance", "--product", "collection", "--json"])
    assert result.exit_code == 0, result.stderr
    assert guard.outside == []


def test_loopback_is_allowed(server, credentials, guard):
    for url in (server.url, f"http://localhost:{server.port}", f"{server.url}/"):
        result = invoke(["--base-url", url, "balance", "--product", "collection", "--json"])
        assert result.exit_code == 0, (url, result.stdout, result.stderr)
    result = invoke(["--base-url", f"http://[::1]:{server.port}", "balance", "--product", "collection"])
    assert result.exit_code == 6, result.stderr  # allowed; the emulator listens on 127.0.0.1 only
    assert guard.outside == []
