"""The local callback receiver: listen, print, store, forward and replay MoMo callbacks.

Importing this package costs nothing; the names below load their module (and starlette, uvicorn or
httpx) on first use:

    from momo_cli.callbacks import listening, matching

- `listening(host, port, path, *, store=None, forward_to=None, on_event=None)`: an async context
  manager that serves the listener in the running event loop and yields a `Listener`
  (`callback_url`, `wait_for(predicate, timeout)`, `events`, `summary`).
- `matching(external_id=, amount=, currency=, party_id=, final_only=)`: a predicate for `wait_for`.
- `CallbackStore`: the received callbacks of the data dir; `create_app(sink, path=)`: the ASGI app.
- `callback_body(entry)` / `callback_request(entry)`: the callback MoMo sends for a final status.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "listening": "momo_cli.callbacks.server",
    "Listener": "momo_cli.callbacks.server",
    "bind_socket": "momo_cli.callbacks.server",
    "matching": "momo_cli.callbacks.receiver",
    "Receiver": "momo_cli.callbacks.receiver",
    "Summary": "momo_cli.callbacks.receiver",
    "CallbackStore": "momo_cli.callbacks.store",
    "default_data_dir": "momo_cli.callbacks.store",
    "CallbackEvent": "momo_cli.callbacks.events",
    "RawCallback": "momo_cli.callbacks.events",
    "create_app": "momo_cli.callbacks.app",
    "callback_body": "momo_cli.callbacks.bodies",
    "callback_request": "momo_cli.callbacks.bodies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
