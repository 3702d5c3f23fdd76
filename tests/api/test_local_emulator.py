"""The client against the real emulator in this process: provisioning, every operation, build_client."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from momo_cli.api.factory import build_client
from momo_cli.api.models import CashTransferRequest, Party, PaymentRequest, RefundRequest, TransferRequest
from momo_cli.api.polling import wait_for_final
from momo_cli.api.provisioning import get_api_user, provision_sandbox_user
from momo_cli.errors import AlreadyExists, ApiError, ConfigError, InvalidInput
from momo_cli.operations import OPERATIONS

pytestmark = pytest.mark.anyio

SUB_KEY = "local-subscription-key-0123456789"


@pytest.fixture
def transport(tmp_path):
    from momo_cli.sandbox import EmulatorConfig, local_transport

    return local_transport(EmulatorConfig(db_path=tmp_path / "emulator.db", settle_after=0))


def settings_for(tmp_path, creds, **extra):
    values = dict(
        base_url="local", target_environment="sandbox", callback_host="localhost", timeout=10,
        data_dir=tmp_path, cache_dir=tmp_path / "cache", credentials=lambda product: creds,
    )
    values.update(extra)
    return SimpleNamespace(**values)


async def provision(transport):
    user = await provision_sandbox_user("local", SUB_KEY, "localhost", transport=transport)
    return SimpleNamespace(user_id=user.user_id, api_key=user.api_key, subscription_key=SUB_KEY)


def body_for(operation):
    if operation.name == "refund":
        return RefundRequest(amount="1", currency="EUR", external_id="e", reference_id_to_refund="1")
    if operation.name == "cash_transfer":
        return CashTransferRequest(amount="1", currency="EUR", external_id="e", payee=Party.msisdn("46733123999"),
                                   originating_country="UG", original_amount="3600", original_currency="UGX")
    if operation.party_field == "payer":
        return PaymentRequest(amount="1", currency="EUR", external_id="e", payer=Party.msisdn("46733123999"))
    return TransferRequest(amount="1", currency="EUR", external_id="e", payee=Party.msisdn("46733123999"))


async def test_provision_then_show(transport):
    creds = await provision(transport)
    user = await get_api_user("local", SUB_KEY, creds.user_id, transport=transport)
    assert user.provider_callback_host == "localhost" and user.target_environment == "sandbox"


async def test_every_operation_round_trips(tmp_path, transport):
    creds = await provision(transport)
    async with build_client(settings_for(tmp_path, creds), transport=transport) as client:
        for operation in OPERATIONS.values():
            for version in operation.versions:
                ref = str(uuid.uuid4())
                await client.create_transaction(operation, ref, body_for(operation), version=version)
                result = await wait_for_final(lambda: client.get_transaction(operation, ref), interval=0.01, timeout=5)
                assert not result.timed_out, (operation, version)
                assert result.status.status in ("SUCCESSFUL", "FAILED")


async def test_request_to_pay_outcomes_and_errors(tmp_path, transport):
    creds = await provision(transport)
    async with build_client(settings_for(tmp_path, creds), transport=transport) as client:
        ref = str(uuid.uuid4())
        await client.request_to_pay(
            ref, PaymentRequest(amount="10.50", currency="EUR", payer=Party.msisdn("46733123451"), external_id="x"),
            callback_url="http://localhost/cb",
        )
        final, timed_out = await wait_for_final(lambda: client.request_to_pay_status(ref), interval=0.01, timeout=5)
        assert not timed_out and final.status == "FAILED" and final.reason == "APPROVAL_REJECTED"
        assert final.explain() == "the customer declined on their phone"

        with pytest.raises(AlreadyExists):
            await client.request_to_pay(ref, PaymentRequest(amount="1", currency="EUR", payer=Party.msisdn("46733123999")))
        with pytest.raises(ApiError) as info:
            await client.request_to_pay(
                str(uuid.uuid4()), PaymentRequest(amount="1", currency="UGX", payer=Party.msisdn("46733123999"))
            )
        assert info.value.code == "INVALID_CURRENCY"
        with pytest.raises(InvalidInput):
            await client.request_to_pay(
                str(uuid.uuid4()), PaymentRequest(amount="1", currency="EUR", payer=Party.msisdn("46733123999")),
                callback_url="https://elsewhere.example.com/cb",
            )


async def test_balance_account_and_user_info(tmp_path, transport):
    creds = await provision(transport)
    async with build_client(settings_for(tmp_path, creds), transport=transport) as client:
        for product in ("collection", "disbursement", "remittance"):
            assert (await client.balance(product)).currency == "EUR"
            assert (await client.account_holder_active(product, "msisdn", "46733123999")).result is True
            assert (await client.account_holder_active(product, "msisdn", "46733123450")).result is False
            assert (await client.basic_user_info(product, "msisdn", "46733123999")).given_name


async def test_build_client_makes_its_own_local_transport_and_token_cache(tmp_path, transport):
    creds = await provision(transport)  # the same database file the factory opens
    settings = settings_for(tmp_path, creds)
    async with build_client(settings) as client:
        assert (await client.balance("collection")).currency == "EUR"
    assert (tmp_path / "cache" / "tokens.json").exists()


def test_build_client_checks_the_base_url(tmp_path):
    from momo_cli.errors import InvalidInput as Invalid

    with pytest.raises(Invalid):
        build_client(settings_for(tmp_path, None, base_url="https://example.com"))
    client = build_client(settings_for(tmp_path, None, base_url="https://example.com"), allow_any_host=True)
    assert client.base_url == "https://example.com"


def test_build_client_with_an_unknown_environment_in_local_mode(tmp_path):
    with pytest.raises(ConfigError):
        build_client(settings_for(tmp_path, None, target_environment="mars"))
