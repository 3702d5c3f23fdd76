"""`momo profile`: list, show, use, set, unset, remove profiles and find the files behind them.

Non-secret values go to config.toml, API keys and subscription keys to credentials.toml (0600).
Secrets are masked in every output unless `--show-secrets` is given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from momo_cli.config import keys as K
from momo_cli.errors import InvalidInput, UsageError

_KEYS_HELP = ", ".join(K.KEYS)


def _store():
    from momo_cli.config.store import ProfileStore

    return ProfileStore()


def _target_profile(ctx_obj, explicit: str | None, store) -> tuple[str, str]:
    """The profile a write goes to: --profile here, else the same choice `show` would make."""
    if explicit:
        return K.check_profile_name(explicit), "flag"
    from momo_cli.config.settings import DOTENV_FILE, read_dotenv, select_profile

    return select_profile(
        {"profile": ctx_obj.profile}, os.environ, read_dotenv(Path.cwd() / DOTENV_FILE), store
    )


def _display(key: str, value: Any, *, show_secrets: bool) -> Any:
    if value is None:
        return None
    if show_secrets:
        return value
    if K.is_secret(key):
        from momo_cli.logs import mask

        return mask(str(value))
    if key == "base_url":
        from momo_cli.logs import without_userinfo

        return without_userinfo(str(value))
    return value


def _print_table(out, table) -> None:
    """On a terminal rich fits the table to its width; in a pipe or file, values are never cut."""
    console = out.console
    if not out.stdout_is_tty:
        console.width = 1_000  # the table keeps its natural width: it is not expanded
    console.print(table)


def _chosen_by(source: str) -> str:
    return {
        "flag": "chosen with --profile",
        "config.toml": "the active profile",
        "default": "the default profile",
        ".env": "chosen by MOMO_PROFILE in .env",
    }.get(source, f"chosen by {source.removeprefix('env ')}")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@click.group("profile")
def profile() -> None:
    """Manage configuration profiles.

    \b
    A profile holds a base URL, a target environment and the credentials of each product.
    Values resolve as: flags > environment (MOMO_*) > .env > profile > defaults;
    `momo profile show` says where each value came from.
    """


@profile.command("list")
@click.option("--json", "json_mode", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_profiles(ctx_obj, json_mode: bool) -> None:
    """List saved profiles; the active one is marked."""
    out = ctx_obj.output(json_mode=json_mode)
    snapshot = _store().snapshot()
    saved = snapshot.profiles()
    active = snapshot.active() or K.DEFAULT_PROFILE
    names = saved if K.DEFAULT_PROFILE in saved else [K.DEFAULT_PROFILE] + saved
    rows = []
    for name in names:
        stored = snapshot.values(name)
        rows.append(
            {
                "name": name,
                "active": name == active,
                "saved": name in saved,
                "base_url": _display("base_url", stored.get("base_url"), show_secrets=False),
                "target_environment": stored.get("target_environment"),
                "products": [
                    product for product in K.PRODUCTS
                    if any(stored.get(f"{product}.{field}") for field in K.CREDENTIAL_FIELDS)
                ],
            }
        )
    if json_mode:
        out.json({"active_profile": active, "profiles": rows})
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "PROFILE", "BASE URL", "TARGET ENVIRONMENT", "CREDENTIALS"):
        table.add_column(column, overflow="fold")
    for row in rows:
        base_url = row["base_url"] or f"({K.DEFAULTS['base_url']})"
        environment = row["target_environment"] or f"({K.DEFAULTS['target_environment']})"
        table.add_row(
            "*" if row["active"] else "",
            row["name"] + ("" if row["saved"] else " (built-in)"),
            base_url,
            environment,
            ", ".join(row["products"]) or "-",
        )
    _print_table(out, table)


@profile.command("show")
@click.argument("name", required=False)
@click.option("--json", "json_mode", is_flag=True, help="Print JSON.")
@click.option("--show-secrets", is_flag=True, help="Print API keys and subscription keys in full.")
@click.pass_obj
def show(ctx_obj, name: str | None, json_mode: bool, show_secrets: bool) -> None:
    """Show the resolved settings of a profile (default: the selected one) and where each came from.

    Environment variables, .env and flags are applied, exactly as other commands see them.
    """
    from momo_cli.config.settings import load_settings

    out = ctx_obj.output(json_mode=json_mode)
    flags = ctx_obj.flags()
    if name:
        flags["profile"] = K.check_profile_name(name)
    settings = load_settings(flags)

    if json_mode:
        values: dict[str, Any] = {}
        for key, value, source in settings.items():
            entry = {"value": _display(key, value, show_secrets=show_secrets), "source": source}
            product, field = K.split_key(key)
            if product is None:
                values[key] = entry
            else:
                entry["secret"] = K.is_secret(key)
                values.setdefault(product, {})[field] = entry
        out.json(
            {
                "profile": settings.profile,
                "profile_source": settings.source("profile"),
                "active_profile": settings.active_profile,
                "is_local": settings.is_local,
                "secrets_shown": show_secrets,
                "env_file": str(settings.env_file) if settings.env_file else None,
                "config_dir": str(settings.config_dir),
                "settings": values,
            }
        )
        return

    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("KEY", no_wrap=True)
    table.add_column("VALUE", overflow="fold")
    table.add_column("SOURCE", overflow="fold")
    for key, value, source in settings.items():
        text = _text(_display(key, value, show_secrets=show_secrets))
        if key == "base_url" and settings.is_local:
            text += " (built-in emulator, no real money)"
        table.add_row(key, text, source)
    out.line(f"profile {settings.profile} ({_chosen_by(settings.source('profile'))})")
    _print_table(out, table)
    if show_secrets:
        out.warn("warning: secrets are shown in full")


@profile.command("use")
@click.argument("name")
@click.pass_obj
def use(ctx_obj, name: str) -> None:
    """Make NAME the active profile."""
    out = ctx_obj.output()
    store = _store()
    store.use(K.check_profile_name(name))
    out.info(f"active profile: {name}")
    overriding = os.environ.get(K.PROFILE_ENV)
    if overriding and overriding != name:
        out.warn(f"note: {K.PROFILE_ENV}={overriding} is set and takes precedence in this shell")


def _read_secret_from_stdin(ctx_obj, key: str) -> str:
    stream = ctx_obj.output().stdin
    data = stream.read()
    value = data.strip()
    if "\n" in value or "\r" in value:
        raise InvalidInput(key, "the value read from stdin has more than one line")
    if not value:
        raise InvalidInput(key, "no value on stdin", hint=f"e.g. `pbpaste | momo profile set {key} -`")
    return value


@profile.command("set")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--profile", "-p", "profile_name", metavar="NAME", help="Profile to change (default: the selected one).")
@click.pass_obj
def set_(ctx_obj, key: str, value: str | None, profile_name: str | None) -> None:
    """Set KEY to VALUE in a profile (created if new).

    \b
    Keys: base_url, target_environment, callback_host, timeout,
          <product>.user_id, <product>.api_key, <product>.subscription_key
          (product: collection, disbursement, remittance).
    API keys and subscription keys are stored in credentials.toml (0600). Give VALUE as '-' to
    read it from stdin, or leave it out to be asked on a terminal, so it stays out of shell history.
    """
    out = ctx_obj.output()
    key = K.check_key(key)
    secret = K.is_secret(key)
    if value == "-":
        value = _read_secret_from_stdin(ctx_obj, key)
    elif value is None:
        if secret and out.interactive:
            value = click.prompt(key, hide_input=True, err=True)
        else:
            raise UsageError(
                f"missing VALUE for {key}",
                hint=f"`momo profile set {key} VALUE`, or '-' to read it from stdin",
            )
    elif secret:
        out.info("tip: give '-' as the value to read a secret from stdin and keep it out of shell history")

    store = _store()
    name, _ = _target_profile(ctx_obj, profile_name, store)
    stored = store.set(name, key, value)
    where = store.credentials_path.name if secret else store.config_path.name
    shown = _text(_display(key, stored, show_secrets=False))
    out.info(f"profile {name}: {key} = {shown} (saved in {where})")
    for variable in K.ENV_NAMES[key].in_order():
        if os.environ.get(variable):
            out.warn(f"note: {variable} is set in the environment and takes precedence over the profile")
            break


@profile.command("unset")
@click.argument("key")
@click.option("--profile", "-p", "profile_name", metavar="NAME", help="Profile to change (default: the selected one).")
@click.pass_obj
def unset(ctx_obj, key: str, profile_name: str | None) -> None:
    """Remove KEY from a profile (it falls back to the default)."""
    out = ctx_obj.output()
    key = K.check_key(key)
    store = _store()
    name, _ = _target_profile(ctx_obj, profile_name, store)
    if store.unset(name, key):
        out.info(f"profile {name}: {key} removed")
    else:
        out.info(f"profile {name}: {key} was not set")


@profile.command("remove")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def remove(ctx_obj, name: str, yes: bool) -> None:
    """Delete profile NAME and its credentials."""
    out = ctx_obj.output()
    store = _store()
    saved = store.profiles()
    if name not in saved:
        raise InvalidInput(
            "profile", f"no profile named {name!r} (saved: {', '.join(saved) or 'none'})"
        )
    if not yes:
        if not out.interactive:
            raise UsageError(
                f"not removing profile {name!r} without confirmation (no terminal to ask on)",
                hint=f"run `momo profile remove {name} --yes`",
            )
        if not click.confirm(f"Remove profile {name!r} and its credentials?", default=False, err=True):
            raise click.exceptions.Abort()
    store.remove(name)
    out.info(f"profile {name} removed")


@profile.command("path")
@click.option("--json", "json_mode", is_flag=True, help="Print JSON.")
@click.pass_obj
def path(ctx_obj, json_mode: bool) -> None:
    """Print where configuration, credentials, data and cache live."""
    from momo_cli.config import paths as P

    out = ctx_obj.output(json_mode=json_mode)
    store_paths = _store().path()
    rows = {
        "config_dir": str(store_paths.config_dir),
        "config_file": str(store_paths.config_file),
        "credentials_file": str(store_paths.credentials_file),
        "data_dir": str(P.data_dir()),
        "cache_dir": str(P.cache_dir()),
    }
    if json_mode:
        out.json(rows)
        return
    width = max(len(label) for label in rows)
    for label, value in rows.items():
        out.line(f"{label.replace('_', ' ') + ':':<{width + 2}}{value}")
