"""What every money-moving command shares: its options and the run, from parameters to exit code.

`collect`, `disburse` and `remit` only declare their commands with `money_command(group, name, Spec)`.
One run goes (design.md section 2):

1. validate every input (`_request.prepare`; exit 2, one line naming the option and the rule;
   nothing sent, nothing journaled);
2. confirm on a terminal (`_confirm.confirm_money`: amount, party, environment; a production
   environment's name is typed), or `--yes`; with no terminal and no `--yes`: exit 2;
3. open the client (on an emulator it provisions its own API user), journal the request (`created`)
   and send it with `journal.sender.submit`, which owns the exactly-once rules;
4. with `--wait`, poll (`_wait.wait_entry`) with a spinner on stderr, or take the callback when
   `--listen` gets it first;
5. print the transaction (`_transaction.finish`: a panel for people, JSON with `--json`, the
   reference id with `-q`) and exit with the code of its outcome: 0 SUCCESSFUL or accepted,
   10 failed, 8 still pending after `--wait`, 5/4 rejected by the API, 6 outcome unknown.

Heavy modules (httpx, rich, pydantic, the journal's sender) are imported inside the functions that
use them, so `momo --help` stays light. No URL, header or HTTP call is built here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from momo_cli.commands._request import Prepared, expected_callback_host, find_existing, prepare, summary_line
from momo_cli.commands._session import app_context
from momo_cli.commands._transaction import finish, outcome_of, title_of
from momo_cli.commands._wait import wait_entry, wait_options
from momo_cli.errors import ApiError, MomoCliError, NetworkError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._session import Session
    from momo_cli.journal.sender import SendPolicy
    from momo_cli.journal.store import Entry

ID_TYPES = ("msisdn", "email", "party_code")
#: `payerIdentificationType` values of a cash transfer (momo-api.md section 6).
PAYER_ID_TYPES = ("PASS", "CPFA", "SRSSA", "NRIN", "OTHR", "DRLC", "SOCS", "AREG", "IDCD", "EMID")

#: How hard one command tries before leaving an entry to `momo journal reconcile` (tests shorten it).
SEND_POLICY: "SendPolicy | None" = None


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


def check_output_flags(json_mode: bool, quiet: bool) -> None:
    if json_mode and quiet:
        raise UsageError("--json and -q/--quiet: choose one")


# --------------------------------------------------------------------------------------------------
# The run


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


def send_policy() -> "SendPolicy":
    from momo_cli.journal.sender import SendPolicy

    return SEND_POLICY if SEND_POLICY is not None else SendPolicy(max_tries=4, backoff=0.25, max_backoff=1.0)


async def _execute(session: "Session", prepared: Prepared) -> tuple["Entry", float | None]:
    """Journal (unless resumed), send, and wait as asked; returns the entry and the seconds waited (None: no wait)."""
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
            if entry.state is State.REJECTED:  # it created nothing: the same id may be sent again,
                # with what the command says now (a corrected callback URL, note or version)
                entry = journal.reopen(entry.reference_id, body=prepared.body, version=prepared.version,
                                       callback_url=prepared.callback_url)
        if entry.state in (State.CREATED, State.UNKNOWN):
            from momo_cli.render import spinner

            with spinner(out, "Sending: " + summary_line(prepared)):
                entry = await sender.submit(journal, client, entry.reference_id, policy=send_policy())
        elif entry.state is State.SUBMITTED and not prepared.wait:
            try:
                entry = await sender.resolve(journal, client, entry)
            except (ApiError, NetworkError):
                entry = journal.get(entry.reference_id) or entry
        waited: float | None = None
        if prepared.wait and entry.state is State.SUBMITTED:
            started = time.monotonic()
            entry = await wait_entry(session, client, journal, entry, timeout=prepared.timeout,
                                     interval=prepared.interval, listener=listener)
            waited = time.monotonic() - started
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
        finish(session, entry, waited=waited is not None, waited_for=waited)
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
