"""Asking before money moves: one rule for every command that sends money (design.md section 5).

- `--yes` skips the question;
- with no terminal to ask on and no `--yes`, nothing is sent: UsageError (exit 2) with a hint;
- a production target environment (any but `sandbox`) wants its name typed, and says whether real
  money moves or it is the emulator;
- otherwise a y/N question, no by default.

Each command says in its own words what is about to happen; the rule is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from momo_cli.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._session import Session


def confirm_money(
    session: "Session",
    *,
    yes: bool,
    what: str,
    question: str,
    action: str = "confirm",
    details: Sequence[str] = (),
    hint: str = "add --yes to send it from a script",
) -> None:
    """Ask before money moves; raises UsageError (exit 2, nothing sent) when it is not confirmed.

    `what` names what is about to happen in the error said without a terminal; `details` are lines
    shown on stderr before asking; `question` is the y/N question; a production environment's prompt
    ends "Type ENVIRONMENT to `action`".
    """
    if yes:
        return
    out = session.out
    environment = session.settings.target_environment
    if not out.interactive:
        raise UsageError(
            f"not confirmed: {what} needs a confirmation and there is no terminal to ask on; nothing was sent",
            hint=hint,
        )
    if details:
        out.warn("\n".join(details))
    if environment != "sandbox":
        stakes = "on the emulator, no real money moves" if session.on_emulator else "real money moves"
        typed = click.prompt(
            f"{environment} is a production environment ({stakes}). Type {environment} to {action}",
            default="", show_default=False, err=True,
        )
        if typed.strip() != environment:
            raise UsageError(f"not confirmed (expected {environment!r}); nothing was sent")
        return
    if not click.confirm(question, default=False, err=True):
        raise UsageError("not confirmed; nothing was sent")
