"""The one confirmation rule of every money-moving command (`momo_cli.commands._confirm`)."""

from __future__ import annotations

from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from momo_cli.commands._confirm import confirm_money
from momo_cli.output import Output


class Terminal(Output):
    interactive = True


class NoTerminal(Output):
    interactive = False


def ask(environment="sandbox", *, on_emulator=True, interactive=True, yes=False, input=None, **words):
    """Run `confirm_money` in a command; the result has its exit code and stderr."""

    @click.command()
    def command():
        out = Terminal() if interactive else NoTerminal()
        session = SimpleNamespace(out=out, on_emulator=on_emulator,
                                  settings=SimpleNamespace(target_environment=environment))
        words.setdefault("what", "transfer 600 EUR to 46733123999")
        words.setdefault("question", "Send it?")
        confirm_money(session, yes=yes, **words)
        click.echo("confirmed")

    return CliRunner().invoke(command, [], input=input, standalone_mode=False)


def test_yes_asks_nothing_even_without_a_terminal():
    result = ask(interactive=False, yes=True)
    assert result.exception is None and result.stdout == "confirmed\n" and result.stderr == ""


def test_without_a_terminal_nothing_is_sent_and_the_hint_says_yes():
    result = ask(interactive=False, hint="add --yes, please")
    error = result.exception
    assert error.exit_code == 2 and error.hint == "add --yes, please"
    assert str(error) == ("not confirmed: transfer 600 EUR to 46733123999 needs a confirmation and there is "
                          "no terminal to ask on; nothing was sent")


@pytest.mark.parametrize("answer, confirmed", [("y\n", True), ("n\n", False), ("\n", False)])
def test_the_sandbox_asks_yes_or_no_after_the_details(answer, confirmed):
    result = ask(details=["About to send:", "  Transfer 600 EUR"], input=answer)
    assert result.stderr.startswith("About to send:\n  Transfer 600 EUR\nSend it? [y/N]")
    if confirmed:
        assert result.exception is None and result.stdout == "confirmed\n"
    else:
        assert str(result.exception) == "not confirmed; nothing was sent" and result.exception.exit_code == 2


@pytest.mark.parametrize("on_emulator, stakes", [(True, "on the emulator, no real money moves"),
                                                 (False, "real money moves")])
def test_a_production_environment_wants_its_name_and_tells_the_truth(on_emulator, stakes):
    result = ask("mtnuganda", on_emulator=on_emulator, action="pay out 3 rows", input="sandbox\n")
    assert f"mtnuganda is a production environment ({stakes}). Type mtnuganda to pay out 3 rows" in result.stderr
    assert str(result.exception) == "not confirmed (expected 'mtnuganda'); nothing was sent"
    result = ask("mtnuganda", on_emulator=on_emulator, input="mtnuganda\n")
    assert "Type mtnuganda to confirm" in result.stderr and result.stdout == "confirmed\n"
