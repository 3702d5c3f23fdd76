"""Settings: every configuration value resolved once, with the place it came from.

Precedence, highest first (docs/configuration.md):

1. command-line flags (`--base-url`, `--target-environment`, `--profile`);
2. the environment: the MOMO_ name, then the older unprefixed name of the `mtnmomo` package;
3. `.env` in the working directory (the same names);
4. the selected profile in the store (config.toml + credentials.toml);
5. built-in defaults (`base_url = "local"`: the embedded emulator; `target_environment = "sandbox"`).

The profile itself is chosen by `--profile` > MOMO_PROFILE > `.env` MOMO_PROFILE > the store's active
profile (`momo profile use`) > "default".

Why an explicit resolver rather than a pydantic-settings model: a BaseSettings model merges its
sources into one set of values and forgets which source and which alias (MOMO_BASE_URL or BASE_URL)
supplied each one, and its sources read os.environ rather than a mapping we pass in. `momo profile
show` and every "missing credentials" hint must name the exact origin of each value, so precedence is
a small loop over named layers below, and its tests pin it down. pydantic-settings is still what
parses `.env` (its DotEnvSettingsSource, i.e. python-dotenv's dialect: quotes, comments, `export`),
imported only when a `.env` file exists, so that a configuration without one costs no pydantic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from momo_cli.config import keys as K
from momo_cli.config import paths
from momo_cli.config.store import ProfileStore, StoreSnapshot
from momo_cli.errors import ConfigError

DOTENV_FILE = ".env"

#: What `source()` answers for a value nobody set.
SOURCE_DEFAULT = "default"
SOURCE_FLAG = "flag"
SOURCE_DOTENV = ".env"
#: Source of the profile name when it is the store's active profile (`momo profile use`).
SOURCE_ACTIVE = "config.toml"

_FLAG_NAMES = {
    "base_url": "--base-url",
    "target_environment": "--target-environment",
    "callback_host": "--callback-host",
    "timeout": "--timeout",
}


def _masked(value: str | None) -> str | None:
    if value is None:
        return None
    from momo_cli.logs import mask

    return mask(value)


@dataclass(frozen=True)
class ProductCredentials:
    """One product's credentials. The repr masks the secrets, so logging one does not leak them."""

    user_id: str | None = None
    api_key: str | None = field(default=None, repr=False)
    subscription_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"ProductCredentials(user_id={self.user_id!r}, api_key={_masked(self.api_key)!r}, "
            f"subscription_key={_masked(self.subscription_key)!r})"
        )

    __str__ = __repr__

    def missing(self) -> list[str]:
        """The fields that are not set, in the order user_id, api_key, subscription_key."""
        return [name for name in K.CREDENTIAL_FIELDS if not getattr(self, name)]

    @property
    def complete(self) -> bool:
        return not self.missing()


class Settings:
    """Resolved configuration. Read-only; build one with load_settings()."""

    __slots__ = (
        "_profile", "_profile_source", "_values", "_sources", "_config_dir", "_data_dir",
        "_cache_dir", "_env_file", "_active_profile",
    )

    def __init__(
        self,
        *,
        profile: str,
        profile_source: str,
        values: Mapping[str, Any],
        sources: Mapping[str, str],
        config_dir: Path,
        data_dir: Path,
        cache_dir: Path,
        env_file: Path | None = None,
        active_profile: str | None = None,
    ) -> None:
        self._profile = profile
        self._profile_source = profile_source
        self._values = {key: values.get(key, K.DEFAULTS.get(key)) for key in K.KEYS}
        self._sources = {key: sources.get(key, SOURCE_DEFAULT) for key in K.KEYS}
        self._config_dir = Path(config_dir)
        self._data_dir = Path(data_dir)
        self._cache_dir = Path(cache_dir)
        self._env_file = env_file
        self._active_profile = active_profile

    # -- values ----------------------------------------------------------------------------------
    @property
    def profile(self) -> str:
        return self._profile

    @property
    def active_profile(self) -> str | None:
        """The store's active profile (`momo profile use`), which may differ from `profile`."""
        return self._active_profile

    @property
    def base_url(self) -> str:
        return self._values["base_url"]

    @property
    def target_environment(self) -> str:
        return self._values["target_environment"]

    @property
    def callback_host(self) -> str | None:
        return self._values["callback_host"]

    @property
    def timeout(self) -> float:
        return self._values["timeout"]

    @property
    def is_local(self) -> bool:
        """True when the base URL is `local`: the embedded emulator, no real money."""
        return self.base_url == "local"

    @property
    def config_dir(self) -> Path:
        return self._config_dir

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir

    @property
    def env_file(self) -> Path | None:
        """The `.env` file that was read, or None."""
        return self._env_file

    def get(self, key: str) -> Any:
        return self._values[K.check_key(key)]

    def source(self, key: str) -> str:
        """Where the value of `key` came from: `flag`, `env NAME`, `.env`, `profile NAME`, `default`.

        `source("profile")` says how the profile was chosen (`flag`, `env MOMO_PROFILE`, `.env`,
        `config.toml` for the active profile, `default`).
        """
        if key == "profile":
            return self._profile_source
        return self._sources[K.check_key(key)]

    def items(self) -> list[tuple[str, Any, str]]:
        """(key, value, source) for every key, in a stable order. Secrets are NOT masked here."""
        return [(key, self._values[key], self._sources[key]) for key in K.KEYS]

    @staticmethod
    def is_secret(key: str) -> bool:
        return K.is_secret(key)

    # -- credentials -----------------------------------------------------------------------------
    def credentials(self, product: str) -> ProductCredentials:
        product = K.check_product(product)
        return ProductCredentials(
            user_id=self._values[f"{product}.user_id"],
            api_key=self._values[f"{product}.api_key"],
            subscription_key=self._values[f"{product}.subscription_key"],
        )

    def require_credentials(
        self, product: str, fields: tuple[str, ...] = K.CREDENTIAL_FIELDS
    ) -> ProductCredentials:
        """The product's credentials, or a ConfigError (exit 3) naming what is missing and how to set it."""
        creds = self.credentials(product)
        missing = [name for name in creds.missing() if name in fields]
        if missing:
            product = K.check_product(product)
            variables = ", ".join(K.ENV_NAMES[f"{product}.{name}"].primary for name in missing)
            first = f"{product}.{missing[0]}"
            value = "-" if K.is_secret(first) else "VALUE"
            raise ConfigError(
                f"{product} credentials are incomplete for profile {self.profile!r}: "
                f"missing {', '.join(missing)}",
                hint=(
                    f"run `momo provision` (sandbox), or set {variables}, "
                    f"or `momo profile set {first} {value} --profile {self.profile}`"
                ),
            )
        return creds

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{key}={_masked(value) if K.is_secret(key) else value!r}"
            for key, value, _ in self.items()
            if value is not None
        )
        return f"Settings(profile={self.profile!r}, {shown})"


# -- loading -----------------------------------------------------------------------------------------


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a `.env` file (names upper-cased, valueless lines dropped); {} if absent.

    Parsed by pydantic-settings (python-dotenv's dialect): `KEY=value`, quotes, `# comments`,
    `export KEY=value`, escapes in double quotes.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    from pydantic_settings import BaseSettings, DotEnvSettingsSource, SettingsConfigDict

    class _DotEnvFile(BaseSettings):
        model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    try:
        variables = DotEnvSettingsSource(_DotEnvFile, env_file=path, case_sensitive=True).env_vars
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return {name.upper(): value for name, value in variables.items() if value is not None}


def _first(mapping: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    """The first of `names` set to a non-empty value in `mapping` (an empty variable counts as unset)."""
    for name in names:
        value = mapping.get(name)
        if value is not None and value.strip() != "":
            return name, value
    return None


def select_profile(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    dotenv: Mapping[str, str],
    store: ProfileStore | StoreSnapshot,
) -> tuple[str, str]:
    """(profile name, source): --profile > MOMO_PROFILE > .env MOMO_PROFILE > active profile > default."""
    flag = flags.get("profile")
    if flag:
        # The root --profile option also reads MOMO_PROFILE (click envvar), so a flag value equal to
        # the variable most likely came from it; say so rather than claim the user typed it.
        if env.get(K.PROFILE_ENV) == flag:
            return K.check_profile_name(flag), f"env {K.PROFILE_ENV}"
        return K.check_profile_name(flag), SOURCE_FLAG
    found = _first(env, (K.PROFILE_ENV,))
    if found:
        return K.check_profile_name(found[1].strip()), f"env {K.PROFILE_ENV}"
    found = _first(dotenv, (K.PROFILE_ENV,))
    if found:
        return K.check_profile_name(found[1].strip()), SOURCE_DOTENV
    active = store.active()
    if active:
        return active, SOURCE_ACTIVE
    return K.DEFAULT_PROFILE, SOURCE_DEFAULT


def _describe(source: str, key: str, *, env_file: Path | None, store: ProfileStore) -> str:
    """A longer origin for error messages: which flag, variable, file."""
    if source == SOURCE_FLAG:
        return _FLAG_NAMES.get(key, f"the {key} option")
    if source.startswith("env "):
        return f"environment variable {source[4:]}"
    if source == SOURCE_DOTENV:
        return f"{env_file}"
    if source.startswith("profile "):
        where = store.credentials_path if K.is_secret(key) else store.config_path
        return f"{source} ({where})"
    return source


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve every setting: flags > environment > .env > profile > defaults, remembering sources.

    `flags` holds command-line values by key (`profile`, `base_url`, `target_environment`, and any
    other key of keys.KEYS); None means "not given". `env` defaults to os.environ, `cwd` (where
    `.env` is looked for) to the working directory. Bad values raise ConfigError (exit 3) naming
    where they came from; secrets are never quoted.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    workdir = Path.cwd() if cwd is None else Path(cwd)

    env_path = workdir / DOTENV_FILE
    dotenv = read_dotenv(env_path)
    env_file = env_path if env_path.is_file() else None

    store = ProfileStore(env=environ)
    snapshot = store.snapshot()
    profile, profile_source = select_profile(given, environ, dotenv, snapshot)
    saved = snapshot.profiles()
    if profile != K.DEFAULT_PROFILE and profile not in saved:
        raise ConfigError(
            f"profile {profile!r} (from {profile_source}) does not exist; "
            f"saved profiles: {', '.join(saved) or 'none'}",
            hint=f"create it with `momo profile set base_url URL --profile {profile}`, or choose another",
        )
    stored = snapshot.values(profile)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in K.KEYS:
        names = K.ENV_NAMES[key].in_order()
        raw: Any = None
        source = SOURCE_DEFAULT
        if key in given:
            raw, source = given[key], SOURCE_FLAG
        elif (hit := _first(environ, names)) is not None:
            source, raw = f"env {hit[0]}", hit[1]
        elif (hit := _first(dotenv, names)) is not None:
            source, raw = SOURCE_DOTENV, hit[1]
        elif stored.get(key) is not None:
            raw, source = stored[key], f"profile {profile}"
        if source == SOURCE_DEFAULT:
            values[key] = K.DEFAULTS.get(key)
        else:
            origin = _describe(source, key, env_file=env_file, store=store)
            values[key] = K.normalize_value(key, raw, origin=origin)
        sources[key] = source
        if values[key] is None and key in K.DEFAULTS and K.DEFAULTS[key] is not None:
            # e.g. MOMO_TIMEOUT="  " or a profile's base_url = "": fall back to the default.
            values[key], sources[key] = K.DEFAULTS[key], SOURCE_DEFAULT

    return Settings(
        profile=profile,
        profile_source=profile_source,
        values=values,
        sources=sources,
        config_dir=store.directory,
        data_dir=paths.data_dir(environ),
        cache_dir=paths.cache_dir(environ),
        env_file=env_file,
        active_profile=snapshot.active(),
    )
