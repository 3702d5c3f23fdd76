"""`momo doctor`: check the configuration, the credentials and the way to the API, one line per check.

Checks, in order (later ones need the earlier ones):

* config dir, config file, credentials file: found, readable, permissions right;
* profile: which one, and how it was chosen (loading every setting, so a bad value shows here);
* base URL: allowed (an MTN host, `local`, loopback); target environment and its currency;
* each product's credentials: present (on an emulator, self-provisioned ones are fine);
* base URL reachable (a TCP connection; `local` needs none);
* each product's token: a fresh access token is obtainable with those credentials;
* each product's callback host: the configured callback_host is the API user's providerCallbackHost.

The exit code is the worst failure's: 3 configuration, 4 credentials refused, 6 network. No secret is
ever printed: credentials are described by where they come from, and API errors are already scrubbed.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import click

from momo_cli.config import keys as K
from momo_cli.context import AppContext
from momo_cli.errors import ConfigError, MomoCliError, NotFound
from momo_cli.exitcodes import ExitCode

CONFIG = int(ExitCode.CONFIG)
AUTH = int(ExitCode.AUTH)
NETWORK = int(ExitCode.NETWORK)
#: Seconds the reachability check waits for a TCP connection.
CONNECT_TIMEOUT = 5.0
SANDBOX_HOST = "sandbox.momodeveloper.mtn.com"


@dataclass
class Check:
    check: str
    ok: bool
    detail: str
    code: int = 0  # the exit code this failure stands for

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


class Report:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def ok(self, name: str, detail: str) -> Check:
        check = Check(name, True, detail)
        self.checks.append(check)
        return check

    def fail(self, name: str, detail: str, code: int = CONFIG) -> Check:
        check = Check(name, False, detail, code)
        self.checks.append(check)
        return check

    def error(self, name: str, error: MomoCliError) -> Check:
        code = int(error.exit_code)
        if code not in (CONFIG, AUTH, NETWORK):
            code = CONFIG if code in (int(ExitCode.USAGE), int(ExitCode.API_REJECTED)) else code
        return self.fail(name, error.one_line(), code)

    @property
    def exit_code(self) -> int:
        return max((c.code for c in self.checks if not c.ok), default=0)


def _ctx(obj: Any) -> AppContext:
    return obj if isinstance(obj, AppContext) else AppContext()


def _mode(path: Any) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- files -------------------------------------------------------------------------------------------


def check_files(report: Report) -> bool:
    """Config dir, config.toml, credentials.toml. False when the store cannot be used."""
    from momo_cli.config.store import ProfileStore, check_private_file, read_toml

    store = ProfileStore()
    directory = store.directory
    if not directory.exists():
        report.ok("config dir", f"{directory} does not exist yet: nothing saved, defaults apply")
        return True
    if not directory.is_dir():
        report.fail("config dir", f"{directory} is not a directory (set MOMO_CONFIG_DIR to a directory)")
        return False
    if not os.access(directory, os.R_OK | os.X_OK):
        report.fail("config dir", f"{directory} cannot be read (run `chmod 700 {directory}`)")
        return False
    mode = _mode(directory)
    if mode & 0o022:
        report.fail(
            "config dir",
            f"{directory} is writable by group or others (mode {mode:04o}): run `chmod 700 {directory}`",
        )
    elif mode & 0o077:
        report.ok("config dir", f"{directory} (mode {mode:04o}; `chmod 700 {directory}` keeps it private)")
    else:
        report.ok("config dir", f"{directory} (mode {mode:04o})")

    usable = True
    try:
        doc = read_toml(store.config_path)
    except ConfigError as error:
        report.error("config file", error)
        usable = False
    else:
        if store.config_path.exists():
            profiles = doc.get("profiles") if isinstance(doc.get("profiles"), dict) else {}
            report.ok("config file", f"{store.config_path} ({len(profiles)} profile{'s' if len(profiles) != 1 else ''})")
        else:
            report.ok("config file", f"{store.config_path} not present: defaults apply")

    try:
        check_private_file(store.credentials_path)
        read_toml(store.credentials_path)
    except ConfigError as error:
        report.error("credentials file", error)
        usable = False
    else:
        if store.credentials_path.exists():
            report.ok("credentials file", f"{store.credentials_path} (mode {_mode(store.credentials_path):04o})")
        else:
            report.ok("credentials file", f"{store.credentials_path} not present: no secrets saved")
    return usable


# -- settings ----------------------------------------------------------------------------------------

_CHOSEN = {
    "flag": "chosen with --profile",
    "config.toml": "the active profile, set with `momo profile use`",
    "default": "the default profile",
    ".env": "chosen by MOMO_PROFILE in .env",
}


def check_settings(report: Report, app: AppContext) -> Any:
    """Load the settings (any bad value fails here). Returns them, or None."""
    try:
        settings = app.settings()
    except MomoCliError as error:
        report.error("profile", error)
        return None
    source = settings.source("profile")
    chosen = _CHOSEN.get(source, f"chosen by {source.removeprefix('env ')}")
    extra = f"; .env read from {settings.env_file}" if settings.env_file else ""
    report.ok("profile", f"{settings.profile}: {chosen}{extra}")
    return settings


def check_base_url(report: Report, settings: Any, allow_any_host: bool) -> str | None:
    from urllib.parse import urlsplit

    from momo_cli.api.hosts import check_base_url as check, is_loopback_host, is_mtn_host

    source = settings.source("base_url")
    try:
        base_url = check(settings.base_url, allow_any_host=allow_any_host)
    except MomoCliError as error:
        report.fail("base URL", f"{error.one_line()} (from {source})", CONFIG)
        return None
    if base_url == "local":
        report.ok("base URL", f"local: the built-in emulator, no real money (from {source})")
        return base_url
    host = urlsplit(base_url).hostname or ""
    if is_loopback_host(host):
        kind = "loopback (an emulator such as `momo sandbox serve`)"
    elif is_mtn_host(host):
        kind = "the MTN sandbox" if host == SANDBOX_HOST else "an MTN host"
    else:
        kind = "allowed by --allow-any-host"
    report.ok("base URL", f"{base_url}: {kind} (from {source})")
    return base_url


def check_environment(report: Report, settings: Any, base_url: str) -> None:
    from urllib.parse import urlsplit

    from momo_cli.money import ENVIRONMENT_CURRENCY

    environment = settings.target_environment
    currency = ENVIRONMENT_CURRENCY.get(environment, "?")
    source = settings.source("target_environment")
    host = urlsplit(base_url).hostname if base_url != "local" else None
    if host == SANDBOX_HOST and environment != "sandbox":
        report.fail(
            "target environment",
            f"{environment} (from {source}), but the MTN sandbox takes only 'sandbox': "
            "set MOMO_TARGET_ENVIRONMENT=sandbox, or a production base URL",
        )
        return
    report.ok("target environment", f"{environment}, currency {currency} (from {source})")


# -- credentials -------------------------------------------------------------------------------------


def _products(choice: str | None, settings: Any, on_emulator: bool) -> list[str]:
    if choice and choice != "all":
        return [choice]
    if choice == "all" or on_emulator:
        return list(K.PRODUCTS)
    configured = [p for p in K.PRODUCTS if any(getattr(settings.credentials(p), f) for f in K.CREDENTIAL_FIELDS)]
    return configured or list(K.PRODUCTS)


def _sources(settings: Any, product: str) -> str:
    seen: list[str] = []
    for field in K.CREDENTIAL_FIELDS:
        source = settings.source(f"{product}.{field}")
        if source not in seen:
            seen.append(source)
    return ", ".join(seen)


def check_credentials(report: Report, settings: Any, products: list[str], base_url: str, on_emulator: bool) -> dict[str, Any]:
    """Each product's credentials; returns {product: credentials to test} (self-provisioned included)."""
    from momo_cli.api.selfprovision import SelfProvisioned

    usable: dict[str, Any] = {}
    self_provisioned = SelfProvisioned(settings.data_dir) if on_emulator else None
    for product in products:
        name = f"{product} credentials"
        creds = settings.credentials(product)
        if creds.complete:
            report.ok(name, f"user id {creds.user_id}, API key and subscription key set (from {_sources(settings, product)})")
            usable[product] = creds
            continue
        if on_emulator:
            try:
                found = self_provisioned.get(base_url, product) if self_provisioned else None
            except MomoCliError as error:
                report.error(name, error)
                continue
            if found is not None:
                report.ok(name, f"self-provisioned on the emulator: user id {found.user_id}")
                usable[product] = found
            else:
                report.ok(name, "none configured: the emulator gets its own API user on first use")
                usable[product] = None
            continue
        missing = creds.missing()
        variables = ", ".join(K.ENV_NAMES[f"{product}.{field}"].primary for field in missing)
        report.fail(
            name,
            f"missing {', '.join(missing)} for profile {settings.profile}: set {variables}, "
            f"or run `momo provision --product {product}` (sandbox)",
            CONFIG,
        )
    return usable


# -- network -----------------------------------------------------------------------------------------


def check_reachable(report: Report, base_url: str) -> bool:
    import socket
    import time
    import urllib.request
    from urllib.parse import urlsplit

    if base_url == "local":
        report.ok("base URL reachable", "in-process: no network needed")
        return True
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        report.ok("base URL reachable", f"through the proxy {_proxy_shown(proxy)}: the token checks below try it")
        return True
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, socket.timeout):
            reason = f"no answer in {CONNECT_TIMEOUT:g} s"
        hint = "is `momo sandbox serve` running on that port?" if host in ("127.0.0.1", "localhost", "::1") else \
            "check your connection, DNS and firewall"
        report.fail("base URL reachable", f"cannot connect to {host}:{port}: {reason} ({hint})", NETWORK)
        return False
    elapsed = (time.perf_counter() - started) * 1000
    report.ok("base URL reachable", f"{host}:{port} accepted a connection in {elapsed:.0f} ms")
    return True


def _proxy_shown(proxy: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(proxy)
    return f"{parts.hostname}:{parts.port}" if parts.hostname and parts.port else (parts.hostname or "set")


async def check_api(
    report: Report, session: Any, settings: Any, base_url: str, usable: dict[str, Any], allow_any_host: bool
) -> None:
    """Tokens for every product with credentials, then each API user's providerCallbackHost."""
    products = list(usable)
    if not products:
        return
    try:
        async with session.client(*products) as client:
            for product in products:
                try:
                    remaining = await client.ensure_token(product, refresh=True)
                except MomoCliError as error:
                    report.error(f"{product} token", error)
                else:
                    report.ok(f"{product} token", f"a fresh access token, valid for {remaining:.0f} s")
    except MomoCliError as error:  # self-provisioning on an emulator failed
        for product in products:
            report.error(f"{product} token", error)
        return

    from momo_cli.api.selfprovision import SelfProvisioned

    if settings.target_environment != "sandbox" and base_url != "local":
        from momo_cli.api.selfprovision import is_emulator_url

        if not is_emulator_url(base_url):
            for product in products:
                report.ok(f"{product} callback host",
                          "not checked: API users can be read back only in the sandbox")
            return
    transport = None
    if base_url == "local":
        from momo_cli.api.factory import local_emulator_transport

        transport = local_emulator_transport(settings.data_dir, settings.target_environment)
    from momo_cli.api.provisioning import check_callback_host, get_api_user

    configured = settings.callback_host
    configured_host = None
    if configured:
        try:
            configured_host = check_callback_host(configured)
        except MomoCliError:
            configured_host = None
    for product in products:
        name = f"{product} callback host"
        creds = usable[product]
        if creds is None:  # self-provisioned just now by session.client
            creds = SelfProvisioned(settings.data_dir).get(base_url, product)
        if creds is None or not creds.user_id or not creds.subscription_key:
            continue
        try:
            user = await get_api_user(
                base_url, creds.subscription_key, creds.user_id, transport,
                timeout=float(settings.timeout), allow_any_host=allow_any_host,
            )
        except NotFound:
            report.fail(name, f"API user {creds.user_id} is not known at {base_url}: check the user id "
                              "(or provision a new user)", CONFIG)
            continue
        except MomoCliError as error:
            report.error(name, error)
            continue
        registered = (user.provider_callback_host or "").rstrip(".").lower() or None
        if configured is None:
            report.ok(name, f"the API user's providerCallbackHost is {registered or '-'} "
                            "(callback_host is not set: callback URLs must be on that host)")
        elif configured_host is None:
            report.fail(name, f"callback_host {configured!r} (from {settings.source('callback_host')}) "
                              "is not a host name", CONFIG)
        elif registered and configured_host != registered:
            report.fail(
                name,
                f"callback_host is {configured_host} (from {settings.source('callback_host')}) but the API user's "
                f"providerCallbackHost is {registered}: MoMo refuses callback URLs on {configured_host} "
                f"(INVALID_CALLBACK_URL_HOST); set callback_host to {registered}, or provision a user with "
                f"--provider {configured_host}",
                CONFIG,
            )
        else:
            report.ok(name, f"{configured_host} is the API user's providerCallbackHost")


# -- the command -------------------------------------------------------------------------------------


@click.command("doctor")
@click.option("--product", type=click.Choice((*K.PRODUCTS, "all"), case_sensitive=False), default=None,
              help="Check this product only, or all three (default: those with credentials; all on an emulator).")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON list of {check, ok, detail}.")
@click.pass_obj
def doctor(obj, product: str | None, json_mode: bool) -> None:
    """Check configuration, credentials and connectivity, one line per check.

    \b
    Exit status: 0 when every check passes; otherwise the worst failure's code:
    3 configuration, 4 credentials refused, 6 network.
    """
    app = _ctx(obj)
    out = app.output(json_mode=json_mode)
    report = Report()
    product = product.lower() if product else None
    _run_checks(report, app, out, product)
    _print(out, report)
    if report.exit_code:
        raise click.exceptions.Exit(report.exit_code)


def _run_checks(report: Report, app: AppContext, out: Any, product: str | None) -> None:
    if not check_files(report):
        return
    settings = check_settings(report, app)
    if settings is None:
        return
    base_url = check_base_url(report, settings, app.allow_any_host)
    if base_url is None:
        return
    check_environment(report, settings, base_url)
    from momo_cli.api.selfprovision import is_emulator_url

    on_emulator = is_emulator_url(base_url)
    products = _products(product, settings, on_emulator)
    usable = check_credentials(report, settings, products, base_url, on_emulator)
    if not check_reachable(report, base_url):
        for name in usable:
            report.fail(f"{name} token", "not tried: the base URL is unreachable", NETWORK)
        return
    import asyncio

    from momo_cli.commands._session import Session

    session = Session(app, out)
    asyncio.run(check_api(report, session, settings, base_url, usable, app.allow_any_host))


def _print(out: Any, report: Report) -> None:
    if out.json_mode:
        out.json([check.as_json() for check in report.checks])
        return
    fancy = out.stdout_is_tty
    width = max((len(check.check) for check in report.checks), default=0)
    for check in report.checks:
        if fancy:
            mark = "✓" if check.ok else "✗"
            if out.color:
                mark = click.style(mark, fg="green" if check.ok else "red", bold=True)
        else:
            mark = "ok  " if check.ok else "FAIL"
        out.line(f"{mark} {check.check:<{width}}  {check.detail}")
    failed = sum(1 for check in report.checks if not check.ok)
    if failed:
        out.info(f"momo doctor: {failed} of {len(report.checks)} checks failed")
    else:
        out.info(f"momo doctor: all {len(report.checks)} checks passed")
