"""The object every command receives (`@click.pass_obj`): global flags, and lazily built settings.

Building settings touches files, so it happens only when a command asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from momo_cli.output import Output

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.config.settings import Settings


@dataclass
class AppContext:
    profile: str | None = None
    base_url: str | None = None
    target_environment: str | None = None
    debug: bool = False
    allow_any_host: bool = False
    color: bool | None = None
    _settings: Any = field(default=None, repr=False)

    def output(self, *, json_mode: bool = False, quiet: bool = False) -> Output:
        return Output(json_mode=json_mode, quiet=quiet, color=self.color)

    def flags(self) -> dict[str, Any]:
        """The global flags that settings resolve first (highest precedence); None means not given."""
        return {
            "profile": self.profile,
            "base_url": self.base_url,
            "target_environment": self.target_environment,
        }

    def settings(self) -> "Settings":
        if self._settings is None:
            from momo_cli.config.settings import load_settings

            self._settings = load_settings(self.flags())
        return self._settings
