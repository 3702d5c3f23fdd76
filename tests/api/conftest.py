"""Shared pieces of the client tests: a fake sandbox host under respx, credentials, a fake clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
import respx

from momo_cli.api.client import MomoClient
from momo_cli.api.retry import RetryPolicy
from momo_cli.api.tokens import TokenCache

BASE = "https://sandbox.momodeveloper.mtn.com"

# Marker secrets: tests search logs and messages for them.
API_KEY = "APIKEY-SECRET-7f3a9c1e5b2d4a6f"
SUBSCRIPTION_KEYS = {
    "collection": "SUBKEY-COLL-SECRET-0123456789ab",
    "disbursement": "SUBKEY-DISB-SECRET-0123456789ab",
    "remittance": "SUBKEY-REMI-SECRET-0123456789ab",
}
USER_IDS = {
    "collection": "11111111-1111-4111-8111-111111111111",
    "disbursement": "22222222-2222-4222-8222-222222222222",
    "remittance": "33333333-3333-4333-8333-333333333333",
}
TOKEN = "TOKEN-SECRET-eyJhbGciOiJSUzI1NiJ9.payload.sig"
SECRETS = (API_KEY, TOKEN, *SUBSCRIPTION_KEYS.values())


@dataclass(frozen=True)
class Creds:
    user_id: str | None
    api_key: str | None
    subscription_key: str | None


def credentials(product: str) -> Creds:
    return Creds(USER_IDS[product], API_KEY, SUBSCRIPTION_KEYS[product])


def new_ref() -> str:
    return str(uuid.uuid4())


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Sleeps:
    """An instant sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def api():
    """respx over the sandbox host, with a token endpoint for each product."""
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        for product in SUBSCRIPTION_KEYS:
            router.post(f"/{product}/token/", name=f"token-{product}").respond(
                200, json={"access_token": TOKEN, "token_type": "access_token", "expires_in": 3600}
            )
        yield router


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(tmp_path, sleeps):
    """Build clients that share one token cache dir (as separate processes would)."""
    cache_dir = tmp_path / "cache"

    def build(**kwargs) -> MomoClient:
        kwargs.setdefault("token_cache", TokenCache(cache_dir))
        kwargs.setdefault("retry", RetryPolicy(sleep=sleeps, rand=lambda: 0.0))
        return MomoClient(kwargs.pop("base_url", BASE), kwargs.pop("target_environment", "sandbox"),
                          kwargs.pop("credentials", credentials), **kwargs)

    build.cache_dir = cache_dir
    return build


def json_of(request: httpx.Request):
    import json

    return json.loads(request.content)
