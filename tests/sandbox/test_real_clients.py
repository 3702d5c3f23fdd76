"""Other MoMo clients against `momo sandbox serve`, unchanged: the Python `mtnmomo` 3.0.1 and npm `mtn-momo` 2.0.0.

Each client's HTTP requests were recorded against the emulator (method, path, headers, body) and are
replayed here byte for byte with httpx: that replay is the always-on proof, with no network and no
Node.js needed. Where the real packages are at hand, they run too:

* `mtnmomo` 3.0.1 pins Click 7, which conflicts with this project's Click 8, and its `mtnmomo`
  script would replace ours, so it cannot be a regular test dependency. The test imports it from
  ``MTNMOMO_TARGET_DIR`` (where `make test` puts it with ``pip install --no-deps --target``; its other
  needs `requests` and `phonenumbers` are in the test extra); otherwise it installs it once with
  ``--no-deps`` into pytest's cache directory. It is skipped, with the reason,
  only when neither works (no package index at hand).
* `mtn-momo` runs under node when ``node`` is on PATH and ``MTN_MOMO_NPM_DIR`` names a directory
  holding ``node_modules/mtn-momo`` (``npm install mtn-momo@2.0.0`` there); otherwise it is skipped
  with the reason.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.served

PRIMARY_KEY = "a2cb4bb083ba43d3b18ce4a13eb32346"


@pytest.fixture(scope="module")
def server(module_served_emulator):
    return module_served_emulator()


def send_exact(client: httpx.Client, method: str, url: str, headers: list[tuple[str, str]], body: bytes = b"") -> httpx.Response:
    """Send a request with exactly these headers (httpx adds only Host and, for a body, Content-Length)."""
    request = client.build_request(method, url, content=body)
    for name in list(request.headers):
        if name.lower() not in ("host", "content-length"):
            del request.headers[name]
    for name, value in headers:
        request.headers[name] = value
    if not body and method == "POST" and "content-length" not in request.headers:
        request.headers["Content-Length"] = "0"
    return client.send(request)


# -- the Python package mtnmomo 3.0.1 ------------------------------------------------------------------

PY_UA = [("User-Agent", "python-requests/2.21.0"), ("Accept-Encoding", "gzip, deflate"), ("Accept", "*/*"),
         ("Connection", "keep-alive")]


def test_mtnmomo_http_replay(server):
    """What mtnmomo 3.0.1 sends: `{}` on /token/ and /apikey, `null` as the body of GETs, json.dumps bodies."""
    client = server.client()
    user_id = str(uuid.uuid4())
    json_ct = ("Content-Type", "application/json")
    r = send_exact(client, "POST", "/v1_0/apiuser", PY_UA + [("X-Reference-Id", user_id), json_ct,
                   ("Ocp-Apim-Subscription-Key", PRIMARY_KEY)], b'{"providerCallbackHost": "localhost"}')
    assert r.status_code == 201
    # MomoApi.generateToken: the callback host again as body, and an X-Target-Environment
    r = send_exact(client, "POST", f"/v1_0/apiuser/{user_id}/apikey", PY_UA + [
        json_ct, ("Ocp-Apim-Subscription-Key", PRIMARY_KEY), ("X-Target-Environment", "sandbox")],
        b'{"providerCallbackHost": "localhost"}')
    assert r.status_code == 201
    basic = "Basic " + base64.b64encode(f"{user_id}:{r.json()['apiKey']}".encode()).decode()

    def token(product: str) -> str:
        r = send_exact(client, "POST", f"/{product}/token/", PY_UA + [
            json_ct, ("Ocp-Apim-Subscription-Key", PRIMARY_KEY), ("Authorization", basic)], b"{}")
        assert r.status_code == 200
        return "Bearer " + r.json()["access_token"]

    def call(method: str, path: str, product: str, body: bytes, extra: list[tuple[str, str]] = ()) -> httpx.Response:
        return send_exact(client, method, path, PY_UA + [("X-Target-Environment", "sandbox"), json_ct,
                          *extra, ("Ocp-Apim-Subscription-Key", PRIMARY_KEY), ("Authorization", token(product))], body)

    ref = str(uuid.uuid4())
    r = call("POST", "/collection/v1_0/requesttopay", "collection",
             b'{"payer": {"partyIdType": "MSISDN", "partyId": "256772123456"}, "payeeNote": "dd", "payerMessage": '
             b'"dd", "externalId": "123456", "currency": "EUR", "amount": "600"}',
             [("X-Reference-Id", ref), ("X-Callback-Url", "http://localhost:9/cb")])
    assert r.status_code == 202 and r.content == b""
    r = call("GET", f"/collection/v1_0/requesttopay/{ref}", "collection", b"null")
    assert r.status_code == 200 and r.json()["status"] == "SUCCESSFUL" and r.json()["amount"] == "600"
    r = call("GET", "/collection/v1_0/account/balance", "collection", b"null")
    assert r.json() == {"availableBalance": "1000600", "currency": "EUR"}
    ref = str(uuid.uuid4())
    r = call("POST", "/disbursement/v1_0/transfer", "disbursement",
             b'{"amount": "600", "currency": "EUR", "externalId": "123456", "payee": {"partyIdType": "MSISDN", '
             b'"partyId": "256772123456"}, "payerMessage": "dd", "payeeNote": "dd"}', [("X-Reference-Id", ref)])
    assert r.status_code == 202
    r = call("GET", f"/disbursement/v1_0/transfer/{ref}", "disbursement", b"null")
    assert r.json()["status"] == "SUCCESSFUL" and r.json()["payee"]["partyId"] == "256772123456"
    r = call("GET", "/disbursement/v1_0/account/balance", "disbursement", b"null")
    assert r.json() == {"availableBalance": "999400", "currency": "EUR"}
    r = call("GET", "/remittance/v1_0/accountholder/MSISDN/256772123456/active", "remittance", b"null")
    assert r.json() == {"result": True}


@pytest.fixture(scope="module")
def mtnmomo(request):
    """The real mtnmomo 3.0.1 package: installed, or installed once (no dependencies) into pytest's cache."""
    pytest.importorskip("requests", reason="the test extra's `requests` is needed to run mtnmomo")
    pytest.importorskip("phonenumbers", reason="the test extra's `phonenumbers` is needed to run mtnmomo")
    try:
        return importlib.import_module("mtnmomo")
    except ImportError:
        pass
    # `make test` installs it beside the project (its `mtnmomo` script must not replace ours).
    given = os.environ.get("MTNMOMO_TARGET_DIR")
    target = Path(given) if given else Path(request.config.cache.mkdir("mtnmomo-3.0.1"))
    if not (target / "mtnmomo").is_dir():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
             "mtnmomo==3.0.1"], capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0 or not (target / "mtnmomo").is_dir():
            pytest.skip("mtnmomo 3.0.1 is not installed and could not be fetched (pip install --no-deps "
                        f"mtnmomo==3.0.1): {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    sys.path.insert(0, str(target))
    try:
        return importlib.import_module("mtnmomo")
    finally:
        sys.path.remove(str(target))


def test_mtnmomo_package(server, mtnmomo):
    import requests
    from mtnmomo.client import MomoApi
    from mtnmomo.collection import Collection
    from mtnmomo.disbursement import Disbursement
    from mtnmomo.remittance import Remittance

    base = server.url
    user_id = str(uuid.uuid4())
    # mtnmomo's own provisioning command has its host written in; send what it sends, to our base
    r = requests.post(base + "/v1_0/apiuser", data=json.dumps({"providerCallbackHost": "localhost"}),
                      headers={"X-Reference-Id": user_id, "Content-Type": "application/json",
                               "Ocp-Apim-Subscription-Key": PRIMARY_KEY})
    assert r.status_code == 201
    secret = MomoApi.generateToken("localhost", user_id, PRIMARY_KEY, base)["apiKey"]
    config = {"ENVIRONMENT": "sandbox", "BASE_URL": base, "CALLBACK_HOST": "localhost"}
    for product in ("COLLECTION", "DISBURSEMENT", "REMITTANCE"):
        config.update({f"{product}_PRIMARY_KEY": PRIMARY_KEY, f"{product}_USER_ID": user_id,
                       f"{product}_API_SECRET": secret})

    collection = Collection(config)
    ref = collection.requestToPay(mobile="0772123456", amount="600", external_id="123456", payee_note="dd",
                                  payer_message="dd", currency="EUR", callback_url="http://localhost:9/cb")
    status = collection.getTransactionStatus(ref["transaction_ref"])
    assert status["status"] == "SUCCESSFUL" and status["payer"]["partyId"] == "256772123456"
    assert Decimal(collection.getBalance()["availableBalance"]) == Decimal("1000600")

    disbursement = Disbursement(config)
    ref = disbursement.transfer(amount="600", mobile="0772123456", external_id="123456", payee_note="dd",
                                payer_message="dd", currency="EUR")
    assert disbursement.getTransactionStatus(ref["transaction_ref"])["status"] == "SUCCESSFUL"
    assert disbursement.getBalance() == {"availableBalance": "999400", "currency": "EUR"}

    remittance = Remittance(config)
    ref = remittance.transfer(amount="50", mobile="0772123456", external_id="1", payer_message="a", payee_note="b")
    assert remittance.getTransactionStatus(ref["transaction_ref"])["status"] == "SUCCESSFUL"
    assert remittance.isActive("256772123456") == {"result": True}
    transactions = {t["reference_id"]: t for t in server.transactions()}
    assert transactions[ref["transaction_ref"]]["operation"] == "transfer"


# -- the npm package mtn-momo 2.0.0 ----------------------------------------------------------------------

NODE_UA = ("User-Agent", "axios/0.21.4")
NODE_BASE = [("Ocp-Apim-Subscription-Key", "0123456789abcdef0123456789abcdef"), ("X-Target-Environment", "sandbox")]


def test_mtn_momo_npm_http_replay(server):
    """What mtn-momo 2.0.0 (axios 0.21) sends: no body and no Content-Type on /token/ and /apikey,
    X-Target-Environment everywhere, MSISDN upper-case for collections and lower-case for disbursements."""
    client = server.client()
    user_id = str(uuid.uuid4())
    keep = [("Connection", "keep-alive")]
    r = send_exact(client, "POST", "/v1_0/apiuser", NODE_BASE + [("X-Reference-Id", user_id),
                   ("Content-Type", "application/json"), NODE_UA] + keep, b'{"providerCallbackHost":"localhost"}')
    assert r.status_code == 201
    r = send_exact(client, "POST", f"/v1_0/apiuser/{user_id}/apikey", NODE_BASE + [NODE_UA] + keep)
    assert r.status_code == 201
    basic = "Basic " + base64.b64encode(f"{user_id}:{r.json()['apiKey']}".encode()).decode()
    tokens = {}
    for product in ("collection", "disbursement"):
        r = send_exact(client, "POST", f"/{product}/token/", NODE_BASE + [("Authorization", basic), NODE_UA] + keep)
        assert r.status_code == 200
        tokens[product] = "Bearer " + r.json()["access_token"]

    def call(method, path, product, body=b"", extra=()):
        headers = NODE_BASE + list(extra) + [("Authorization", tokens[product])]
        if body:
            headers.append(("Content-Type", "application/json"))
        return send_exact(client, method, path, headers + [NODE_UA] + keep, body)

    ref = str(uuid.uuid4())
    r = call("POST", "/collection/v1_0/requesttopay", "collection",
             b'{"amount":"50","currency":"EUR","externalId":"123456","payer":{"partyIdType":"MSISDN","partyId":'
             b'"256774290781"},"payerMessage":"testing","payeeNote":"hello"}',
             [("X-Reference-Id", ref), ("X-Callback-Url", "http://localhost:9/cb")])
    assert r.status_code == 202
    r = call("GET", f"/collection/v1_0/requesttopay/{ref}", "collection")
    assert r.json()["status"] == "SUCCESSFUL" and r.json()["financialTransactionId"].isdigit()
    assert call("GET", "/collection/v1_0/account/balance", "collection").json() == {
        "availableBalance": "1000050", "currency": "EUR"}
    assert call("GET", "/collection/v1_0/accountholder/MSISDN/256774290781/active", "collection").json() == {"result": True}
    ref = str(uuid.uuid4())
    r = call("POST", "/disbursement/v1_0/transfer", "disbursement",
             b'{"amount":"100","currency":"EUR","externalId":"947354","payee":{"partyIdType":"MSISDN","partyId":'
             b'"256774290781"},"payerMessage":"testing","payeeNote":"hello"}', [("X-Reference-Id", ref)])
    assert r.status_code == 202
    assert call("GET", f"/disbursement/v1_0/transfer/{ref}", "disbursement").json()["status"] == "SUCCESSFUL"
    assert call("GET", "/disbursement/v1_0/account/balance", "disbursement").json()["availableBalance"] == "999900"
    assert call("GET", "/disbursement/v1_0/accountholder/msisdn/256774290781/active", "disbursement").json() == {
        "result": True}
    # its error mapping reads `code` of 4xx bodies and `reason` (a string) of FAILED transactions
    r = call("GET", f"/collection/v1_0/requesttopay/{uuid.uuid4()}", "collection")
    assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"
    ref = str(uuid.uuid4())
    call("POST", "/collection/v1_0/requesttopay", "collection",
         b'{"amount":"50","currency":"EUR","externalId":"1","payer":{"partyIdType":"MSISDN","partyId":"46733123451"}}',
         [("X-Reference-Id", ref)])
    assert call("GET", f"/collection/v1_0/requesttopay/{ref}", "collection").json()["reason"] == "APPROVAL_REJECTED"


NODE_SCRIPT = r"""
const momo = require("mtn-momo");
const base = process.argv[2];
const primaryKey = "0123456789abcdef0123456789abcdef";
const { Collections, Disbursements, Users } = momo.create({ callbackHost: "localhost", baseUrl: base });
(async () => {
  const users = Users({ primaryKey });
  const userId = await users.create("localhost");
  const { apiKey } = await users.login(userId);
  const collections = Collections({ userSecret: apiKey, userId, primaryKey });
  const ref = await collections.requestToPay({ amount: "50", currency: "EUR", externalId: "1",
    payer: { partyIdType: "MSISDN", partyId: "256774290781" }, payerMessage: "a", payeeNote: "b" });
  const payment = await collections.getTransaction(ref);
  const balance = await collections.getBalance();
  const disbursements = Disbursements({ userSecret: apiKey, userId, primaryKey });
  const transfer = await disbursements.transfer({ amount: "100", currency: "EUR", externalId: "2",
    payee: { partyIdType: "MSISDN", partyId: "256774290781" }, payerMessage: "a", payeeNote: "b" });
  const payout = await disbursements.getTransaction(transfer);
  let rejected = null;
  const failing = await collections.requestToPay({ amount: "5", currency: "EUR", externalId: "3",
    payer: { partyIdType: "MSISDN", partyId: "46733123451" } });
  try { await collections.getTransaction(failing); } catch (e) { rejected = e.name; }
  console.log(JSON.stringify({ payment: payment.status, balance, payout: payout.status, rejected }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_mtn_momo_npm_package_under_node(server, tmp_path):
    node = shutil.which("node")
    install = os.environ.get("MTN_MOMO_NPM_DIR")
    if not node or not install or not (Path(install) / "node_modules" / "mtn-momo").is_dir():
        pytest.skip("needs node and MTN_MOMO_NPM_DIR with node_modules/mtn-momo "
                    "(npm install mtn-momo@2.0.0); the HTTP replay above covers its requests")
    script = Path(install) / f"momo-emulator-check-{uuid.uuid4().hex}.js"
    script.write_text(NODE_SCRIPT)
    try:
        result = subprocess.run([node, str(script), server.url], capture_output=True, text=True, timeout=60)
    finally:
        script.unlink()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"payment": "SUCCESSFUL", "balance": {"availableBalance": "1000050", "currency": "EUR"},
                   "payout": "SUCCESSFUL", "rejected": "ApprovalRejectedError"}
