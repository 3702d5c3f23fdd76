"""What a command needs to talk to MoMo, built on first use: settings, journal and client.

    session = Session(app, out)
    async with session.client("collection") as client:
        ...

`client(*products)` provisions API users by itself on an emulator (`local` or loopback) for the
products that have no credentials configured, and says once on stderr when no real money moves.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator

from momo_cli.context import AppContext
from momo_cli.output import Output

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.api.client import MomoClient
    from momo_cli.journal.store import Journal

LOCAL_NOTICE = "momo: using the built-in MoMo emulator (local): no real money moves."
LOOPBACK_NOTICE = "momo: using the MoMo emulator at {url}: no real money moves."


class Session:
    def __init__(self, app: AppContext, out: Output) -> None:
        self.app = app
        self.out = out
        self._journal: Journal | None = None
        self._announced = False

    @property
    def settings(self):
        return self.app.settings()

    @property
    def environment_label(self) -> str:
        """The target environment as people should read it, e.g. `sandbox (local emulator)`."""
        s = self.settings
        from momo_cli.api.selfprovision import is_emulator_url

        if s.is_local:
            return f"{s.target_environment} (local emulator)"
        if is_emulator_url(s.base_url):
            return f"{s.target_environment} (emulator at {s.base_url})"
        return s.target_environment

    @property
    def on_emulator(self) -> bool:
        from momo_cli.api.selfprovision import is_emulator_url

        return is_emulator_url(self.settings.base_url)

    def announce(self) -> None:
        """Say once, on stderr, that this is an emulator (nothing for real MoMo hosts)."""
        if self._announced or not self.on_emulator:
            return
        s = self.settings
        from momo_cli.api.hosts import check_base_url

        # A base URL that will be refused is refused first, in one line, and never quoted here
        # (it may carry a user name and password).
        check_base_url(s.base_url, allow_any_host=self.app.allow_any_host)
        self._announced = True
        self.out.info(LOCAL_NOTICE if s.is_local else LOOPBACK_NOTICE.format(url=s.base_url))

    def journal(self) -> "Journal":
        if self._journal is None:
            from momo_cli.config.paths import ensure_private_dir
            from momo_cli.journal.store import Journal, journal_path

            ensure_private_dir(self.settings.data_dir)
            self._journal = Journal(journal_path(self.settings.data_dir))
        return self._journal

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    @asynccontextmanager
    async def client(self, *products: str) -> AsyncIterator["MomoClient"]:
        """A MomoClient; on an emulator, `products` without credentials get self-provisioned users."""
        from momo_cli.api.factory import build_client, local_emulator_transport

        s = self.settings
        self.announce()
        transport = local_emulator_transport(s.data_dir, s.target_environment) if s.is_local else None
        chosen = await self._self_provisioned(products, transport)
        client = build_client(
            s, allow_any_host=self.app.allow_any_host, transport=transport,
            credentials=self._lookup(chosen) if self.on_emulator else None,
        )
        async with client:
            await self._check_self_provisioned(client, chosen, transport)
            yield client

    async def _self_provisioned(self, products: tuple[str, ...], transport: Any, *, renew: bool = False):
        """On an emulator: the remembered (or new) API users of `products` without configured credentials."""
        s = self.settings
        if not self.on_emulator:
            return {}
        from momo_cli.api.selfprovision import SelfProvisioned, callback_host_for, provision_for

        store = SelfProvisioned(s.data_dir)
        chosen = {}
        for product in products:
            if s.credentials(product).complete:
                continue
            creds = None if renew else store.get(s.base_url, product, callback_host_for(s.callback_host))
            if creds is None:
                creds = await provision_for(
                    s.base_url, product, store,
                    callback_host=s.callback_host, transport=transport, timeout=float(s.timeout),
                )
            chosen[product] = creds
        return chosen

    async def _check_self_provisioned(self, client, chosen: dict, transport: Any) -> None:
        """An emulator that was reset has forgotten our users: make new ones instead of failing.

        Costs no request while a cached token is valid; otherwise it is the token call the command
        needs anyway. A token call refused with 429 cannot tell: the check is skipped, and the
        request's own token call meets the rate limit after the request is journaled, where the
        journal's rules wait it out (failing here would end the command with nothing journaled).
        """
        from momo_cli.errors import AuthError, RateLimited

        for product in list(chosen):
            try:
                await client.ensure_token(product)
            except RateLimited:
                continue
            except AuthError:
                renewed = await self._self_provisioned((product,), transport, renew=True)
                chosen.update(renewed)
                client.forget_credentials(product)
                await client.ensure_token(product, refresh=True)

    def _lookup(self, chosen: dict):
        """Credentials by product: the self-provisioned ones chosen, else the configured ones (or exit 3)."""
        s = self.settings

        def lookup(product: str):
            if product in chosen:
                return chosen[product]
            return s.require_credentials(product)

        return lookup


def app_context(obj: Any) -> AppContext:
    """The command's AppContext (click's `obj`), or a default one when a command runs on its own."""
    return obj if isinstance(obj, AppContext) else AppContext()
