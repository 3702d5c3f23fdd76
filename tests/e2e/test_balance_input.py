"""momo balance checks its --currency against the target environment before asking the API."""

from __future__ import annotations

from click.testing import CliRunner

from momo_cli.cli import root


def test_a_currency_the_environment_refuses_is_exit_2_with_nothing_sent(served_emulator):
    server = served_emulator()
    for currency in ("UGX", "XYZ", "E1"):
        result = CliRunner().invoke(root, ["--base-url", server.url, "balance", "--currency", currency])
        assert result.exit_code == 2, (currency, result.stderr)
        assert result.stderr.count("\n") == 1 and "--currency" in result.stderr
    assert server.requests() == []
