"""The profile store: `config.toml` (settings, the active profile) and `credentials.toml` (secrets).

Both files live in the config dir (paths.config_dir()):

    # config.toml                                # credentials.toml (0600, refused if looser)
    active_profile = "work"                      [profiles.work.collection]
                                                 api_key = "..."
    [profiles.work]                              subscription_key = "..."
    base_url = "https://sandbox.momodeveloper.mtn.com"
    target_environment = "sandbox"

    [profiles.work.collection]
    user_id = "..."

Safety rules (design.md section 5): the directory is created 0700, both files are written 0600, every
write is atomic (a temporary file in the same directory, fsync, os.replace; its mode is set before a
byte is written), and a credentials file that group or others may read or write is refused with a
ConfigError saying how to fix it. Writers take a lock on `.lock` in the directory so two commands
saving at once (say, provisioning two products in parallel) do not lose each other's changes.

Standard library only: light commands import this without pydantic.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from momo_cli.config import keys as K
from momo_cli.config import paths
from momo_cli.config.toml_writer import dumps
from momo_cli.errors import ConfigError, InvalidInput

CONFIG_FILE = "config.toml"
CREDENTIALS_FILE = "credentials.toml"
LOCK_FILE = ".lock"

_CONFIG_HEADER = (
    "momo-cli configuration: non-secret settings per profile.\n"
    "API keys and subscription keys live in credentials.toml beside this file.\n"
    "Edit with `momo profile set KEY VALUE`; see `momo profile --help`."
)
_CREDENTIALS_HEADER = (
    "momo-cli credentials: API keys and subscription keys per profile and product.\n"
    "Keep this file private (mode 0600). Edit with `momo profile set KEY -` (reads the value from stdin)."
)


# -- files -------------------------------------------------------------------------------------------


def atomic_write_text(path: Path, text: str, *, mode: int = paths.PRIVATE_FILE_MODE) -> None:
    """Replace `path` with `text` atomically: readers see the old file or the new one, never a mix.

    The temporary file is created in the same directory (so os.replace is a rename), gets `mode`
    before anything is written to it, is fsynced, then renamed over `path`; on any failure it is
    removed. The directory is created 0700 if missing.
    """
    path = Path(path)
    directory = paths.ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            fd = -1  # owned by the file object now
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = ""
    finally:
        if fd != -1:
            os.close(fd)
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    if os.name != "posix":  # pragma: no cover
        return
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)


def check_private_file(path: Path) -> None:
    """Refuse a secrets file that group or others may read or write (POSIX only).

    Raises ConfigError (exit 3) whose hint is the exact command that fixes it.
    """
    if os.name != "posix":  # pragma: no cover - Windows has no such mode bits
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    loose = stat.S_IMODE(st.st_mode) & 0o077
    if loose:
        raise ConfigError(
            f"{path} holds secrets but its mode is {stat.S_IMODE(st.st_mode):04o}: "
            "group or others may access it, so it is not used",
            hint=f"run `chmod 600 {path}` (and rotate the keys if others may have read them)",
        )


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, {} when it does not exist; a parse error is a ConfigError naming file and line."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message says where ("... (at line 3, column 9)") and never quotes the file's content.
        found = re.search(r"line (\d+)", str(exc))
        line = found.group(1) if found else None
        raise ConfigError(
            f"{path}{':' + line if line else ''}: invalid TOML: {exc}",
            hint=(
                f"fix {'line ' + line + ' of ' if line else ''}{path}, or move the file aside and "
                "set the values again with `momo profile set`"
            ),
        ) from None


@contextlib.contextmanager
def file_lock(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive advisory lock (POSIX flock) on the file `path`, created 0600 if missing,
    for a read-modify-write that other processes must not interleave with. The operating system
    releases it when the process dies, however it dies.

    With `wait=False`, a lock that another process holds raises BlockingIOError at once. Where there
    is no flock (Windows) nothing is locked; atomic writes still keep each file whole.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, paths.PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock for a read-modify-write of the store."""
    paths.ensure_private_dir(directory)
    with file_lock(directory / LOCK_FILE):
        yield


# -- the store ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StorePaths:
    config_dir: Path
    config_file: Path
    credentials_file: Path


class StoreSnapshot:
    """The two files as read at one moment."""

    def __init__(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        self._config = config
        self._credentials = credentials

    def profiles(self) -> list[str]:
        return sorted(set(_profiles_table(self._config)) | set(_profiles_table(self._credentials)))

    def active(self) -> str | None:
        return _active(self._config)

    def values(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for doc in (self._config, self._credentials):
            table = _profiles_table(doc).get(name) or {}
            for entry, value in table.items():
                if isinstance(value, Mapping):
                    for field, inner in value.items():
                        result[f"{entry}.{field}"] = inner
                else:
                    result[entry] = value
        return result


class ProfileStore:
    """Profiles in `config.toml` + `credentials.toml` under `directory` (default: paths.config_dir())."""

    def __init__(self, directory: Path | None = None, *, env: Mapping[str, str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else paths.config_dir(env)
        self.config_path = self.directory / CONFIG_FILE
        self.credentials_path = self.directory / CREDENTIALS_FILE

    # -- reading ---------------------------------------------------------------------------------
    def path(self) -> StorePaths:
        return StorePaths(self.directory, self.config_path, self.credentials_path)

    def _read_config(self) -> dict[str, Any]:
        doc = read_toml(self.config_path)
        self._check_config(doc)
        return doc

    def _read_credentials(self) -> dict[str, Any]:
        check_private_file(self.credentials_path)
        doc = read_toml(self.credentials_path)
        self._check_credentials(doc)
        return doc

    def snapshot(self) -> StoreSnapshot:
        """Both files read once (permission check included), for callers that need several answers."""
        return StoreSnapshot(self._read_config(), self._read_credentials())

    def profiles(self) -> list[str]:
        """Every saved profile (in either file), sorted."""
        return self.snapshot().profiles()

    def exists(self, name: str) -> bool:
        return name in self.profiles()

    def active(self) -> str | None:
        """The profile chosen with `momo profile use`, or None."""
        return _active(self._read_config())

    def values(self, name: str) -> dict[str, Any]:
        """The stored values of profile `name` as {key: value} (secrets included), {} if none."""
        return self.snapshot().values(name)

    def get(self, name: str, key: str) -> Any:
        return self.values(name).get(K.check_key(key))

    # -- writing ---------------------------------------------------------------------------------
    def use(self, name: str) -> None:
        """Make `name` the active profile. It must exist, except the built-in `default`."""
        K.check_profile_name(name)
        with _locked(self.directory):
            config = self._read_config()
            known = set(_profiles_table(config)) | set(_profiles_table(self._read_credentials()))
            if name not in known and name != K.DEFAULT_PROFILE:
                raise InvalidInput(
                    "profile",
                    f"no profile named {name!r} (saved: {', '.join(sorted(known)) or 'none'})",
                    hint=f"create it with `momo profile set base_url URL --profile {name}`",
                )
            config["active_profile"] = name
            self._write_config(config)

    def set(self, name: str, key: str, value: Any) -> Any:
        """Store `key` = `value` in profile `name` (created if new); secrets go to credentials.toml.

        The value is checked first (InvalidInput, exit 2, on a bad one) and returned as stored.
        """
        K.check_profile_name(name)
        key = K.check_key(key)
        value = K.normalize_value(key, value, origin="the command line", error=InvalidInput)
        if value is None:
            raise InvalidInput(key, "the value is empty", hint=f"use `momo profile unset {key}` to remove it")
        if key == "timeout" and float(value).is_integer():
            value = int(value)
        self._update(name, {key: value})
        return value

    def unset(self, name: str, key: str) -> bool:
        """Remove `key` from profile `name`; False if it was not set."""
        key = K.check_key(key)
        product, field = K.split_key(key)
        with _locked(self.directory):
            secret = K.is_secret(key)
            doc = self._read_credentials() if secret else self._read_config()
            table = _profiles_table(doc).get(name)
            if table is None:
                return False
            if product is None:
                found = table.pop(field, None) is not None
            else:
                inner = table.get(product) or {}
                found = inner.pop(field, None) is not None
                if not inner:
                    table.pop(product, None)
            if not found:
                return False
            if secret and not table:
                _profiles_table(doc).pop(name, None)
            self._write_credentials(doc) if secret else self._write_config(doc)
            return True

    def remove(self, name: str) -> bool:
        """Delete profile `name` from both files (and stop it being active); False if it did not exist."""
        with _locked(self.directory):
            config = self._read_config()
            credentials = self._read_credentials()
            in_config = _profiles_table(config).pop(name, None) is not None
            in_credentials = _profiles_table(credentials).pop(name, None) is not None
            was_active = config.get("active_profile") == name
            if was_active:
                config.pop("active_profile", None)
            if in_credentials:
                self._write_credentials(credentials)
            if in_config or was_active:
                self._write_config(config)
            return in_config or in_credentials

    def save_credentials(
        self,
        name: str,
        product: str,
        *,
        user_id: str | None = None,
        api_key: str | None = None,
        subscription_key: str | None = None,
    ) -> None:
        """Save a product's credentials in profile `name` in one locked update.

        `user_id` goes to config.toml, `api_key` and `subscription_key` to credentials.toml; a field
        left None is not touched.
        """
        K.check_profile_name(name)
        product = K.check_product(product)
        given = {"user_id": user_id, "api_key": api_key, "subscription_key": subscription_key}
        changes: dict[str, Any] = {}
        for field, value in given.items():
            if value is None:
                continue
            key = f"{product}.{field}"
            normal = K.normalize_value(key, value, origin="the saved credentials", error=InvalidInput)
            if normal is None:
                raise InvalidInput(key, "the value is empty")
            changes[key] = normal
        if changes:
            self._update(name, changes)

    def create(self, name: str) -> None:
        """Save an empty profile `name` (no-op if it exists)."""
        K.check_profile_name(name)
        with _locked(self.directory):
            config = self._read_config()
            profiles = config.setdefault("profiles", {})
            if name not in profiles:
                profiles[name] = {}
                self._write_config(config)

    # -- internals -------------------------------------------------------------------------------
    def _update(self, name: str, changes: Mapping[str, Any]) -> None:
        with _locked(self.directory):
            config = self._read_config()
            credentials = self._read_credentials() if any(K.is_secret(k) for k in changes) else None
            # Every profile has a table in config.toml, so a profile whose values are all secrets
            # still shows up in `profile list` even if credentials.toml is later removed.
            config.setdefault("profiles", {}).setdefault(name, {})
            for key, value in changes.items():
                doc = credentials if K.is_secret(key) else config
                assert doc is not None
                table = doc.setdefault("profiles", {}).setdefault(name, {})
                product, field = K.split_key(key)
                if product is None:
                    table[field] = value
                else:
                    table.setdefault(product, {})[field] = value
            # Secrets first: if writing them fails, config.toml does not point at anything missing.
            if credentials is not None:
                self._write_credentials(credentials)
            self._write_config(config)

    def _write_config(self, doc: dict[str, Any]) -> None:
        atomic_write_text(self.config_path, dumps(_ordered(doc), header=_CONFIG_HEADER))

    def _write_credentials(self, doc: dict[str, Any]) -> None:
        atomic_write_text(self.credentials_path, dumps(_ordered(doc), header=_CREDENTIALS_HEADER))

    def _check_config(self, doc: dict[str, Any]) -> None:
        where = self.config_path
        active = doc.get("active_profile")
        if active is not None and not isinstance(active, str):
            raise ConfigError(f"{where}: active_profile must be a string")
        for name, table in _checked_profiles(doc, where).items():
            for entry, value in table.items():
                if entry in K.PRODUCTS:
                    _check_product_table(value, name, entry, where)
                    for field in value:
                        if field in K.SECRET_FIELDS:
                            raise ConfigError(
                                f"{where}: profile {name!r} sets {entry}.{field}, a secret, in config.toml",
                                hint=(
                                    f"move it to {self.credentials_path}: delete the line and run "
                                    f"`momo profile set {entry}.{field} - --profile {name}`"
                                ),
                            )
                elif entry not in K.GENERAL_KEYS:
                    raise ConfigError(
                        f"{where}: profile {name!r} has an unknown key {entry!r}; "
                        f"valid keys: {', '.join(K.GENERAL_KEYS)}, and tables {', '.join(K.PRODUCTS)}"
                    )
                elif isinstance(value, Mapping):
                    raise ConfigError(f"{where}: profile {name!r}: {entry} must be a value, not a table")

    def _check_credentials(self, doc: dict[str, Any]) -> None:
        where = self.credentials_path
        for name, table in _checked_profiles(doc, where).items():
            for entry, value in table.items():
                if entry not in K.PRODUCTS:
                    raise ConfigError(
                        f"{where}: profile {name!r} has an unknown entry {entry!r}; "
                        f"credentials.toml holds only product tables ({', '.join(K.PRODUCTS)})"
                    )
                _check_product_table(value, name, entry, where)


def _active(doc: Mapping[str, Any]) -> str | None:
    return doc.get("active_profile") or None


def _profiles_table(doc: Mapping[str, Any]) -> dict[str, Any]:
    table = doc.get("profiles")
    return table if isinstance(table, dict) else {}


def _checked_profiles(doc: Mapping[str, Any], where: Path) -> dict[str, Any]:
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{where}: 'profiles' must be a table ([profiles.NAME])")
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: profiles.{name} must be a table ([profiles.{name}])")
    return profiles


def _check_product_table(value: Any, profile: str, product: str, where: Path) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: profile {profile!r}: {product} must be a table ([profiles.{profile}.{product}])")
    for field in value:
        if field not in K.CREDENTIAL_FIELDS:
            raise ConfigError(
                f"{where}: profile {profile!r} has an unknown key {product}.{field}; "
                f"valid: {', '.join(K.CREDENTIAL_FIELDS)}"
            )
        if isinstance(value[field], Mapping):
            raise ConfigError(f"{where}: profile {profile!r}: {product}.{field} must be a value, not a table")


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """Top-level values first, then profiles sorted by name, each with its keys in KEYS order."""
    out = {k: v for k, v in doc.items() if k != "profiles"}
    profiles = _profiles_table(doc)
    if profiles:
        order = {key: i for i, key in enumerate(K.GENERAL_KEYS + K.PRODUCTS)}
        out["profiles"] = {
            name: dict(sorted(profiles[name].items(), key=lambda kv: order.get(kv[0], len(order))))
            for name in sorted(profiles)
        }
    return out
