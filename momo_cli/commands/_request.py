"""A money-moving command's parameters turned into a validated request, ready to be confirmed,
journaled and sent (`prepare`), or matched with the journal's entry for `--reference-id`
(`find_existing`).

Every rule raises InvalidInput or UsageError (exit 2, one line naming the option and the rule) before
anything is sent or journaled. The API body is built by the request models (`momo_cli.api.models`),
imported only here, when a command runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from momo_cli.commands._transaction import check_same_api, party_words
from momo_cli.commands._wait import DEFAULT_INTERVAL, DEFAULT_TIMEOUT
from momo_cli.errors import InvalidInput, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._money import Spec
    from momo_cli.commands._session import Session
    from momo_cli.journal.store import Entry


@dataclass
class Prepared:
    """A validated request, ready to be confirmed, journaled and sent."""

    spec: Spec
    reference_id: str
    version: str
    body: dict[str, Any]
    amount: str
    currency: str
    party: dict[str, str] | None
    external_id: str | None
    callback_url: str | None
    wait: bool
    timeout: float
    interval: float
    listen: int | None
    #: the journal's entry when --reference-id names one already journaled (resumed, never re-created)
    existing: "Entry | None" = None
    refund_of: str | None = None
    notes: list[str] = field(default_factory=list)


def currency_for(text: str | None, environment: str, *, field: str = "--currency") -> str:
    """The currency given (checked against the environment), or the environment's own."""
    from momo_cli import money

    if text is None:
        expected = money.ENVIRONMENT_CURRENCY.get(environment)
        if expected is None:
            raise InvalidInput(field, f"required: the target environment {environment!r} has no known currency")
        return expected
    return money.check_currency(text, environment, field=field)


def expected_callback_host(session: "Session", product: str) -> str | None:
    """The providerCallbackHost a callback URL must have, when we know it: the profile's callback
    host, or on an emulator the host of the API user the CLI provisions for itself."""
    from momo_cli.api.hosts import callback_hostname

    settings = session.settings
    configured = callback_hostname(settings.callback_host)
    if configured:
        return configured
    if session.on_emulator and not settings.credentials(product).complete:
        from momo_cli.api.selfprovision import DEFAULT_CALLBACK_HOST

        return DEFAULT_CALLBACK_HOST
    return None


#: Longer callback URLs are refused: a header that size is a mistake, and gateways cut them.
MAX_CALLBACK_URL_LENGTH = 2000


def check_callback_url(session: "Session", product: str, url: str | None, *, field: str = "--callback-url") -> str | None:
    """An http(s) URL whose host is the API user's providerCallbackHost (when we know it)."""
    from urllib.parse import urlsplit

    if url is None:
        return None
    text = url.strip()
    if len(text) > MAX_CALLBACK_URL_LENGTH:
        raise InvalidInput(field, f"is {len(text)} characters long; at most {MAX_CALLBACK_URL_LENGTH} are accepted")
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        parts, host, port = None, "", None
    if (parts is None or parts.scheme not in ("http", "https") or not host or port == 0
            or any(ch.isspace() or not ch.isprintable() for ch in text)):
        raise InvalidInput(field, f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise InvalidInput(field, "must not carry a user name or password")
    expected = expected_callback_host(session, product)
    if expected and host != expected:
        raise InvalidInput(
            field,
            f"its host {host} is not the API user's providerCallbackHost {expected}, "
            "so MoMo would refuse the request (INVALID_CALLBACK_URL_HOST)",
            hint=f"use a URL on {expected}, or leave --callback-url out (then no callback is sent)",
        )
    return text


def _text_field(value: str | None, field: str, *, max_length: int = 160) -> str | None:
    from momo_cli import money

    if value is None:
        return None
    text = money.check_message(value, field=field)
    if text is not None and len(text) > max_length:
        raise InvalidInput(field, f"is {len(text)} characters long; at most {max_length} are allowed")
    return text


def _refund_reference(text: str) -> str:
    from momo_cli import money

    value = (text or "").strip()
    if money.is_uuid(value):
        return value.lower()
    if value.isdigit() and 1 <= int(value) <= 13 and len(value) <= 2:
        return str(int(value))
    raise InvalidInput(
        "--refund", f"{text!r} is not the reference id (a UUID) of a request to pay",
        hint="the sandbox also takes its refund test ids 1 to 13",
    )


def _cash_transfer_fields(params: dict[str, Any], currency: str) -> dict[str, Any]:
    """The cash transfer's own fields, validated, as CashTransferRequest takes them."""
    import re

    from momo_cli import money

    fields: dict[str, Any] = {}
    country = params.get("originating_country")
    if country is not None:
        if not re.fullmatch(r"[A-Za-z]{2}", country.strip()):
            raise InvalidInput("--originating-country", f"{country!r} is not a two-letter country code (e.g. SE)")
        fields["originating_country"] = country.strip().upper()
    original_currency = params.get("original_currency")
    if original_currency is not None:
        original_currency = money.parse_currency(original_currency, field="--original-currency")
        fields["original_currency"] = original_currency
    if params.get("original_amount") is not None:
        in_currency = original_currency or currency
        value = money.parse_amount(params["original_amount"], in_currency, field="--original-amount")
        fields["original_amount"] = money.format_amount(value, in_currency)
    if params.get("payer_id_type") is not None:
        fields["payer_identification_type"] = params["payer_id_type"].upper()
    for option, key in (("payer_id_number", "payer_identification_number"), ("payer_identity", "payer_identity"),
                        ("payer_first_name", "payer_first_name"), ("payer_surname", "payer_surname"),
                        ("payer_gender", "payer_gender")):
        value = _text_field(params.get(option), "--" + option.replace("_", "-"), max_length=100)
        if value is not None:
            if not value.strip():
                raise InvalidInput("--" + option.replace("_", "-"), "must not be empty")
            fields[key] = value.strip()
    language = params.get("payer_language")
    if language is not None:
        if not re.fullmatch(r"[A-Za-z]{2,3}", language.strip()):
            raise InvalidInput("--payer-language", f"{language!r} is not an ISO 639 code such as 'en' or 'fr'")
        fields["payer_language_code"] = language.strip().lower()
    email = params.get("payer_email")
    if email is not None:
        fields["payer_email"] = money.normalize_party("EMAIL", email, field="--payer-email")[1]
    msisdn = params.get("payer_msisdn")
    if msisdn is not None:
        fields["payer_msisdn"] = money.normalize_msisdn(msisdn, field="--payer-msisdn")
    return fields


def default_external_id(reference_id: str) -> str:
    """'momo-' and the first 12 hex digits of the reference id: short, unique, and traceable."""
    return "momo-" + reference_id.replace("-", "")[:12]


def prepare(session: "Session", spec: Spec, params: dict[str, Any]) -> Prepared:
    """Validate every input of a money-moving command; raises InvalidInput/UsageError (exit 2)."""
    from momo_cli import money

    settings = session.settings
    environment = settings.target_environment
    reference_id = None
    if params.get("reference_id") is not None:
        reference_id = money.check_reference_id(params["reference_id"], field="--reference-id")
    currency = currency_for(params.get("currency"), environment)
    amount = money.format_amount(money.parse_amount(params["amount"], currency, field="--amount"), currency)
    party = None
    if spec.party:
        kind, party_id = money.normalize_party(params[f"{spec.party}_type"], params[spec.party], field=f"--{spec.party}")
        party = {"partyIdType": kind, "partyId": party_id}
    refund_of = _refund_reference(params["refund_of"]) if spec.refund else None
    external_id = money.check_external_id(params.get("external_id"), field="--external-id")
    payer_message = money.check_message(params.get("payer_message"), field="--payer-message")
    payee_note = money.check_message(params.get("payee_note"), field="--payee-note")
    extra = _cash_transfer_fields(params, currency) if spec.cash_transfer else {}
    callback_url = check_callback_url(session, spec.product, params.get("callback_url"))
    listen = params.get("listen")
    if listen is not None:
        if not params.get("wait"):
            raise UsageError("--listen works with --wait: add --wait (the callback ends the wait)")
        if callback_url is None:
            expected = expected_callback_host(session, spec.product)
            if expected and not _is_loopback(expected):
                raise InvalidInput(
                    "--listen",
                    f"the API user's providerCallbackHost is {expected}, which cannot reach this machine's port",
                    hint=f"pass --callback-url with a URL on {expected} that reaches port {listen} (a tunnel)",
                )
    version = "v2_0" if params.get("v2") else spec.version

    reference_id = reference_id or str(uuid.uuid4())
    if external_id is None:
        external_id = default_external_id(reference_id)
    body = _body(spec, amount=amount, currency=currency, party=party, external_id=external_id,
                 payer_message=payer_message, payee_note=payee_note, refund_of=refund_of, extra=extra)
    return Prepared(
        spec=spec, reference_id=reference_id, version=version, body=body, amount=amount, currency=currency,
        party=party, external_id=external_id, callback_url=callback_url, wait=bool(params.get("wait")),
        timeout=float(params.get("timeout") or DEFAULT_TIMEOUT),
        interval=float(params.get("interval") or DEFAULT_INTERVAL), listen=listen, refund_of=refund_of,
    )


def _is_loopback(host: str) -> bool:
    from momo_cli.api.hosts import is_loopback_host

    return is_loopback_host(host)


def _body(spec: Spec, *, amount: str, currency: str, party: dict[str, str] | None, external_id: str | None,
          payer_message: str | None, payee_note: str | None, refund_of: str | None,
          extra: dict[str, Any]) -> dict[str, Any]:
    """The API body, built by the request models (the one place that knows the API's field names)."""
    from momo_cli.api import models

    common = dict(amount=amount, currency=currency, external_id=external_id,
                  payer_message=payer_message, payee_note=payee_note)
    if spec.refund:
        request = models.RefundRequest(reference_id_to_refund=refund_of, **common)
    else:
        assert party is not None
        parties = {spec.party: models.Party(partyIdType=party["partyIdType"], partyId=party["partyId"])}
        if spec.cash_transfer:
            request = models.CashTransferRequest(**common, **parties, **extra)
        elif spec.party == "payer":
            request = models.PaymentRequest(**common, **parties)
        else:
            request = models.TransferRequest(**common, **parties)
    return request.to_api()


def _same_request(entry: "Entry", prepared: Prepared) -> str | None:
    """None when a journaled entry is the request the command describes, else what differs."""
    spec = prepared.spec
    if (entry.product, entry.operation) != (spec.product, spec.operation):
        return f"it is a {entry.product} {entry.operation.replace('_', ' ')}, not a {spec.title}"
    if (entry.amount, entry.currency) != (prepared.amount, prepared.currency):
        return f"it is for {entry.amount} {entry.currency}, not {prepared.amount} {prepared.currency}"
    if prepared.party and (entry.party_type, entry.party_id) != (prepared.party["partyIdType"], prepared.party["partyId"]):
        return f"its {spec.party} is {entry.party_id}, not {prepared.party['partyId']}"
    if spec.refund and entry.body.get("referenceIdToRefund") != prepared.refund_of:
        return f"it refunds {entry.body.get('referenceIdToRefund')}, not {prepared.refund_of}"
    return None


def _same_details(entry: "Entry", prepared: Prepared) -> str | None:
    """None when the rest of the request (external id, messages, callback URL, API version) is the
    journaled one, else what differs. Only a rejected entry, which created nothing, may take new ones."""
    journaled, given = entry.body, prepared.body
    for key, words in (("externalId", "external id"), ("payerMessage", "payer message"), ("payeeNote", "payee note")):
        if journaled.get(key) != given.get(key):
            return f"its {words} is {journaled.get(key)!r}, not {given.get(key)!r}"
    if entry.callback_url != prepared.callback_url:
        return f"its callback URL is {entry.callback_url!r}, not {prepared.callback_url!r}"
    if entry.version != prepared.version:
        return f"it uses API {entry.version}, not {prepared.version}"
    return None


def find_existing(session: "Session", prepared: Prepared) -> None:
    """With --reference-id: the journal's entry for it, if any, after checking it is this request."""
    journal = session.journal()
    entry = journal.get(prepared.reference_id)
    if entry is None:
        return
    from momo_cli.journal.store import State

    difference = _same_request(entry, prepared)
    if not difference and entry.state is not State.REJECTED:
        difference = _same_details(entry, prepared)
    if difference:
        raise InvalidInput(
            "--reference-id", f"{prepared.reference_id} is journaled for another request: {difference}",
            hint=f"a retry repeats the same request; `momo journal show {prepared.reference_id}` shows it",
        )
    check_same_api(session, entry)
    prepared.existing = entry


def summary_line(prepared: Prepared) -> str:
    """'transfer 600 EUR to 46733123450' as people say it."""
    spec = prepared.spec
    money_text = f"{prepared.amount} {prepared.currency}"
    if spec.refund:
        return f"refund {money_text} of request {prepared.refund_of}"
    party = party_words({"type": prepared.party["partyIdType"], "id": prepared.party["partyId"]}) if prepared.party else "-"
    if spec.party == "payer":
        return f"{spec.title} {money_text} from {party}"
    return f"{spec.title} {money_text} to {party}"
