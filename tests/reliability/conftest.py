"""Fixtures of the reliability suite: restarting a served emulator on the same port and database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support.emulator import START_TIMEOUT, ServedEmulator


class RestartedEmulator(ServedEmulator):
    """A `momo sandbox serve` on the port and database of an earlier one (the same base URL, so
    the journal's entries belong to it)."""

    def __init__(self, earlier: ServedEmulator, extra: tuple[str, ...]) -> None:
        super().__init__(earlier.db_path, extra, earlier.log_path)
        self.port = earlier.port
        self.url = earlier.url

    def start(self) -> "RestartedEmulator":
        command = [sys.executable, "-m", "momo_cli", "sandbox", "serve", "--port", str(self.port),
                   "--db", str(self.db_path), "--settle-after", "0", *self.extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                stdin=subprocess.DEVNULL)
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if httpx.get(self.url + "/_sandbox/health", timeout=1.0, trust_env=False).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            self.stop()
            time.sleep(0.2)  # the port may still be held for a moment
        raise RuntimeError(f"momo sandbox serve did not start again on port {self.port}:\n{self.log_text()}")


@pytest.fixture
def restart_emulator(served_emulator) -> Callable[..., ServedEmulator]:
    """`restart_emulator(served, *flags)`: stop `served` if it still runs (SIGTERM) and start a new
    server on its port and database with `flags`; stopped at teardown."""

    def restart(served: ServedEmulator, *extra: str) -> ServedEmulator:
        served.stop()
        again = RestartedEmulator(served, tuple(str(x) for x in extra))
        served_emulator.servers.append(again)  # stopped with the others at teardown
        return again.start()

    return restart
