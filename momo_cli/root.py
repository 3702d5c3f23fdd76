"""The root command group (click). Sub-commands are imported only when they run (or their help is shown).

run_with_error_contract() is the one place that turns errors into a line on stderr and an exit code
(docs/exit-codes.md). The entry points (`momo`, `mtnmomo`) and the command table are in momo_cli.cli,
which imports this module only when click is needed: `momo --help` and `--version` are answered there
without it.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from momo_cli import __version__
from momo_cli.cli import COMMANDS
from momo_cli.exitcodes import ExitCode, epilog


def _debug_requested() -> bool:
    return "--debug" in sys.argv[1:]


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use, with MoMo's error contract in main()."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # the command is not built yet
                return None
            raise
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table, so `momo --help` imports no command module.
        rows = [(name, text) for name, (_, _, text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run, then exit with the code of docs/exit-codes.md; errors become one line on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        code = run_with_error_contract(
            lambda: super(LazyGroup, self).main(args, prog_name, complete_var, False, **extra),
            prog_name=prog_name or "momo",
        )
        sys.exit(code)


def run_with_error_contract(call, *, prog_name: str = "momo") -> int:
    """Call `call()` and map every outcome to an exit code, printing at most one line for errors."""
    from momo_cli.errors import MomoCliError

    try:
        result = call()
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo(f"{prog_name}: aborted", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `momo profile` alone: the help is what the person wants to see (exit 2, as click does).
        click.echo(exc.format_message(), err=True)
        return int(ExitCode.USAGE)
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"{prog_name}: error: {exc.format_message()}{hint}", err=True)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        click.echo(f"{prog_name}: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except MomoCliError as exc:
        click.echo(f"{prog_name}: error: {exc.one_line()}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(f"{prog_name}: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # Somebody closed our stdout (`momo ... | head`): not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown quiet
        except OSError:
            pass
        return 0
    except Exception as exc:  # a bug: say so in one line, the traceback only with --debug
        if _debug_requested():
            import traceback

            traceback.print_exc()
        click.echo(
            f"{prog_name}: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for details, and please report it)",
            err=True,
        )
        return int(ExitCode.INTERNAL)
    return result if isinstance(result, int) else 0


@click.group(
    name="momo",
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=epilog(),
)
@click.version_option(__version__, "-V", "--version", prog_name="momo-cli", message="%(prog)s %(version)s")
@click.option("--profile", "-p", metavar="NAME", envvar="MOMO_PROFILE", help="Profile to use (default: the active one).")
@click.option("--base-url", metavar="URL", help="API base URL, or 'local' for the built-in emulator.")
@click.option("--target-environment", metavar="ENV", help="X-Target-Environment, e.g. sandbox or mtnuganda.")
@click.option("--allow-any-host", is_flag=True, help="Allow a base URL that is not an MTN host or loopback.")
@click.option("--debug", is_flag=True, help="Log HTTP traffic (secrets masked) and show tracebacks.")
@click.option("--no-color", is_flag=True, envvar="NO_COLOR", help="Plain output without colour.")
@click.pass_context
def root(ctx, profile, base_url, target_environment, allow_any_host, debug, no_color):
    """momo: the MTN Mobile Money (MoMo) Open API from your terminal.

    With nothing configured every command runs on the built-in emulator (no real money moves).
    """
    from momo_cli.context import AppContext

    ctx.obj = AppContext(
        profile=profile,
        base_url=base_url,
        target_environment=target_environment,
        debug=debug,
        allow_any_host=allow_any_host,
        color=False if no_color else None,
    )
    if debug:
        from momo_cli.logs import enable_debug_logging

        enable_debug_logging()
