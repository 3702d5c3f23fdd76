"""Where momo keeps its files: the config, data and cache directories.

Each directory is chosen by its own variable, then the XDG base-directory variable, then the XDG default:

| dir    | variable          | then                      | default              |
|--------|-------------------|---------------------------|----------------------|
| config | `MOMO_CONFIG_DIR` | `$XDG_CONFIG_HOME/momo`   | `~/.config/momo`     |
| data   | `MOMO_DATA_DIR`   | `$XDG_DATA_HOME/momo`     | `~/.local/share/momo`|
| cache  | `MOMO_CACHE_DIR`  | `$XDG_CACHE_HOME/momo`    | `~/.cache/momo`      |

Nothing here creates anything until `ensure_private_dir` is called. Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "momo"

#: Directory mode for everything momo creates: only the owner may list or enter it.
PRIVATE_DIR_MODE = 0o700
#: File mode for files holding secrets or tokens.
PRIVATE_FILE_MODE = 0o600


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _resolve(own: str, xdg: str, default: tuple[str, ...], env: Mapping[str, str] | None) -> Path:
    environ = _environ(env)
    value = environ.get(own)
    if value:
        return Path(value).expanduser()
    base = environ.get(xdg)
    # The XDG spec says relative values are invalid and must be ignored.
    if base and os.path.isabs(os.path.expanduser(base)):
        return Path(base).expanduser() / APP_NAME
    return _home(environ).joinpath(*default, APP_NAME)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """MOMO_CONFIG_DIR, else $XDG_CONFIG_HOME/momo, else ~/.config/momo."""
    return _resolve("MOMO_CONFIG_DIR", "XDG_CONFIG_HOME", (".config",), env)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """MOMO_DATA_DIR, else $XDG_DATA_HOME/momo, else ~/.local/share/momo."""
    return _resolve("MOMO_DATA_DIR", "XDG_DATA_HOME", (".local", "share"), env)


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """MOMO_CACHE_DIR, else $XDG_CACHE_HOME/momo, else ~/.cache/momo."""
    return _resolve("MOMO_CACHE_DIR", "XDG_CACHE_HOME", (".cache",), env)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) if needed; a directory this call creates gets mode 0700.

    An existing directory keeps its mode: it may be a directory the user chose on purpose
    (MOMO_CONFIG_DIR=...). Files that hold secrets are 0600 whatever their directory allows.
    """
    path = Path(path)
    if path.is_dir():
        return path
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask; set it exactly on the directory we made for momo.
    if missing:
        try:
            os.chmod(path, PRIVATE_DIR_MODE)
        except OSError:  # pragma: no cover - e.g. filesystems without modes
            pass
    return path


def ensure_config_dir(env: Mapping[str, str] | None = None) -> Path:
    return ensure_private_dir(config_dir(env))


def ensure_data_dir(env: Mapping[str, str] | None = None) -> Path:
    return ensure_private_dir(data_dir(env))


def ensure_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    return ensure_private_dir(cache_dir(env))
