"""Contract tests: the emulator's answers against the provider's Swagger 2.0 definitions (tests/sandbox/spec).

Every operation of every spec file is driven into each answer the emulator can give for it; the status
code must be one the spec lists for the operation, and a JSON body must validate against the spec's
schema for that code, made strict (no properties the schema does not name). Two known differences
between the definitions and the live sandbox are applied to the schemas, as momo-api.md section 3
says: `reason` is a plain string, and `targetEnvironment` of an API user is a string.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.emulator import SUBSCRIPTION_KEY, payment

SPEC_DIR = Path(__file__).parent / "spec"
SPEC_FILES = {"user.json": "", "collection.json": "collection", "disbursements.json": "disbursement",
              "remittance.json": "remittance"}


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def load_spec(name: str) -> dict:
    spec = json.loads((SPEC_DIR / name).read_text())
    definitions = copy.deepcopy(spec.get("definitions", {}))
    # the live sandbox sends `reason` as a plain string (momo-api.md sections 3 and 13)
    for result in ("RequestToPayResult", "TransferResult", "PreApprovalResult"):
        if result in definitions:
            definitions[result]["properties"]["reason"] = {"type": "string"}
    # and an API user's targetEnvironment as a string ("sandbox"), not an object (section 2)
    if "ApiUserResult" in definitions:
        definitions["ApiUserResult"]["properties"]["targetEnvironment"] = {"type": "string"}
    spec["strict_definitions"] = _strict(definitions)
    return spec


SPECS = {name: load_spec(name) for name in SPEC_FILES}


def check(spec_name: str, method: str, path: str, response, *, schema_ref: str | None = None) -> None:
    """The answer's code is documented for the operation, and its body fits the documented schema."""
    spec = SPECS[spec_name]
    operation = spec["paths"][path][method.lower()]
    code = str(response.status_code)
    assert code in operation["responses"], (
        f"{method} {path} answered {code}, the spec lists {sorted(operation['responses'])}: {response.text}")
    documented = operation["responses"][code].get("schema", {}).get("$ref")
    ref = schema_ref or documented
    if ref is None:
        return
    schema = {"$ref": ref, "definitions": spec["strict_definitions"]}
    jsonschema.Draft4Validator(schema).validate(response.json())


COVERED: set[tuple[str, str, str]] = set()


def covers(spec_name: str, method: str, path: str) -> None:
    COVERED.add((spec_name, method.lower(), path))


@pytest.fixture
def creds(emulator_api):
    return emulator_api.provision()


def test_user_provisioning_contract(emulator_client):
    spec = "user.json"
    headers = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}
    user_id = str(uuid.uuid4())
    path = "/v1_0/apiuser"
    covers(spec, "POST", path)
    ok = emulator_client.post(path, headers={**headers, "X-Reference-Id": user_id}, json={"providerCallbackHost": "h"})
    check(spec, "POST", path, ok)
    check(spec, "POST", path, emulator_client.post(path, headers={**headers, "X-Reference-Id": user_id},
                                                     json={"providerCallbackHost": "h"}))
    check(spec, "POST", path, emulator_client.post(path, headers={**headers, "X-Reference-Id": "x"},
                                                     json={"providerCallbackHost": "h"}))

    path = "/v1_0/apiuser/{X-Reference-Id}/apikey"
    covers(spec, "POST", path)
    for user in (user_id, str(uuid.uuid4()), "bad"):
        check(spec, "POST", path, emulator_client.post(f"/v1_0/apiuser/{user}/apikey", headers=headers))

    path = "/v1_0/apiuser/{X-Reference-Id}"
    covers(spec, "GET", path)
    for user in (user_id, str(uuid.uuid4()), "bad"):
        check(spec, "GET", path, emulator_client.get(f"/v1_0/apiuser/{user}", headers=headers),
              schema_ref="#/definitions/ApiUserResult" if user == user_id else None)


@pytest.mark.parametrize("spec", ["collection.json", "disbursements.json", "remittance.json"])
def test_product_contract(emulator_api, emulator_client, creds, spec):
    product = SPEC_FILES[spec]
    sk = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}

    covers(spec, "POST", "/token/")
    check(spec, "POST", "/token/", emulator_client.post(f"/{product}/token/", headers={**sk, "Authorization": creds.basic}))
    check(spec, "POST", "/token/", emulator_client.post(f"/{product}/token/", headers={**sk, "Authorization": "Basic eDp5"}))

    headers = emulator_api.headers(creds, product)
    wrong_env = {**headers, "X-Target-Environment": "mtnghana"}
    path = "/v1_0/account/balance"
    covers(spec, "GET", path)
    check(spec, "GET", path, emulator_client.get(f"/{product}{path}", headers=headers))
    check(spec, "GET", path, emulator_client.get(f"/{product}{path}", headers=wrong_env))

    path = "/v1_0/accountholder/{accountHolderIdType}/{accountHolderId}/active"
    covers(spec, "GET", path)
    for holder in ("msisdn/46733123999", "msisdn/46733123450", "msisdn/46733123452", "email/notactive@email.com",
                   "party_code/4d5f500f-c385-4901-9be5-25b6d36ad220", "msisdn/abc"):
        r = emulator_client.get(f"/{product}/v1_0/accountholder/{holder}/active", headers=headers)
        check(spec, "GET", path, r, schema_ref="#/definitions/BooleanResult" if r.status_code == 200 else None)
    check(spec, "GET", path, emulator_client.get(f"/{product}/v1_0/accountholder/msisdn/46733123999/active",
                                                  headers=wrong_env))

    if product == "collection":
        create, status, operation, field, result = ("/v1_0/requesttopay", "/v1_0/requesttopay/{referenceId}",
                                                    "request_to_pay", "payer", "#/definitions/RequestToPayResult")
    else:
        create, status, operation, field, result = ("/v1_0/transfer", "/v1_0/transfer/{referenceId}", "transfer",
                                                    "payee", "#/definitions/TransferResult")
    covers(spec, "POST", create)
    covers(spec, "GET", status)
    refs = []
    for party in ("46733123999", "46733123451", "46733123453", "46733123455"):
        ref, r = emulator_api.create(creds, product, operation, payment(party, party_field=field))
        check(spec, "POST", create, r)
        refs.append(ref)
    _, r = emulator_api.create(creds, product, operation, payment(party_field=field), reference_id=refs[0])
    check(spec, "POST", create, r)
    _, r = emulator_api.create(creds, product, operation, payment(party_field=field, currency="XAF"))
    check(spec, "POST", create, r)
    _, r = emulator_api.create(creds, product, operation, b"{oops")
    check(spec, "POST", create, r)
    _, r = emulator_api.create(creds, product, operation, payment(party_field=field), headers=wrong_env)
    check(spec, "POST", create, r)
    seen = set()
    for ref in refs:
        r = emulator_api.status(creds, product, operation, ref)
        check(spec, "GET", status, r, schema_ref=result)
        seen.add(r.json()["status"])
    assert seen == {"SUCCESSFUL", "FAILED", "PENDING"}
    status_url = f"/{product}" + status.replace("{referenceId}", "{}")
    check(spec, "GET", status, emulator_client.get(status_url.format(uuid.uuid4()), headers=headers))
    check(spec, "GET", status, emulator_client.get(status_url.format("nope"), headers=headers))
    check(spec, "GET", status, emulator_client.get(status_url.format(refs[0]), headers=wrong_env))


#: The operations the tests above drive, per spec file; a spec operation missing here fails the suite.
DRIVEN = {
    "user.json": {("post", "/v1_0/apiuser"), ("post", "/v1_0/apiuser/{X-Reference-Id}/apikey"),
                  ("get", "/v1_0/apiuser/{X-Reference-Id}")},
    "collection.json": {("post", "/v1_0/requesttopay"), ("get", "/v1_0/requesttopay/{referenceId}")},
    "disbursements.json": {("post", "/v1_0/transfer"), ("get", "/v1_0/transfer/{referenceId}")},
    "remittance.json": {("post", "/v1_0/transfer"), ("get", "/v1_0/transfer/{referenceId}")},
}
for _name in ("collection.json", "disbursements.json", "remittance.json"):
    DRIVEN[_name] |= {("post", "/token/"), ("get", "/v1_0/account/balance"),
                      ("get", "/v1_0/accountholder/{accountHolderIdType}/{accountHolderId}/active")}


def test_every_spec_operation_is_driven():
    for name, spec in SPECS.items():
        operations = {(method, path) for path, ops in spec["paths"].items() for method in ops}
        assert operations == DRIVEN[name], name
    if COVERED:  # when the driving tests ran in this session, they touched exactly these
        assert COVERED <= {(n, m, p) for n, ops in DRIVEN.items() for m, p in ops}
