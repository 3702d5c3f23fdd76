"""The served emulator (`momo sandbox serve`): several processes on one database, callbacks, fault flags."""

from __future__ import annotations

import dataclasses
import time
import uuid

import httpx
import pytest

from tests.support.emulator import SandboxApi, make_client, payment

pytestmark = pytest.mark.served


@pytest.fixture(scope="module")
def pair(module_served_emulator, tmp_path_factory):
    """Two server processes on one database, transactions PENDING for 1 s."""
    db = tmp_path_factory.mktemp("pair") / "shared.db"
    first = module_served_emulator("--settle-after", "1", db_path=db)
    second = module_served_emulator("--settle-after", "1", db_path=db)
    return first, second


def test_two_processes_on_one_database_agree(pair):
    first, second = pair
    api_a, api_b = first.api(), second.api()
    creds = api_a.provision()
    assert api_b.client.get(f"/v1_0/apiuser/{creds.user_id}",
                            headers={"Ocp-Apim-Subscription-Key": "k"}).status_code == 200
    refs = {}
    for msisdn in ("46733123999", "46733123451"):
        ref, r = api_a.create(creds, "collection", "request_to_pay", payment(msisdn))
        assert r.status_code == 202
        refs[msisdn] = ref
    # the second process reads with a token it minted itself, and sees the same PENDING, then the same end
    for ref in refs.values():
        a = api_a.status(creds, "collection", "request_to_pay", ref).json()
        b = api_b.status(creds, "collection", "request_to_pay", ref).json()
        assert a == b and a["status"] == "PENDING"
    time.sleep(1.05)
    for msisdn, ref in refs.items():
        a = api_a.status(creds, "collection", "request_to_pay", ref).json()
        b = api_b.status(creds, "collection", "request_to_pay", ref).json()
        assert a == b
        assert a["status"] == ("FAILED" if msisdn.endswith("451") else "SUCCESSFUL")
    # a reference id used through one process is taken in the other
    _, r = api_b.create(creds, "collection", "request_to_pay", payment(), reference_id=refs["46733123999"])
    assert r.status_code == 409
    assert api_a.balance(creds, "collection").json() == api_b.balance(creds, "collection").json()
    assert {t["reference_id"] for t in first.transactions()} == {t["reference_id"] for t in second.transactions()}


def test_spending_from_two_processes_never_overdraws(pair):
    first, second = pair
    api_a, api_b = first.api(), second.api()
    creds = api_a.provision()
    balance = api_a.balance(creds, "remittance").json()["availableBalance"]
    assert balance == "1000000"
    # 2 x 600000 from two processes: exactly one can be covered
    r1 = api_a.create(creds, "remittance", "transfer", payment(amount="600000", party_field="payee"))
    r2 = api_b.create(creds, "remittance", "transfer", payment(amount="600000", party_field="payee"))
    time.sleep(1.05)
    statuses = sorted(api_a.status(creds, "remittance", "transfer", ref).json().get("reason") or "OK"
                      for ref, _ in (r1, r2))
    assert statuses == ["NOT_ENOUGH_FUNDS", "OK"]
    assert api_b.balance(creds, "remittance").json()["availableBalance"] == "400000"


def test_served_callbacks_come_from_exactly_one_process(pair, callback_receiver):
    first, second = pair
    receiver = callback_receiver()
    api = first.api()
    creds = api.provision()
    refs = [api.create(creds, "collection", "request_to_pay", payment(), callback_url=receiver.url(f"/{i}"))[0]
            for i in range(6)]
    received = receiver.wait_for(6)
    time.sleep(0.4)
    assert len(receiver.received) == 6  # never twice, though two dispatchers watch the database
    assert sorted(c.path for c in received) == sorted(f"/{i}" for i in range(6))
    assert all(c.method == "POST" and c.json()["status"] == "SUCCESSFUL" for c in received)
    rows = [row for row in second.callbacks() if row["reference_id"] in refs]
    assert len(rows) == 6 and all(row["state"] == "delivered" for row in rows)


def test_request_log_and_server_output(pair):
    first, _ = pair
    api = first.api()
    creds = api.provision()
    api.client.get("/collection/v1_0/nothing")
    time.sleep(0.35)  # the server writes its log in batches
    log = first.requests()
    assert {"method", "path", "status", "at"} <= set(log[-1])
    assert any(row["path"] == "/collection/v1_0/nothing" and row["status"] == 404 for row in log)
    assert any(row["path"] == "/v1_0/apiuser" and row["status"] == 201 and row["method"] == "POST" for row in log)
    assert not any(row["path"].startswith("/_sandbox") for row in log)
    text = first.log_text()
    assert f"listening on {first.url}" in text and str(first.db_path) in text
    assert "GET /collection/v1_0/nothing 404" in text


def test_huge_bodies_are_refused_over_http(pair):
    client = pair[0].client()
    r = client.post("/collection/v1_0/requesttopay", content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "REQUEST_TOO_LARGE"
    r = client.post("/collection/v1_0/requesttopay", content=(b"y" * 65536 for _ in range(40)))  # chunked
    assert r.status_code == 413 and r.json()["code"] == "REQUEST_TOO_LARGE"
    assert client.get("/_sandbox/health").status_code == 200


def test_admin_reset_over_http(served_emulator):
    server = served_emulator()
    api = server.api()
    creds = api.provision()
    api.create(creds, "collection", "request_to_pay", payment())
    assert len(server.transactions()) == 1
    server.reset()
    assert server.transactions() == [] and server.requests() == []


# -- fault injection -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failing(module_served_emulator):
    return module_served_emulator("--error-rate", "1", "--latency", "150", "--seed", "1")


@pytest.fixture(scope="module")
def dropping(module_served_emulator):
    return module_served_emulator("--drop-rate", "1", "--rate-limit", "8", "--seed", "1")


def test_error_rate_answers_500_after_storing(failing):
    api = failing.api()
    creds = api.provision()
    ref, r = api.create(creds, "disbursement", "transfer", payment(party_field="payee"))
    assert r.status_code == 500
    assert r.json() == {"code": "INTERNAL_PROCESSING_ERROR", "message": "An internal error occurred while processing."}
    assert api.status(creds, "disbursement", "transfer", ref).json()["status"] == "SUCCESSFUL"
    _, again = api.create(creds, "disbursement", "transfer", payment(party_field="payee"), reference_id=ref)
    assert again.status_code == 409  # the retry of an unknown outcome finds it accepted


def test_latency_delays_answers_but_not_admin(failing):
    client = failing.client()
    started = time.perf_counter()
    r = client.get("/v1_0/apiuser/" + str(uuid.uuid4()), headers={"Ocp-Apim-Subscription-Key": "k"})
    assert r.status_code == 404 and time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    failing.transactions()
    assert time.perf_counter() - started < 0.15


@pytest.fixture(scope="module")
def slow(module_served_emulator):
    return module_served_emulator("--latency", "600", "--seed", "1")


def test_a_client_that_gives_up_on_a_slow_answer_still_made_the_payment(slow):
    """--latency delays the answer, not the request: a timed-out POST was stored (the real danger)."""
    api = slow.api()
    creds = api.provision()
    headers = {**api.headers(creds, "disbursement"), "X-Reference-Id": (ref := str(uuid.uuid4()))}
    with slow.client(timeout=0.3) as impatient, pytest.raises(httpx.TimeoutException):
        impatient.post("/disbursement/v1_0/transfer", headers=headers, json=payment(party_field="payee"))
    time.sleep(0.4)  # the server finishes its late answer
    assert [t["reference_id"] for t in slow.transactions()] == [ref]


def test_drop_rate_closes_the_connection_after_storing(dropping):
    api = dropping.api()
    creds = api.provision()
    ref = str(uuid.uuid4())
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.create(creds, "collection", "request_to_pay", payment(), reference_id=ref)
    assert api.status(creds, "collection", "request_to_pay", ref).json()["status"] == "SUCCESSFUL"
    assert "dropped" in dropping.log_text()


def test_rate_limit_answers_429(dropping):
    time.sleep(1.05)  # a fresh one-second window
    client = dropping.client()
    started = time.monotonic()
    answers = [client.get("/v1_0/apiuser/" + str(uuid.uuid4()), headers={"Ocp-Apim-Subscription-Key": "k"})
               for _ in range(14)]
    took = time.monotonic() - started
    codes = [r.status_code for r in answers]
    assert codes[:8] == [404] * 8 and 429 in codes, codes
    if took < 0.9:  # all inside one window
        assert codes[8:] == [429] * 6, codes
    limited = answers[-1]
    assert limited.headers["retry-after"] == "1"
    assert limited.json() == {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}
    assert all(isinstance(dropping.transactions(), list) for _ in range(12))  # admin endpoints are never limited


# -- fault injection in-process ---------------------------------------------------------------------


def test_drop_in_process_raises_remote_protocol_error(emulator_config):
    config = dataclasses.replace(emulator_config, drop_rate=1.0)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        ref = str(uuid.uuid4())
        with pytest.raises(httpx.RemoteProtocolError):
            api.create(creds, "collection", "request_to_pay", payment(), reference_id=ref)
        assert api.status(creds, "collection", "request_to_pay", ref).json()["status"] == "SUCCESSFUL"


def test_seeded_faults_repeat(emulator_config, tmp_path):
    patterns = []
    for run in range(2):
        config = dataclasses.replace(emulator_config, error_rate=0.5, seed=42, db_path=tmp_path / f"run{run}.db")
        with make_client(config) as client:
            api = SandboxApi(client)
            creds = api.provision()
            patterns.append([api.create(creds, "collection", "request_to_pay", payment())[1].status_code
                             for _ in range(16)])
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {202, 500}


def test_in_process_rate_limit_and_latency(emulator_config):
    config = dataclasses.replace(emulator_config, rate_limit=3, latency_ms=50)
    with make_client(config) as client:
        started = time.perf_counter()
        codes = [client.get("/v1_0/apiuser/" + str(uuid.uuid4()), headers={"Ocp-Apim-Subscription-Key": "k"}).status_code
                 for _ in range(5)]
        assert codes == [404, 404, 404, 429, 429]
        assert time.perf_counter() - started >= 0.15
