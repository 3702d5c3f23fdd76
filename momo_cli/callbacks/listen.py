"""`momo callbacks listen`: serve until SIGINT/SIGTERM, print each callback, then a summary.

stdout carries the events (a line per event for people, NDJSON with --json); stderr carries the
banner, warnings and the summary, so `--json` output stays pure events. The first SIGINT or SIGTERM
stops the listener cleanly: callbacks already received are still stored and forwarded, the summary
is printed, and the exit code is 0 (stopping is how a listener ends). A second one stops at once
and exits 130.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from momo_cli.callbacks.events import CallbackEvent
from momo_cli.callbacks.server import Listener, listening
from momo_cli.callbacks.store import CallbackStore
from momo_cli.exitcodes import ExitCode
from momo_cli.output import Output


def banner(listener: Listener, *, forward_to: str | None, forward_timeout: float, store_path: str) -> list[str]:
    where = "any path" if listener.path == "/" else f"under {listener.path}"
    lines = [
        f"Listening for MoMo callbacks on {listener.base_url} (POST and PUT, {where})",
        f"  X-Callback-Url: {listener.callback_url}",
        f"  The callback URL's host ({listener.callback_host}) must match the API user's "
        "providerCallbackHost, or MoMo refuses the request (INVALID_CALLBACK_URL_HOST).",
    ]
    if listener.host in ("0.0.0.0", "::"):
        lines.append("  Listening on every interface: give MoMo a host name that reaches this machine.")
    if forward_to:
        lines.append(
            f"  Forwarding to {forward_to} (same method and body, Content-Type and User-Agent; "
            f"timeout {forward_timeout:g}s)"
        )
    lines.append(f"  Received callbacks are kept in {store_path} (see `momo callbacks list`, `replay`).")
    lines.append("Ready. Press Ctrl-C to stop.")
    return lines


class _Printer:
    """Writes each event to stdout; a closed stdout (`| head`) stops the listener."""

    def __init__(self, out: Output, json_mode: bool, stop: asyncio.Event) -> None:
        self.out = out
        self.json_mode = json_mode
        self.stop = stop

    def __call__(self, event: CallbackEvent) -> None:
        try:
            if self.json_mode:
                self.out.line(event.to_json())
            else:
                from momo_cli.callbacks.render import event_line

                self.out.console.print(event_line(event), soft_wrap=True)
                self.out.stdout.flush()
        except BrokenPipeError:
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep shutdown quiet
            except OSError:
                pass
            self.stop.set()


async def _listen(
    out: Output,
    *,
    host: str,
    port: int,
    path: str,
    forward_to: str | None,
    forward_timeout: float,
    json_mode: bool,
    store: CallbackStore,
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals: list[int] = []
    state: dict[str, Any] = {}

    def on_signal(signum: int) -> None:
        signals.append(signum)
        if len(signals) == 1:
            out.warn("Stopping… (Ctrl-C again to stop at once)")
            stop.set()
        elif "listener" in state:
            state["listener"].stop(force=True)
            state["listener"].receiver.abort()

    printer = _Printer(out, json_mode, stop)
    handled = (signal.SIGINT, signal.SIGTERM)
    try:
        async with listening(
            host, port, path, store=store, forward_to=forward_to, forward_timeout=forward_timeout,
            on_event=printer, option="--port",
        ) as listener:
            state["listener"] = listener
            for signum in handled:
                loop.add_signal_handler(signum, on_signal, signum)
            for line in banner(listener, forward_to=forward_to, forward_timeout=forward_timeout,
                               store_path=store.path):
                out.warn(line)
            probing = loop.create_task(_warn_if_unreachable(out, listener, forward_to)) if forward_to else None
            await stop.wait()
            if probing is not None and not probing.done():
                probing.cancel()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    out.warn(listener.summary.line())
    return int(ExitCode.INTERRUPTED) if len(signals) > 1 else 0


async def _warn_if_unreachable(out: Output, listener: Listener, url: str) -> None:
    problem = await listener.receiver.probe_forward_target()
    if problem:
        out.warn(f"warning: --forward-to {url}: {problem}; callbacks are still received and shown")


def run_listen(
    out: Output,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/",
    forward_to: str | None = None,
    forward_timeout: float = 10.0,
    json_mode: bool = False,
    store: CallbackStore | None = None,
) -> int:
    """Run the listener until stopped; returns the exit code (0, or 130 after a forced stop)."""
    own = store is None
    store = store if store is not None else CallbackStore.open_default()
    try:
        return asyncio.run(
            _listen(out, host=host, port=port, path=path, forward_to=forward_to,
                    forward_timeout=forward_timeout, json_mode=json_mode, store=store)
        )
    finally:
        if own:
            store.close()
