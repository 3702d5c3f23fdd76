"""What every money-moving command shares: options, validation, confirmation, journal, send, wait, output.

`collect`, `disburse` and `remit` only declare their commands with `money_command(group, name, Spec)`.
One run goes (design.md section 2):

1. validate every input (exit 2, one line naming the option and the rule; nothing sent, nothing
   journaled);
2. confirm on a terminal (amount, party, environment; a production environment's name is typed), or
   `--yes`; with no terminal and no `--yes`: exit 2;
3. open the client (on an emulator it provisions its own API user), journal the request (`created`)
   and send it with `journal.sender.submit`, which owns the exactly-once rules;
4. with `--wait`, poll (`sender.wait`) with a spinner on stderr, or take the callback when `--listen`
   gets it first;
5. print the transaction (a panel for people, JSON with `--json`, the reference id with `-q`) and exit
   with the code of its outcome: 0 SUCCESSFUL or accepted, 10 failed, 8 still pending after `--wait`,
   5/4 rejected by the API, 6 outcome unknown.

Heavy modules (httpx, rich, pydantic, the journal's sender) are imported inside the functions that
use them, so `momo --help` stays light. No URL, header or HTTP call is built here.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from momo_cli.context import AppContext
from momo_cli.errors import (
    ApiError,
    AuthError,
    ConfigError,
    InvalidInput,
    MomoCliError,
    NetworkError,
    StillPending,
    TransactionFailed,
    UsageError,
)

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._session import Session
    from momo_cli.journal.sender import SendPolicy
    from momo_cli.journal.store import Entry, Journal
    from momo_cli.output import Output

ID_TYPES = ("msisdn", "email", "party_code")
DEFAULT_TIMEOUT = 120.0
DEFAULT_INTERVAL = 2.0
#: `payerIdentificationType` values of a cash transfer (momo-api.md section 6).
PAYER_ID_TYPES = ("PASS", "CPFA", "SRSSA", "NRIN", "OTHR", "DRLC", "SOCS", "AREG", "IDCD", "EMID")

#: How hard one command tries before leaving an entry to `momo journal reconcile` (tests shorten it).
SEND_POLICY: "SendPolicy | None" = None

TITLES = {
    ("collection", "request_to_pay"): "request to pay",
    ("collection", "request_to_withdraw"): "request to withdraw",
    ("disbursement", "transfer"): "transfer",
    ("disbursement", "deposit"): "deposit",
    ("disbursement", "refund"): "refund",
    ("remittance", "transfer"): "remittance transfer",
    ("remittance", "cash_transfer"): "cash transfer",
}


def title_of(product: str, operation: str) -> str:
    return TITLES.get((product, operation), f"{product} {operation.replace('_', ' ')}")


@dataclass(frozen=True)
class Spec:
    """One money-moving command: which operation it sends and which options it takes."""

    product: str
    operation: str
    #: "payer" (money comes in), "payee" (money goes out), or None (refund: the party is the original's)
    party: str | None
    #: offer --v2 (the operation has a v1_0 and a v2_0 endpoint)
    v2_flag: bool = False
    #: the only version (cash transfer exists as v2_0 only)
    version: str = "v1_0"
    refund: bool = False
    cash_transfer: bool = False

    @property
    def title(self) -> str:
        return title_of(self.product, self.operation)


# --------------------------------------------------------------------------------------------------
# Options


def _party_options(party: str) -> list[click.Option]:
    return [
        click.Option([f"--{party}"], metavar="ID", required=True,
                     help=f"The {party}: an MSISDN (country code, no '+'), or an e-mail / party code "
                          f"with --{party}-type."),
        click.Option([f"--{party}-type", f"{party}_type"], type=click.Choice(ID_TYPES, case_sensitive=False),
                     default="msisdn", show_default=True, help=f"What --{party} is."),
    ]


def _cash_transfer_options() -> list[click.Option]:
    return [
        click.Option(["--originating-country"], metavar="CC",
                     help="Country the money comes from (ISO 3166 alpha-2, e.g. SE)."),
        click.Option(["--original-amount"], metavar="A", help="Amount sent, in the original currency."),
        click.Option(["--original-currency"], metavar="C", help="Currency of --original-amount."),
        click.Option(["--payer-id-type"], type=click.Choice(PAYER_ID_TYPES, case_sensitive=False),
                     help="Sender's identification document type."),
        click.Option(["--payer-id-number"], metavar="TEXT", help="Sender's identification number."),
        click.Option(["--payer-identity"], metavar="TEXT", help="Sender's identity (free text)."),
        click.Option(["--payer-first-name"], metavar="TEXT", help="Sender's first name."),
        click.Option(["--payer-surname"], metavar="TEXT", help="Sender's surname."),
        click.Option(["--payer-language"], metavar="CODE", help="Sender's language (ISO 639-1, e.g. en)."),
        click.Option(["--payer-email"], metavar="EMAIL", help="Sender's e-mail address."),
        click.Option(["--payer-msisdn"], metavar="MSISDN", help="Sender's phone number."),
        click.Option(["--payer-gender"], metavar="TEXT", help="Sender's gender (e.g. MALE, FEMALE)."),
    ]


def output_options() -> list[click.Option]:
    return [
        click.Option(["--json", "json_mode"], is_flag=True, help="Print one JSON document on stdout."),
        click.Option(["-q", "--quiet"], is_flag=True, help="Print only the reference id."),
    ]


def wait_options() -> list[click.Option]:
    return [
        click.Option(["--wait"], is_flag=True, help="Wait until the transaction is final (or --timeout)."),
        click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="S", help="Seconds --wait waits at most."),
        click.Option(["--interval"], type=click.FloatRange(min=0.05), default=DEFAULT_INTERVAL,
                     show_default=True, metavar="S",
                     help="Seconds before the second status check (then it backs off)."),
    ]


def money_options(spec: Spec) -> list[click.Option]:
    options: list[click.Option] = [
        click.Option(["--amount"], metavar="A", required=True,
                     help="Exact amount, e.g. 600 or 12.50 (no more decimals than the currency has)."),
        click.Option(["--currency"], metavar="C",
                     help="ISO 4217 code (default: the target environment's, EUR in the sandbox)."),
    ]
    if spec.refund:
        options.append(click.Option(
            ["--refund", "refund_of"], metavar="REFERENCE_ID", required=True,
            help="Reference id of the request to pay to refund (the sandbox also takes its test ids 1 to 13).",
        ))
    if spec.party:
        options.extend(_party_options(spec.party))
    options += [
        click.Option(["--external-id"], metavar="ID",
                     help="Your id for reconciliation (default: 'momo-' and the start of the reference id)."),
        click.Option(["--payer-message"], metavar="TEXT", help="Shown in the payer's history (at most 160 characters)."),
        click.Option(["--payee-note"], metavar="TEXT", help="Shown in the payee's history (at most 160 characters)."),
    ]
    if spec.cash_transfer:
        options.extend(_cash_transfer_options())
    options += [
        click.Option(["--callback-url"], metavar="URL",
                     help="X-Callback-Url: MoMo calls it with the final status (host = providerCallbackHost)."),
        click.Option(["--reference-id"], metavar="UUID",
                     help="Use this reference id (UUID4). One the journal knows is resumed, never sent twice."),
    ]
    if spec.v2_flag:
        options.append(click.Option(["--v2"], is_flag=True, help="Use the v2_0 endpoint (callbacks by PUT)."))
    options += wait_options()
    options += [
        click.Option(["--listen"], type=click.IntRange(0, 65535), metavar="PORT",
                     help="With --wait: receive the callback on this local port (0: any free port)."),
        click.Option(["-y", "--yes"], is_flag=True, help="Do not ask for confirmation (needed without a terminal)."),
    ]
    options += output_options()
    return options


EPILOG_TAIL = """
Exit codes: 0 SUCCESSFUL (or accepted and still PENDING without --wait), 2 invalid input (nothing
sent), 4/5 refused by the API, 6 outcome unknown (`momo journal reconcile`), 8 still PENDING after
--wait, 10 final and not successful.
"""


def money_command(group: click.Group, name: str, spec: Spec, *, help: str, examples: str = "") -> click.Command:
    """Add the command `name` to `group`: the shared options, and a callback that runs `spec`."""

    def callback(**params: Any) -> None:
        run(click.get_current_context().obj, spec, params)

    epilog = ("\b\nExamples:\n" + examples.strip("\n") + "\n" if examples else "") + EPILOG_TAIL
    command = click.Command(
        name, callback=callback, params=money_options(spec), help=help, epilog=epilog,
        short_help=help.split("\n", 1)[0],
    )
    group.add_command(command)
    return command


# --------------------------------------------------------------------------------------------------
# Validation


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


def app_context(obj: Any) -> AppContext:
    return obj if isinstance(obj, AppContext) else AppContext()


def check_output_flags(json_mode: bool, quiet: bool) -> None:
    if json_mode and quiet:
        raise UsageError("--json and -q/--quiet: choose one")


def currency_for(text: str | None, environment: str, *, field: str = "--currency") -> str:
    """The currency given (checked against the environment), or the environment's own."""
    from momo_cli import money

    if text is None:
        expected = money.ENVIRONMENT_CURRENCY.get(environment)
        if expected is None:
            raise InvalidInput(field, f"required: the target environment {environment!r} has no known currency")
        return expected
    currency = money.parse_currency(text, field=field)
    if currency not in money.CURRENCY_MINOR_UNITS:
        raise InvalidInput(field, f"{currency} is not a currency MoMo markets use")
    money.check_currency_for_environment(currency, environment, field=field)
    return currency


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


def check_callback_url(session: "Session", product: str, url: str | None, *, field: str = "--callback-url") -> str | None:
    """An http(s) URL whose host is the API user's providerCallbackHost (when we know it)."""
    from urllib.parse import urlsplit

    if url is None:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts, host = None, ""
    if (parts is None or parts.scheme not in ("http", "https") or not host
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


def check_same_api(session: "Session", entry: "Entry") -> None:
    """Refuse to act on an entry journaled against another API: its answers would be wrong there."""
    settings = session.settings
    if entry.base_url and (entry.base_url, entry.target_environment) != (settings.base_url, settings.target_environment):
        raise UsageError(
            f"{entry.reference_id} was sent to {entry.base_url} ({entry.target_environment}), "
            f"not to {settings.base_url} ({settings.target_environment})",
            hint=f"run it with --base-url {entry.base_url} --target-environment {entry.target_environment}",
        )


def find_existing(session: "Session", prepared: Prepared) -> None:
    """With --reference-id: the journal's entry for it, if any, after checking it is this request."""
    journal = session.journal()
    entry = journal.get(prepared.reference_id)
    if entry is None:
        return
    difference = _same_request(entry, prepared)
    if difference:
        raise InvalidInput(
            "--reference-id", f"{prepared.reference_id} is journaled for another request: {difference}",
            hint=f"a retry repeats the same request; `momo journal show {prepared.reference_id}` shows it",
        )
    check_same_api(session, entry)
    prepared.existing = entry


# --------------------------------------------------------------------------------------------------
# Confirmation


def party_words(party: dict[str, Any] | None) -> str:
    if not party or not party.get("id"):
        return "-"
    kind = str(party.get("type") or "MSISDN").upper()
    return str(party["id"]) if kind == "MSISDN" else f"{party['id']} ({kind.lower()})"


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


def confirm(session: "Session", prepared: Prepared, *, yes: bool) -> None:
    """Ask before money moves (`_confirm.confirm_money`). Raises UsageError (exit 2) when not confirmed."""
    from momo_cli.commands._confirm import confirm_money

    what = summary_line(prepared)
    lines = [
        f"  {what[0].upper() + what[1:]}",
        f"  environment  {session.environment_label}",
        f"  product      {prepared.spec.product}",
    ]
    if prepared.external_id:
        lines.append(f"  external id  {prepared.external_id}")
    if prepared.callback_url:
        lines.append(f"  callback     {prepared.callback_url}")
    if prepared.existing is not None:
        lines.append(f"  resuming     {prepared.reference_id} ({prepared.existing.state})")
    confirm_money(session, yes=yes, what=what, details=["About to send:", *lines], question="Send it?")


# --------------------------------------------------------------------------------------------------
# Output


def transaction_doc(entry: "Entry", *, environment_label: str | None = None) -> dict[str, Any]:
    """The JSON of a journaled transaction: the keys of design.md section 4 first, then extras."""
    from momo_cli.api.errors import explain_reason

    body: dict[str, Any] = {}
    try:
        body = entry.body
    except ValueError:  # pragma: no cover - the journal only stores JSON
        pass
    error = None
    if entry.last_error:
        error = {"message": entry.last_error, "type": entry.error_type, "code": entry.error_code}
    reason = entry.reason if entry.state == "final" and entry.status != "SUCCESSFUL" else None
    doc: dict[str, Any] = {
        "reference_id": entry.reference_id,
        "product": entry.product,
        "operation": entry.operation,
        "status": entry.status,
        "reason": reason,
        "amount": entry.amount,
        "currency": entry.currency,
        "external_id": entry.external_id,
        "party": {"type": entry.party_type, "id": entry.party_id},
        "financial_transaction_id": entry.financial_transaction_id,
        "environment": entry.target_environment,
        "reason_explanation": explain_reason(reason) or None,
        "state": str(entry.state),
        "outcome": outcome_of(entry),
        "version": entry.version,
        "payer_message": body.get("payerMessage") or None,
        "payee_note": body.get("payeeNote") or None,
        "callback_url": entry.callback_url,
        "refund_of": body.get("referenceIdToRefund"),
        "profile": entry.profile,
        "base_url": entry.base_url,
        "journaled": True,
        "run_id": entry.run_id,
        "line_no": entry.line_no,
        "attempts": entry.attempts,
        "error": error,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }
    if environment_label:
        doc["_environment_label"] = environment_label
    return doc


def outcome_of(entry: "Entry") -> str:
    from momo_cli.journal.sender import final_outcome

    return final_outcome(entry)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the keys meant for rendering only."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def render_transaction(out: "Output", doc: dict[str, Any], *, title: str | None = None) -> None:
    """A panel on stdout for people (nothing with --json or -q: the caller prints those)."""
    from momo_cli.render import transaction_panel

    shown = dict(doc)
    if doc.get("_environment_label"):
        shown["environment"] = doc["_environment_label"]
    explanation = doc.get("reason_explanation")
    out.console.print(transaction_panel(shown, explanation=explanation, title=title))


def _split_error(entry: "Entry") -> tuple[str | None, str | None]:
    """The journal's last error as (detail, hint): the action prefix naming the reference id and the
    hint are taken apart, so that a message can say them once."""
    text = entry.last_error
    if not text:
        return None, None
    hint = None
    if " (hint: " in text and text.endswith(")"):
        text, hint = text.split(" (hint: ", 1)
        hint = hint[:-1]
    marker = f"{entry.reference_id}: "
    if marker in text:
        text = text.split(marker, 1)[1]
    return text, hint


def rejection_error(entry: "Entry") -> MomoCliError:
    """The error (and exit code) of an entry the API refused: 4 for auth, 3 config, 2 ours, else 5."""
    detail, hint = _split_error(entry)
    message = f"the {title_of(entry.product, entry.operation)} {entry.reference_id} was not accepted"
    if detail:
        message += f": {detail}"
    classes: dict[str, type[MomoCliError]] = {
        "AuthError": AuthError, "ConfigError": ConfigError,
        "InvalidInput": UsageError, "UsageError": UsageError,
    }
    cls = classes.get(entry.error_type or "")
    if cls is not None:
        return cls(message, hint=hint)
    code = entry.error_code if entry.error_code and not entry.error_code.isdigit() else None
    if entry.operation == "refund" and code == "RESOURCE_NOT_FOUND":
        hint = ("--refund must be the reference id of a successful request to pay made on this API "
                "(the emulator also wants it made by the same API user: give collection and "
                "disbursement the same MOMO_*_USER_ID and MOMO_*_API_KEY)")
    return ApiError(message, code=code, hint=hint)


def unknown_error(entry: "Entry") -> NetworkError:
    ref = entry.reference_id
    title = title_of(entry.product, entry.operation)
    if entry.state == "created" and entry.attempts == 0:
        what = f"the {title} {ref} was journaled but not sent"
    elif entry.state == "created":
        what = f"the {title} {ref} could not be sent"
    else:
        what = f"the outcome of the {title} {ref} is unknown"
    detail, _ = _split_error(entry)
    return NetworkError(
        what + (f" ({detail})" if detail else ""),
        hint=f"`momo journal reconcile` settles it (it sends it again, same reference id, only if it never "
             f"arrived); `momo status {ref}` asks once",
    )


def finish(session: "Session", entry: "Entry", *, waited: bool, pending_is_error: bool = False,
           created: bool = True, not_found: bool = False, timeout: float | None = None) -> None:
    """Print the entry (panel, JSON or reference id) and raise the error of its outcome, if any.

    PENDING is exit 8 after a wait (or when `pending_is_error`, as for `momo status`), else exit 0
    with a note on how to follow it.
    """
    out = session.out
    outcome = outcome_of(entry)
    settings = session.settings
    same_api = (entry.base_url, entry.target_environment) == (settings.base_url, settings.target_environment)
    doc = transaction_doc(entry, environment_label=session.environment_label if same_api else None)
    if out.json_mode:
        out.json(public(doc))
    elif out.quiet:
        if created:
            out.line(entry.reference_id)
    elif outcome in ("successful", "failed", "pending"):
        render_transaction(out, doc)
    ref = entry.reference_id
    title = title_of(entry.product, entry.operation)
    if outcome == "successful":
        return
    if outcome == "failed":
        reason = doc["reason"] or entry.status
        # the panel already explains the reason to people; scripts and logs get the words here
        explanation = None if out.human else doc["reason_explanation"]
        raise TransactionFailed(
            f"the {title} {ref} ended {entry.status}" + (f": {reason}" if reason and reason != entry.status else "")
            + (f" ({explanation})" if explanation else "")
        )
    if outcome == "pending":
        if waited or pending_is_error:
            after = f" after {timeout:g} s" if waited and timeout else (" after waiting" if waited else "")
            raise StillPending(
                f"the {title} {ref} is still {entry.status or 'PENDING'}{after}",
                hint=f"follow it{' later' if waited else ''} with `momo status {ref} --wait`",
            )
        out.info(f"Accepted and {entry.status or 'PENDING'}: follow it with `momo status {ref} --wait`.")
        return
    if outcome == "rejected":
        raise rejection_error(entry)
    if not_found:
        raise NetworkError(
            f"{ref} never reached the API (the status check answered 404)",
            hint="`momo journal reconcile` sends it again with the same reference id",
        )
    raise unknown_error(entry)


# --------------------------------------------------------------------------------------------------
# Waiting


def spinner_label(entry: "Entry") -> str:
    title = title_of(entry.product, entry.operation)
    party = party_words({"type": entry.party_type, "id": entry.party_id})
    text = f"{title[0].upper() + title[1:]} {entry.amount} {entry.currency}"
    if entry.party_id:
        text += (" from " if entry.operation.startswith("request_to") else " to ") + party
    return text


async def wait_entry(
    session: "Session",
    client: Any,
    journal: "Journal",
    entry: "Entry",
    *,
    timeout: float,
    interval: float,
    listener: Any = None,
) -> "Entry":
    """Poll until final or `timeout` (a spinner on stderr on a terminal); with a listener, a matching
    callback that comes first ends the wait and its status is journaled."""
    from momo_cli.journal import sender
    from momo_cli.render import spinner

    reference_id = entry.reference_id
    with spinner(session.out, spinner_label(entry)) as spin:
        current = {"status": entry.status}

        def on_update(updated: "Entry", elapsed: float) -> None:
            current["status"] = updated.status
            spin.update(updated.status)

        async def tick() -> None:
            while True:
                spin.update(current["status"])
                await asyncio.sleep(0.25)

        ticker = asyncio.get_running_loop().create_task(tick()) if spin.active else None
        poll = asyncio.get_running_loop().create_task(sender.wait(
            journal, client, reference_id, timeout=timeout, interval=interval, on_update=on_update,
        ))
        tasks = {poll}
        heard = None
        heard_from = None
        if listener is not None:
            from momo_cli.callbacks import matching

            predicate = matching(external_id=entry.external_id, amount=entry.amount, final_only=True)
            heard = asyncio.get_running_loop().create_task(listener.wait_for(predicate, timeout))
            tasks.add(heard)
        try:
            while True:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                if heard is not None and heard in done:
                    tasks.discard(heard)
                    try:
                        event = heard.result()
                    except (TimeoutError, asyncio.TimeoutError):
                        heard = None
                        continue
                    heard = None
                    from momo_cli.journal.sender import status_fields

                    status, reason, ftid = status_fields({
                        "status": event.status, "reason": event.reason,
                        "financial_transaction_id": event.info.financial_transaction_id,
                    })
                    journal.record_status(reference_id, status, reason, ftid,
                                          detail=f"callback #{event.seq} ({event.method})")
                    poll.cancel()
                    heard_from = event
                    break
                if poll in done:
                    poll.result()
                    break
        finally:
            for task in (poll, heard, ticker):
                if task is not None and not task.done():
                    task.cancel()
            for task in (poll, heard, ticker):
                if task is not None:
                    try:
                        await task
                    except (asyncio.CancelledError, Exception):
                        pass
    if heard_from is not None:
        session.out.info(f"The callback came first ({heard_from.method}, {heard_from.status}).")
    return journal.get(reference_id) or entry


# --------------------------------------------------------------------------------------------------
# The run


def send_policy() -> "SendPolicy":
    from momo_cli.journal.sender import SendPolicy

    return SEND_POLICY if SEND_POLICY is not None else SendPolicy(max_tries=4, backoff=0.25, max_backoff=1.0)


async def _execute(session: "Session", prepared: Prepared) -> tuple["Entry", bool]:
    """Journal (unless resumed), send, and wait as asked; returns the entry and whether it waited."""
    import contextlib

    from momo_cli.journal import sender
    from momo_cli.journal.store import State

    spec = prepared.spec
    settings = session.settings
    out = session.out
    journal = session.journal()
    session.announce()
    async with contextlib.AsyncExitStack() as stack:
        listener = None
        if prepared.listen is not None:
            from momo_cli.callbacks import listening
            from momo_cli.callbacks.store import CallbackStore

            store = stack.enter_context(CallbackStore.open_default())  # `momo callbacks list` shows them
            listener = await stack.enter_async_context(
                listening("127.0.0.1", prepared.listen, "/", store=store, option="--listen")
            )
            if prepared.callback_url is None:
                host = expected_callback_host(session, spec.product) or "127.0.0.1"
                prepared.callback_url = f"http://{host}:{listener.port}/"
            where = f"{listener.base_url}/"
            shown = where if prepared.callback_url == where else f"{where} (callback URL {prepared.callback_url})"
            out.info(f"Listening for the callback on {shown}")
        client = await stack.enter_async_context(session.client(spec.product))
        entry = prepared.existing
        if entry is None:
            entry = journal.record_new(
                reference_id=prepared.reference_id, product=spec.product, operation=spec.operation,
                body=prepared.body, version=prepared.version, callback_url=prepared.callback_url,
                profile=settings.profile, base_url=settings.base_url,
                target_environment=settings.target_environment,
            )
            out.info(f"Reference id {entry.reference_id} (journaled)")
        else:
            out.info(f"Reference id {entry.reference_id}: resuming the journaled request ({entry.state})")
            if entry.state is State.REJECTED:  # it created nothing: the same id may be sent again
                entry = journal.reopen(entry.reference_id)
        if entry.state in (State.CREATED, State.UNKNOWN):
            from momo_cli.render import spinner

            with spinner(out, "Sending: " + summary_line(prepared)):
                entry = await sender.submit(journal, client, entry.reference_id, policy=send_policy())
        elif entry.state is State.SUBMITTED and not prepared.wait:
            try:
                entry = await sender.resolve(journal, client, entry)
            except (ApiError, NetworkError):
                entry = journal.get(entry.reference_id) or entry
        waited = False
        if prepared.wait and entry.state is State.SUBMITTED:
            waited = True
            entry = await wait_entry(session, client, journal, entry, timeout=prepared.timeout,
                                     interval=prepared.interval, listener=listener)
    return entry, waited


def run(obj: Any, spec: Spec, params: dict[str, Any]) -> None:
    """The whole of a money-moving command (see the module docstring)."""
    from momo_cli.commands._session import Session

    app = app_context(obj)
    check_output_flags(params.get("json_mode", False), params.get("quiet", False))
    out = app.output(json_mode=params.get("json_mode", False), quiet=params.get("quiet", False))
    session = Session(app, out)
    try:
        prepared = prepare(session, spec, params)
        if params.get("reference_id") is not None:
            find_existing(session, prepared)
        if not session.on_emulator:
            # exit 3 now, not after journaling a request that cannot be sent (reconcile would send it later)
            session.settings.require_credentials(spec.product)
        existing = prepared.existing
        if existing is None or str(existing.state) in ("created", "unknown", "rejected"):  # it may send
            confirm(session, prepared, yes=bool(params.get("yes")))
        try:
            entry, waited = asyncio.run(_execute(session, prepared))
        except KeyboardInterrupt:
            raise interrupted(session, prepared) from None
        finish(session, entry, waited=waited, timeout=prepared.timeout)
    finally:
        session.close()


def interrupted(session: "Session", prepared: Prepared) -> MomoCliError:
    """Ctrl-C: say what became of the request (exit 130), so nobody sends it again by hand."""
    from momo_cli.errors import Interrupted

    entry = session.journal().get(prepared.reference_id)
    ref = prepared.reference_id
    title = prepared.spec.title
    if entry is None:
        return Interrupted("interrupted: nothing was sent")
    outcome = outcome_of(entry)
    if outcome == "pending":
        return Interrupted(f"interrupted: the {title} {ref} was accepted and is {entry.status or 'PENDING'}",
                           hint=f"follow it with `momo status {ref} --wait`")
    if outcome in ("successful", "failed", "rejected"):
        return Interrupted(f"interrupted: the {title} {ref} is {entry.status or entry.state}",
                           hint=f"`momo journal show {ref}` shows it")
    return Interrupted(f"interrupted: the outcome of the {title} {ref} is unknown",
                       hint="`momo journal reconcile` settles it (it never sends it twice)")

