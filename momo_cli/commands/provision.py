"""`momo provision`: create sandbox API users and keys, save them, and read a user back.

    momo provision --provider HOST --key SUBSCRIPTION_KEY [--product P|all] [--profile NAME]
                   [--env-file PATH] [--json]
    momo provision show [USER_ID] [--product P] [--json]

Provisioning is three requests (create the user, read it back, create its key; no sleeping), done by
momo_cli.api.provisioning against the settings' base URL: the MTN sandbox, or an emulator (`local`, or
a loopback `momo sandbox serve`). The new API key is printed once, here, and never again.

`legacy_command` is the older tool's `mtnmomo [--provider HOST] [--key KEY]` (cli.legacy_main runs it):
same prompts, same one-line answer, but three requests instead of a 5-second sleep, the current sandbox
host, TLS checked, and one clear line on failure.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import click

from momo_cli.config import keys as K
from momo_cli.context import AppContext
from momo_cli.errors import ConfigError, InvalidInput, MomoCliError, UsageError

#: The current sandbox (momo-api.md section 1.1): where `mtnmomo` provisions when no base URL is set.
SANDBOX_URL = "https://sandbox.momodeveloper.mtn.com"
#: The older package's hard-coded host, retired with Azure API Management.
RETIRED_HOST_RE = re.compile(r"(?i)^https?://ericssonbasicapi\d*\.azure-api\.net")
#: providerCallbackHost of users created on an emulator when nobody says otherwise.
EMULATOR_CALLBACK_HOST = "127.0.0.1"

PRODUCT_CHOICES = (*K.PRODUCTS, "all")

PROVISION_EPILOG = """\b
Examples:
  momo --base-url https://sandbox.momodeveloper.mtn.com provision --provider webhook.example.com
  MOMO_COLLECTION_SUBSCRIPTION_KEY=... momo provision --provider webhook.example.com --json
  momo provision --product all --provider webhook.example.com --key KEY --env-file .env
  momo provision show 3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70

\b
The subscription key is the product's Primary key from momodeveloper.mtn.com/developer; give it with
--key, in MOMO_<PRODUCT>_SUBSCRIPTION_KEY (or the older <PRODUCT>_PRIMARY_KEY), or type it when asked.
Provisioning goes to the base URL of the settings: the built-in emulator (`local`, the default), a
`momo sandbox serve` on loopback, or the MTN sandbox. On an emulator any subscription key will do.
The API key is shown once: it cannot be read back (run provision again for a new user and key).
"""


def _ctx(obj: Any) -> AppContext:
    return obj if isinstance(obj, AppContext) else AppContext()


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


# -- inputs ------------------------------------------------------------------------------------------


def check_provider_host(value: str | None, *, field: str = "--provider") -> str:
    """A providerCallbackHost as typed by a person: a bare host, not a URL (InvalidInput, exit 2)."""
    from urllib.parse import urlsplit

    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, "is empty", hint="give the host that will receive callbacks, e.g. webhook.example.com")
    if "://" in text or any(ch in text for ch in "/?#"):
        try:
            host = urlsplit(text if "://" in text else "//" + text).hostname
        except ValueError:
            host = None
        example = f" ({host})" if host else ""
        raise InvalidInput(
            field,
            f"{text!r} is a URL: pass just the host{example}, without scheme or path",
            hint="the callback URLs you send later (--callback-url) must be on this host",
        )
    if ":" in text:
        raise InvalidInput(field, f"{text!r}: pass just the host, without a port")
    from momo_cli.api.provisioning import check_callback_host

    return check_callback_host(text)


def _settled_host(value: str) -> str:
    """A callback host from the settings (lenient: a URL there is reduced to its host)."""
    from momo_cli.api.provisioning import check_callback_host

    return check_callback_host(value)


def _products(choice: str | None) -> list[str]:
    product = (choice or "collection").lower()
    return list(K.PRODUCTS) if product == "all" else [K.check_product(product)]


def _check_key_text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(field, "is empty", hint="copy the Primary key of the product from momodeveloper.mtn.com/developer")
    if any(ch.isspace() for ch in text) or not text.isprintable():
        raise InvalidInput(field, "must be one word without spaces (paste just the key)")
    if not text.isascii():  # it goes in a header: a pasted curly quote would fail there
        raise InvalidInput(field, "has a character that is not ASCII (a pasted quote?): paste just the key")
    return text


def _subscription_key(product: str, flag: str | None, settings: Any, out: Any, *, on_emulator: bool) -> tuple[str, str]:
    """(key, where it came from): --key, else the settings (environment, .env, profile), else a prompt."""
    if flag is not None:
        return _check_key_text(flag, "--key"), "--key"
    configured = settings.credentials(product).subscription_key
    if configured:
        return _check_key_text(configured, f"{product} subscription key"), settings.source(f"{product}.subscription_key")
    if on_emulator:
        import secrets

        return secrets.token_hex(16), "generated (the emulator takes any key)"
    variable = K.ENV_NAMES[f"{product}.subscription_key"].primary
    if out.interactive:
        value = click.prompt(f"{product} subscription key (Ocp-Apim-Subscription-Key)", hide_input=True, err=True)
        return _check_key_text(value, f"{product} subscription key"), "prompt"
    raise ConfigError(
        f"no {product} subscription key given, and no terminal to ask for it",
        hint=f"pass --key KEY or set {variable} (the product's Primary key from momodeveloper.mtn.com/developer)",
    )


def _provider(flag: str | None, settings: Any, out: Any, *, on_emulator: bool) -> str:
    """The providerCallbackHost: --provider, else the settings' callback_host, else a prompt."""
    if flag is not None:
        return check_provider_host(flag)
    if settings.callback_host:
        return _settled_host(settings.callback_host)
    if out.interactive:
        default = EMULATOR_CALLBACK_HOST if on_emulator else None
        value = click.prompt("Provider callback host (the host that will receive callbacks)", default=default, err=True)
        return check_provider_host(value, field="provider callback host")
    if on_emulator:
        return EMULATOR_CALLBACK_HOST
    raise ConfigError(
        "no provider callback host given, and no terminal to ask for it",
        hint="pass --provider HOST (the host that will receive callbacks, e.g. webhook.example.com) "
        "or set MOMO_CALLBACK_HOST",
    )


def _transport(base_url: str, settings: Any):
    if base_url != "local":
        return None
    from momo_cli.api.factory import local_emulator_transport

    return local_emulator_transport(settings.data_dir, settings.target_environment)


def _app_for_profile(app: AppContext, name: str | None) -> AppContext:
    """`--profile NAME` of an existing profile reads its settings, as `momo --profile NAME` would."""
    if not name:
        return app
    K.check_profile_name(name)
    from momo_cli.config.store import ProfileStore

    if ProfileStore().exists(name):
        return dataclasses.replace(app, profile=name, _settings=None)
    return app  # a new profile: created with the credentials, on the current settings' base URL


# -- saving ------------------------------------------------------------------------------------------


def _save_to_profile(name: str, settings: Any, results: list[dict[str, Any]], keys_used: dict[str, str]) -> list[str]:
    """Save each product's credentials (and the settings they belong to) in profile `name`.

    Returns the notes to show: values of the profile that changed besides the credentials.
    """
    from momo_cli.config.store import ProfileStore

    store = ProfileStore()
    stored = store.values(name) if store.exists(name) else {}
    notes: list[str] = []
    first = results[0]
    wanted = {
        "base_url": settings.base_url,
        "target_environment": first["target_environment"] or settings.target_environment,
        "callback_host": first["provider_callback_host"],
    }
    for key, value in wanted.items():
        if value is None or stored.get(key) == value:
            continue
        if stored.get(key) is None and K.DEFAULTS.get(key) == value:
            continue  # the default already says so
        before = stored.get(key)
        store.set(name, key, value)
        notes.append(f"{key} {'changed from ' + str(before) + ' to' if before else 'set to'} {value}")
    for result in results:
        store.save_credentials(
            name,
            result["product"],
            user_id=result["user_id"],
            api_key=result["api_key"],
            subscription_key=keys_used[result["product"]],
        )
    return notes


_ENV_LINE_RE = re.compile(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_PLAIN_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:/@+-]*$")


def _env_value(value: str) -> str:
    if _PLAIN_VALUE_RE.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def update_env_file(path: Path, values: dict[str, str]) -> tuple[list[str], bool]:
    """Set `values` in the .env file at `path`: a line that sets a name is replaced, new names are appended.

    The file is written atomically with mode 0600 (it holds secrets). Returns (names that replaced an
    earlier line, whether an existing file was more open than 0600).
    """
    from momo_cli.config.store import atomic_write_text

    path = Path(path)
    loosened = False
    try:
        text = path.read_text(encoding="utf-8")
        loosened = bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except FileNotFoundError:
        text = ""
    except IsADirectoryError:
        raise UsageError(f"--env-file: {path} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = text.splitlines()
    replaced: list[str] = []
    done: set[str] = set()
    for index, line in enumerate(lines):
        found = _ENV_LINE_RE.match(line)
        if not found or found.group(2) not in values:
            continue
        name = found.group(2)
        if name in done:
            lines[index] = ""  # a second line setting the same name would win over ours: drop it
            continue
        lines[index] = f"{found.group(1) or ''}{name}={_env_value(values[name])}"
        replaced.append(name)
        done.add(name)
    missing = [name for name in values if name not in done]
    if missing:
        if lines and lines[-1].strip():
            lines.append("")
        lines.append("# written by `momo provision`")
        lines.extend(f"{name}={_env_value(values[name])}" for name in missing)
    try:
        atomic_write_text(path, "\n".join(lines) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return replaced, loosened


def _env_values(settings: Any, results: list[dict[str, Any]], keys_used: dict[str, str]) -> dict[str, str]:
    first = results[0]
    values = {
        "MOMO_BASE_URL": settings.base_url,
        "MOMO_TARGET_ENVIRONMENT": first["target_environment"] or settings.target_environment,
        "MOMO_CALLBACK_HOST": first["provider_callback_host"],
    }
    for result in results:
        product = result["product"]
        values[K.ENV_NAMES[f"{product}.user_id"].primary] = result["user_id"]
        values[K.ENV_NAMES[f"{product}.api_key"].primary] = result["api_key"]
        values[K.ENV_NAMES[f"{product}.subscription_key"].primary] = keys_used[product]
    return values


# -- the command -------------------------------------------------------------------------------------


@click.group("provision", invoke_without_command=True, epilog=PROVISION_EPILOG)
@click.option("--provider", metavar="HOST",
              help="providerCallbackHost: the host your callbacks go to (default: callback_host of the settings).")
@click.option("--key", metavar="SUBSCRIPTION_KEY",
              help="The product's subscription key (default: from the settings, else asked on a terminal).")
@click.option("--product", type=click.Choice(PRODUCT_CHOICES, case_sensitive=False), default=None,
              help="Product to provision for; 'all' makes one user per product.  [default: collection]")
@click.option("--profile", "profile_name", metavar="NAME",
              help="Save into this profile (created if new) instead of the selected one.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Write MOMO_* lines into this .env file (0600) instead of a profile.")
@click.option("--json", "json_mode", is_flag=True, help="Print JSON (a list for --product all).")
@click.pass_context
def provision(ctx, provider, key, product, profile_name, env_file, json_mode) -> None:
    """Create a sandbox API user and API key, and save them.

    Three requests, no waiting: create the user, read it back, create its key. The user id, API key and
    subscription key are saved in the selected profile (or --profile NAME, or --env-file PATH), and the
    new API key is printed this once.
    """
    if ctx.invoked_subcommand is not None:
        ctx.meta["momo.provision"] = {"key": key, "product": product}
        given = [name for name, value in (("--provider", provider), ("--profile", profile_name),
                                          ("--env-file", env_file)) if value is not None]
        if given or json_mode:
            raise UsageError(
                f"{', '.join(given + (['--json'] if json_mode else []))}: "
                f"give the options of `{ctx.invoked_subcommand}` after it",
                hint=f"momo provision {ctx.invoked_subcommand} --help",
            )
        return
    if profile_name and env_file:
        raise UsageError("--profile and --env-file: choose one place to save the credentials")
    products = _products(product)
    app = _app_for_profile(_ctx(ctx.obj), profile_name)
    out = app.output(json_mode=json_mode)

    from momo_cli.api.hosts import check_base_url
    from momo_cli.api.selfprovision import is_emulator_url
    from momo_cli.commands._session import Session

    session = Session(app, out)
    settings = session.settings
    base_url = check_base_url(settings.base_url, allow_any_host=app.allow_any_host)
    on_emulator = is_emulator_url(base_url)
    if not on_emulator and settings.target_environment != "sandbox":
        raise UsageError(
            f"provisioning exists only in the sandbox; the target environment is {settings.target_environment!r} "
            f"(from {settings.source('target_environment')})",
            hint="production API users and keys come from MTN's Partner Portal: save them with `momo profile set`",
        )
    host = _provider(provider, settings, out, on_emulator=on_emulator)
    keys_used: dict[str, str] = {}
    for name in products:
        keys_used[name], _ = _subscription_key(name, key, settings, out, on_emulator=on_emulator)
    if not on_emulator and key is not None and len(products) > 1:
        out.info("note: one --key for every product; in the MTN sandbox each product has its own subscription key")
    session.announce()
    if settings.is_local and not json_mode:
        out.info(f"momo: provisioning on the built-in emulator; for the MTN sandbox run "
                 f"`momo --base-url {SANDBOX_URL} provision ...`")

    target = None if env_file else (profile_name or settings.profile)
    results: list[dict[str, Any]] = []
    transport = _transport(base_url, settings)
    from momo_cli.api.provisioning import provision_sandbox_user

    for name in products:
        user = _run(provision_sandbox_user(
            base_url, keys_used[name], host,
            transport=transport, timeout=float(settings.timeout), allow_any_host=app.allow_any_host,
        ))
        result = {
            "product": name,
            "user_id": user.user_id,
            "api_key": user.api_key,
            "provider_callback_host": user.provider_callback_host or host,
            "target_environment": user.target_environment or settings.target_environment,
            "profile": target,
            "env_file": str(env_file) if env_file else None,
            "base_url": base_url,
        }
        results.append(result)
        # Saved as soon as it exists: a failure with the next product must not lose this one.
        if env_file is None:
            notes = _save_to_profile(target, settings, [result], keys_used)
        else:
            replaced, loosened = update_env_file(env_file, _env_values(settings, results, keys_used))
            notes = [f"{env_file}: replaced {', '.join(replaced)}"] if replaced and name == products[0] else []
            if loosened:
                notes.append(f"{env_file} was readable by others; it is now 0600")
        if not json_mode:
            _show(out, result, session.environment_label)
        for note in notes:
            out.info(f"note: {note}")

    if json_mode:
        out.json(results if len(products) > 1 else results[0])
        return
    out.line(_saved_line(target, env_file))
    out.line("The API key is shown only this once: it cannot be read back. Keep it secret.")


def _show(out: Any, result: dict[str, Any], environment: str) -> None:
    out.line(f"Created a {result['product']} API user in {environment}:")
    width = 24
    out.line(f"  {'user id':<{width}}{result['user_id']}")
    out.line(f"  {'API key':<{width}}{result['api_key']}")
    out.line(f"  {'provider callback host':<{width}}{result['provider_callback_host']}")
    out.line(f"  {'target environment':<{width}}{result['target_environment']}")


def _saved_line(profile: str | None, env_file: Path | None) -> str:
    if env_file is not None:
        return f"Saved in {env_file} (mode 0600); keep it out of version control."
    from momo_cli.config.store import ProfileStore

    store = ProfileStore()
    return (
        f"Saved in profile {profile}: user id in {store.config_path}, "
        f"API key and subscription key in {store.credentials_path} (mode 0600)."
    )


@provision.command("show")
@click.argument("user_id", required=False)
@click.option("--product", type=click.Choice(K.PRODUCTS, case_sensitive=False), default=None,
              help="Whose subscription key to use (and whose user id, when USER_ID is left out).  [default: collection]")
@click.option("--key", metavar="SUBSCRIPTION_KEY", help="Subscription key (default: the product's, from the settings).")
@click.option("--json", "json_mode", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx, user_id, product, key, json_mode) -> None:
    """Read an API user back: its providerCallbackHost and target environment.

    USER_ID defaults to the product's configured user id. Works in the sandbox and on emulators.
    """
    inherited = (ctx.parent.meta.get("momo.provision") if ctx.parent else None) or {}
    product = (product or inherited.get("product") or "collection").lower()
    if product == "all":
        raise UsageError("show reads one API user: give --product collection, disbursement or remittance")
    key = key if key is not None else inherited.get("key")
    app = _ctx(ctx.find_root().obj)
    out = app.output(json_mode=json_mode)

    from momo_cli.api.hosts import check_base_url
    from momo_cli.api.selfprovision import SelfProvisioned, is_emulator_url
    from momo_cli.commands._session import Session

    session = Session(app, out)
    settings = session.settings
    base_url = check_base_url(settings.base_url, allow_any_host=app.allow_any_host)
    on_emulator = is_emulator_url(base_url)
    creds = settings.credentials(product)
    if not creds.complete and on_emulator:
        creds = SelfProvisioned(settings.data_dir).get(base_url, product) or creds
    if user_id is None:
        user_id = creds.user_id
        if not user_id:
            raise UsageError(
                f"no USER_ID given and no {product} user id configured",
                hint=f"momo provision show USER_ID, or set {K.ENV_NAMES[f'{product}.user_id'].primary}",
            )
    from momo_cli.money import check_reference_id

    user_id = check_reference_id(user_id, field="USER_ID")
    if key is None and creds.subscription_key:
        key = creds.subscription_key
    subscription_key, _ = _subscription_key(product, key, settings, out, on_emulator=on_emulator)
    session.announce()

    from momo_cli.api.provisioning import get_api_user
    from momo_cli.errors import NotFound

    try:
        user = _run(get_api_user(
            base_url, subscription_key, user_id, _transport(base_url, settings),
            timeout=float(settings.timeout), allow_any_host=app.allow_any_host,
        ))
    except NotFound as error:
        where = "the built-in emulator" if base_url == "local" else base_url
        error.hint = (
            f"no API user {user_id} at {where}: check the id and the base URL "
            "(users of the MTN sandbox are not on an emulator, and the other way round)"
        )
        raise
    data = {
        "user_id": user_id,
        "provider_callback_host": user.provider_callback_host,
        "target_environment": user.target_environment,
        "product": product,
        "base_url": base_url,
    }
    if json_mode:
        out.json(data)
        return
    out.line(f"API user {user_id}")
    out.line(f"  {'provider callback host':<24}{data['provider_callback_host'] or '-'}")
    out.line(f"  {'target environment':<24}{data['target_environment'] or '-'}")
    configured = settings.callback_host
    if configured and user.provider_callback_host and _settled_host(configured) != user.provider_callback_host:
        out.warn(
            f"warning: callback_host is {configured} (from {settings.source('callback_host')}) but this user's "
            f"providerCallbackHost is {user.provider_callback_host}: callback URLs on {configured} will be refused"
        )


# -- the older `mtnmomo` command ---------------------------------------------------------------------


class _ContractCommand(click.Command):
    """A stand-alone command with momo's error contract: one line on stderr and the exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        from momo_cli.cli import run_with_error_contract

        code = run_with_error_contract(
            lambda: super(_ContractCommand, self).main(args, prog_name, complete_var, False, **extra),
            prog_name=prog_name or "mtnmomo",
        )
        sys.exit(code)


def _legacy_base_url(environ: Any) -> tuple[str, str]:
    """(base URL, where from): MOMO_BASE_URL, then BASE_URL, then the current sandbox."""
    for name in K.ENV_NAMES["base_url"].in_order():
        value = (environ.get(name) or "").strip()
        if value:
            return value, name
    return SANDBOX_URL, "default"


def _legacy_prompt(text: str, *, secret: bool) -> str:
    stdin_tty = sys.stdin.isatty() if hasattr(sys.stdin, "isatty") else False
    try:
        return click.prompt(text, hide_input=secret and stdin_tty)
    except click.exceptions.Abort:
        if stdin_tty:
            raise
        option = "--key" if secret else "--provider"
        raise UsageError(f"no {text} given", hint=f"pass {option} on the command line") from None


@click.command(
    "mtnmomo",
    cls=_ContractCommand,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Run `mtnmomo --help` (without --provider or --key) for every other command.",
)
@click.option("--provider", metavar="HOST", help="providerCallBackHost: the host that will receive callbacks.")
@click.option("--key", metavar="KEY", help="Ocp-Apim-Subscription-Key: the product's Primary key.")
def legacy_command(provider: str | None, key: str | None) -> None:
    """Create a sandbox API user and API key, as the older `mtnmomo` command did.

    Asks for what is missing, then prints `Here is your User Id and API secret : {...}`. The host is
    MOMO_BASE_URL, else BASE_URL, else https://sandbox.momodeveloper.mtn.com. Nothing is saved: use
    `momo provision` to save the credentials in a profile.
    """
    if provider is None:
        provider = _legacy_prompt("providerCallBackHost", secret=False)
    if key is None:
        key = _legacy_prompt("Ocp-Apim-Subscription-Key", secret=True)
    from momo_cli.api.provisioning import check_callback_host

    host = check_callback_host(provider)
    subscription_key = _check_key_text(key, "--key")
    base_url, source = _legacy_base_url(os.environ)
    from momo_cli.api.hosts import check_base_url

    base_url = check_base_url(base_url)
    if RETIRED_HOST_RE.match(base_url):
        click.echo(
            f"mtnmomo: note: {source} points at {base_url}, the retired host; "
            f"unset it to use {SANDBOX_URL}",
            err=True,
        )
    transport = None
    if base_url == "local":
        from momo_cli.api.factory import local_emulator_transport
        from momo_cli.config import paths

        names = K.ENV_NAMES["target_environment"].in_order()
        found = next(((n, os.environ[n]) for n in names if (os.environ.get(n) or "").strip()), None)
        environment = "sandbox"
        if found is not None:
            environment = K.normalize_value("target_environment", found[1], origin=f"environment variable {found[0]}")
        transport = local_emulator_transport(paths.data_dir(), environment)
    from momo_cli.api.provisioning import provision_sandbox_user

    try:
        user = _run(provision_sandbox_user(base_url, subscription_key, host, transport=transport))
    except MomoCliError as error:
        if RETIRED_HOST_RE.match(base_url) and not error.hint:
            error.hint = f"that host was retired: unset {source} to use {SANDBOX_URL}"
        raise
    secret = {"UserId": user.user_id, "APISecret": user.api_key}
    click.echo("Here is your User Id and API secret : {0}".format(secret))
