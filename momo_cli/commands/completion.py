"""`momo completion bash|zsh|fish`: print the shell completion script for `momo`.

The scripts are click's (click.shell_completion): the shell calls `momo` back with `_MOMO_COMPLETE`
set, and the lazy root group answers from its table, importing only the command being completed. The
same scripts are checked in under completions/ (tests/commands/test_completion.py keeps them current).
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "momo"
COMPLETE_VAR = "_MOMO_COMPLETE"

INSTALL_EPILOG = """\b
Install:
  bash   momo completion bash > ~/.local/share/bash-completion/completions/momo
  zsh    momo completion zsh > "${fpath[1]}/_momo"    (or: eval "$(momo completion zsh)" in ~/.zshrc)
  fish   momo completion fish > ~/.config/fish/completions/momo.fish
"""


def completion_script(shell: str) -> str:
    """The completion script of `shell` for the `momo` program (no trailing newline)."""
    from click.shell_completion import get_completion_class

    from momo_cli.cli import root

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice below allows only known shells
        raise click.BadParameter(f"unsupported shell {shell!r}")
    return cls(root, {}, PROG_NAME, COMPLETE_VAR).source().rstrip("\n")


@click.command("completion", epilog=INSTALL_EPILOG)
@click.argument("shell", type=click.Choice(SHELLS, case_sensitive=False))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    click.echo(completion_script(shell.lower()))
