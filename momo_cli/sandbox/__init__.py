"""The MoMo emulator: a faithful local stand-in for the MTN MoMo Open API sandbox.

`EmulatorConfig` is light; `create_app` (starlette) and `local_transport` (httpx) are imported on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from momo_cli.sandbox.config import EmulatorConfig

if TYPE_CHECKING:  # pragma: no cover
    import httpx
    from starlette.applications import Starlette

__all__ = ["EmulatorConfig", "create_app", "local_transport"]


def create_app(config: EmulatorConfig, **kwargs: Any) -> "Starlette":
    from momo_cli.sandbox.app import create_app as _create_app

    return _create_app(config, **kwargs)


def local_transport(config: EmulatorConfig) -> "httpx.AsyncBaseTransport":
    from momo_cli.sandbox.transport import local_transport as _local_transport

    return _local_transport(config)
