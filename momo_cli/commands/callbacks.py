"""`momo callbacks`: receive callbacks locally (listen), forward them to your app, list and replay them.

Thin: options are checked here, the work is in momo_cli.callbacks (imported when a command runs).
"""

from __future__ import annotations

import click

from momo_cli.context import AppContext
from momo_cli.errors import NetworkError, UsageError

LISTEN_EPILOG = """\b
Examples:
  momo callbacks listen --port 8000 --path /momo
  momo callbacks listen --forward-to http://127.0.0.1:3000/momo/callback
  momo callbacks listen --json | jq .status

Pass the printed URL as X-Callback-Url (`--callback-url` on money commands). Its host must match
the API user's providerCallbackHost. Events go to stdout (NDJSON with --json); the banner and the
summary printed on Ctrl-C go to stderr. Ctrl-C or SIGTERM stops the listener: exit 0 (a second
Ctrl-C stops at once: exit 130).
"""


def _ctx(obj: AppContext | None) -> AppContext:
    return obj if isinstance(obj, AppContext) else AppContext()


@click.group()
def callbacks() -> None:
    """Receive, forward and replay MoMo callbacks.

    MoMo calls back (POST for v1 operations, PUT for v2) with the transaction's status body when a
    request sent with X-Callback-Url reaches its final state, at least once.
    """


@callbacks.command(epilog=LISTEN_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--path", default="/", show_default=True,
              help="Only accept callbacks under this path prefix (others get 404).")
@click.option("--forward-to", metavar="URL",
              help="Pass each callback on to your app at this URL (as given: the path is not appended).")
@click.option("--forward-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS", help="How long to wait for your app's answer.")
@click.option("--json", "json_mode", is_flag=True, help="One JSON object per callback on stdout (NDJSON).")
@click.pass_obj
def listen(obj, host, port, path, forward_to, forward_timeout, json_mode):
    """Receive callbacks: print each one, mark duplicates, forward them to your app."""
    from momo_cli.callbacks.forward import check_url
    from momo_cli.callbacks.listen import run_listen

    if forward_to:
        check_url(forward_to, option="--forward-to")
        _refuse_self_forwarding(forward_to, host, port)
    if not path.startswith("/"):
        raise UsageError(f"--path: {path!r} must start with '/'", hint="for example --path /momo")
    out = _ctx(obj).output(json_mode=json_mode)
    code = run_listen(out, host=host, port=port, path=path, forward_to=forward_to,
                      forward_timeout=forward_timeout, json_mode=json_mode)
    click.get_current_context().exit(code)


@callbacks.command("list")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Show the last N callbacks.")
@click.option("--all", "show_all", is_flag=True, help="Show every callback received.")
@click.option("--json", "json_mode", is_flag=True, help="A JSON array of the callbacks on stdout.")
@click.pass_obj
def list_(obj, last, show_all, json_mode):
    """List the callbacks received in this data dir (newest last)."""
    from momo_cli.callbacks.events import dumps_json
    from momo_cli.callbacks.store import FILE_NAME, CallbackStore, default_data_dir

    out = _ctx(obj).output(json_mode=json_mode)
    path = default_data_dir() / FILE_NAME
    events = []
    if path.exists():
        with CallbackStore(path) as store:
            events = store.last(None if show_all else last)
    if json_mode:
        out.line("[" + ",".join(dumps_json(event.to_dict()) for event in events) + "]")
        return
    if not events:
        out.info("No callbacks received yet: start `momo callbacks listen`.")
        return
    from momo_cli.callbacks.render import list_line

    for event in events:
        out.console.print(list_line(event), soft_wrap=True)


@callbacks.command()
@click.argument("ids", nargs=-1, metavar="[ID ...]")
@click.option("--to", "to_url", metavar="URL", help="Your app's callback URL (required).")
@click.option("--last", type=click.IntRange(min=1), metavar="N", help="Replay the last N callbacks received.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS", help="How long to wait for each answer.")
@click.option("--json", "json_mode", is_flag=True, help="The results as one JSON array on stdout.")
@click.pass_obj
def replay(obj, ids, to_url, last, timeout, json_mode):
    """Send received callbacks to your app again, with their original method, headers and body.

    ID is a sequence number (3 or #3) or a fingerprint prefix (4+ hex digits), as `momo callbacks
    list` shows them. Exit 0 when your app answered 2xx to each, 5 when it answered anything
    else, 6 when it could not be reached.
    """
    from momo_cli.callbacks.forward import check_url
    from momo_cli.callbacks.replay import replay as send, select
    from momo_cli.callbacks.store import FILE_NAME, CallbackStore, default_data_dir

    if not to_url:
        raise UsageError("--to URL is required: the address of your app's callback handler",
                         hint="for example --to http://127.0.0.1:3000/momo/callback")
    check_url(to_url, option="--to")
    out = _ctx(obj).output(json_mode=json_mode)
    path = default_data_dir() / FILE_NAME
    if not path.exists() and not any(_looks_like_reference(i) for i in ids):
        raise UsageError("no callbacks received yet: nothing to replay",
                         hint="start `momo callbacks listen` and send a request with its callback URL")
    with CallbackStore(path) as store:
        items = select(store, ids, last)
    outcomes = send(items, to_url, timeout=timeout)
    if json_mode:
        from momo_cli.callbacks.events import dumps_json

        out.line("[" + ",".join(dumps_json(o.to_dict()) for o in outcomes) + "]")
    else:
        from momo_cli.callbacks.render import replay_line

        for outcome in outcomes:
            out.console.print(replay_line(outcome.item.event, outcome.item.raw.method, outcome.item.label,
                                          outcome.result), soft_wrap=True)
    unreachable = [o for o in outcomes if o.result.error]
    refused = [o for o in outcomes if not o.result.error and not o.result.ok]
    if unreachable:
        raise NetworkError(f"{len(unreachable)} of {len(outcomes)} callbacks not delivered: "
                           f"{unreachable[0].result.error}")
    if refused:
        from momo_cli.errors import ApiError

        raise ApiError(f"your app answered {refused[0].result.status} to {len(refused)} of "
                       f"{len(outcomes)} callbacks", status=refused[0].result.status)


def _refuse_self_forwarding(url: str, host: str, port: int) -> None:
    """Forwarding to the listener itself would forward every callback again, for ever."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target_port = parts.port or (443 if parts.scheme == "https" else 80)
    local = {host, "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}
    if target_port == port and (parts.hostname or "") in local:
        raise UsageError(f"--forward-to {url} points at this listener itself",
                         hint="give the URL of your app's callback handler, on another port")


def _looks_like_reference(text: str) -> bool:
    from momo_cli.money import is_uuid

    return is_uuid(text.strip())
