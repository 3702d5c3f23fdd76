"""`momo sandbox`: run and inspect the local MoMo emulator.

starlette, uvicorn and rich are imported inside the commands, so `momo --help` stays light.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from momo_cli.errors import InvalidInput, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DB_NAME = "emulator.db"


def default_data_dir() -> Path:
    """MOMO_DATA_DIR, else $XDG_DATA_HOME/momo, else ~/.local/share/momo (created 0700)."""
    explicit = os.environ.get("MOMO_DATA_DIR")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
        path = base / "momo"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return default_data_dir() / DB_NAME


def _db_path(db: str | None) -> Path:
    if db:
        path = Path(db).expanduser()
        if path.is_dir():
            raise InvalidInput("--db", f"{db} is a directory; give the path of a database file")
        return path
    return default_db_path()


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_rate(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidInput(name, f"{value} is not a share between 0 and 1")


def _check_non_negative(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise InvalidInput(name, f"{value} must not be negative")


@click.group()
def sandbox() -> None:
    """Run and inspect the local MoMo emulator (no real money moves)."""


@sandbox.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", metavar="PATH", help="Emulator database (default: $MOMO_DATA_DIR/emulator.db).")
@click.option("--settle-after", type=float, default=2.0, show_default=True, metavar="S",
              help="Seconds a transaction stays PENDING (0: final at once).")
@click.option("--token-ttl", type=float, default=3600.0, show_default=True, metavar="S",
              help="Lifetime of access tokens in seconds.")
@click.option("--latency", type=float, default=0.0, show_default=True, metavar="MS",
              help="Delay every answer by this many milliseconds.")
@click.option("--error-rate", type=float, default=0.0, show_default=True, metavar="F",
              help="Share of money-moving POSTs answered 500 after being stored.")
@click.option("--drop-rate", type=float, default=0.0, show_default=True, metavar="F",
              help="Share of money-moving POSTs whose connection is closed after being stored.")
@click.option("--rate-limit", type=int, default=None, metavar="N",
              help="Answer 429 above N requests per second.")
@click.option("--callback-method", type=click.Choice(["POST", "PUT"], case_sensitive=False), default=None,
              help="Force one method for callbacks (default: POST for v1_0, PUT for v2_0).")
@click.option("--seed", type=int, default=None, metavar="N", help="Seed for fault injection.")
@click.option("--ongoing-timeout", type=float, default=300.0, show_default=True, metavar="S",
              help="Seconds test number 46733123453 stays PENDING before FAILED/EXPIRED.")
@click.option("--delayed-after", type=float, default=60.0, show_default=True, metavar="S",
              help="Seconds test number 46733123454 stays PENDING before SUCCESSFUL.")
@click.option("--quiet", "-q", is_flag=True, help="Do not log each request.")
def serve(host, port, db, settle_after, token_ttl, latency, error_rate, drop_rate, rate_limit,
          callback_method, seed, ongoing_timeout, delayed_after, quiet):
    """Serve the emulator over HTTP for any MoMo client (binds 127.0.0.1 by default)."""
    if not 0 <= port <= 65535:
        raise InvalidInput("--port", f"{port} is not a port number (0 to 65535)")
    _check_rate("--error-rate", error_rate)
    _check_rate("--drop-rate", drop_rate)
    for name, value in (("--settle-after", settle_after), ("--latency", latency),
                        ("--ongoing-timeout", ongoing_timeout), ("--delayed-after", delayed_after)):
        _check_non_negative(name, value)
    if token_ttl <= 0:
        raise InvalidInput("--token-ttl", f"{token_ttl} must be greater than zero")
    if rate_limit is not None and rate_limit < 0:
        raise InvalidInput("--rate-limit", f"{rate_limit} must not be negative")

    import logging

    from momo_cli.sandbox.config import EmulatorConfig
    from momo_cli.sandbox.server import bind, serve as run_server

    db_path = _db_path(db)
    config = EmulatorConfig(
        db_path=db_path, settle_after=settle_after, token_ttl=token_ttl, latency_ms=latency,
        error_rate=error_rate, drop_rate=drop_rate, rate_limit=rate_limit or None,
        callback_method=callback_method.upper() if callback_method else None, seed=seed,
        ongoing_timeout=ongoing_timeout, delayed_after=delayed_after, log_requests=not quiet,
    )
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown_host}:{bound_port}"

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("momo_cli.sandbox.requests", "momo_cli.sandbox", "momo_cli.sandbox.callbacks"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    def started() -> None:
        click.echo(f"MoMo emulator listening on {url} (no real money moves)")
        click.echo(f"database: {db_path}")
        faults = [f"{k}={v}" for k, v in (("latency", f"{latency:g}ms" if latency else None),
                  ("error-rate", error_rate or None), ("drop-rate", drop_rate or None),
                  ("rate-limit", rate_limit or None)) if v]
        if faults:
            click.echo("faults: " + ", ".join(faults))
        if not _is_loopback(bound_host):
            click.echo(
                f"warning: listening beyond this machine ({bound_host}): anyone who reaches it can read "
                "and reset the emulator (/_sandbox/ needs no authentication)", err=True,
            )
        click.echo("press Ctrl+C to stop")

    try:
        run_server(config, sock, on_started=started)
    finally:
        sock.close()


@sandbox.command()
@click.option("--db", metavar="PATH", help="Emulator database (default: $MOMO_DATA_DIR/emulator.db).")
def reset(db):
    """Forget every API user, token, balance, transaction and log entry."""
    from momo_cli.sandbox.store import Store

    path = _db_path(db)
    store = Store(path)
    try:
        counts = store.counts()
        store.reset()
    finally:
        store.close()
    if path.resolve() == default_db_path().resolve():
        # The in-process emulator's users are gone: the CLI makes new ones on next use.
        from momo_cli.api.selfprovision import SelfProvisioned

        SelfProvisioned(path.parent).forget("local")
    click.echo(
        f"emulator reset: {path} ({counts['transactions']} transactions, {counts['api_users']} API users removed)"
    )


@sandbox.command()
@click.option("--db", metavar="PATH", help="Emulator database (default: $MOMO_DATA_DIR/emulator.db).")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array.")
@click.option("--product", type=click.Choice(["collection", "disbursement", "remittance"]), default=None)
@click.option("--status", "status_filter", metavar="STATUS", default=None, help="Only this status.")
@click.option("--limit", type=int, default=1000, show_default=True, help="At most this many (the latest).")
def transactions(db, json_mode, product, status_filter, limit):
    """List the emulator's transactions, oldest first."""
    from momo_cli.output import Output
    from momo_cli.sandbox.store import Store

    if limit < 0:
        raise InvalidInput("--limit", "must not be negative")
    path = _db_path(db)
    if not path.exists():
        raise UsageError(f"no emulator database at {path}", hint="run `momo sandbox serve` or use the local profile first")
    store = Store(path)
    try:
        rows = store.list_transactions(product=product, status=status_filter, limit=limit)
    finally:
        store.close()
    out = Output(json_mode=json_mode)
    if json_mode:
        out.json(rows)
        return
    if not rows:
        out.info(f"no transactions in {path}")
        return
    from rich.table import Table

    table = Table(title=f"Emulator transactions ({len(rows)})", title_justify="left")
    for column, kwargs in (("created", {}), ("product", {}), ("operation", {}), ("reference id", {"no_wrap": True}),
                           ("amount", {"justify": "right"}), ("party", {}), ("status", {}), ("reason", {})):
        table.add_column(column, **kwargs)
    colours = {"SUCCESSFUL": "green", "FAILED": "red", "PENDING": "yellow"}
    for row in rows:
        status = row["status"]
        table.add_row(
            row["created_at"].replace("T", " ")[:19], row["product"], row["operation"], row["reference_id"],
            f"{row['amount']} {row['currency']}", row["party_id"] or "",
            f"[{colours.get(status, 'white')}]{status}[/]", row["reason"] or "",
        )
    console = out.console
    if not out.stdout_is_tty:  # a pipe or a file gets the whole table, not one squeezed to 80 columns
        console.width = max(console.width, 170)
    console.print(table)
