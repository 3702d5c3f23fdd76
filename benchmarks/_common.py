"""What the benchmark scripts share: finding `momo`, isolated settings, a served emulator, the older package.

Standard library only, so that a script's own imports are not what it measures. The scripts import it
as `_common` (they run as `python benchmarks/NAME.py`, which puts this directory on sys.path).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: The older package every baseline comes from.
OLDER = "mtnmomo==3.0.1"
#: Where `make` installs it beside the project (`pip install --no-deps --target`).
OLDER_TARGET_DIR = REPO / ".venv" / "mtnmomo-3.0.1"
#: The host the older package writes into its provisioning command.
OLDER_LEGACY_HOST = "https://ericssonbasicapi2.azure-api.net"
#: A subscription key both clients accept: 32 hex digits, which the older package also checks is a UUID.
SUBSCRIPTION_KEY = "a2cb4bb083ba43d3b18ce4a13eb32346"


# -- our command ------------------------------------------------------------------------------------


def find_momo() -> list[str]:
    """The `momo` console script next to this interpreter, else `python -m momo_cli`."""
    script = Path(sys.executable).with_name("momo")
    if script.exists():
        return [str(script)]
    found = shutil.which("momo")
    return [found] if found else [sys.executable, "-m", "momo_cli"]


def momo_env(root: Path, **extra: str) -> dict[str, str]:
    """This environment without any momo or older-package setting, with config, data and cache under `root`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MOMO_") and key not in ("BASE_URL", "ENVIRONMENT", "CALLBACK_HOST")}
    env.update(
        MOMO_CONFIG_DIR=str(root / "config"),
        MOMO_DATA_DIR=str(root / "data"),
        MOMO_CACHE_DIR=str(root / "cache"),
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def run_timed(command: Sequence[str], env: dict[str, str], cwd: Path, *, check: bool = True,
              capture: bool = False) -> tuple[float, subprocess.CompletedProcess]:
    """Run a command; (wall seconds, the finished process). A non-zero exit raises unless `check` is off."""
    started = time.perf_counter()
    proc = subprocess.run(list(command), stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, proc


@contextlib.contextmanager
def workdir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary directory, removed afterwards unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- plain HTTP on loopback (no proxies) ----------------------------------------------------------------

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None,
         timeout: float = 30.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if body is None and method == "POST":
        request.add_header("Content-Length", "0")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the served emulator --------------------------------------------------------------------------------


def _pinned(core: int | None):
    def pin() -> None:
        if core is not None:
            try:
                os.sched_setaffinity(0, {core})
            except (AttributeError, OSError):
                pass
    return pin


class Emulator:
    """One `momo sandbox serve` process on a loopback port, stopped by its pid (a context manager)."""

    def __init__(self, db: Path, *options: str, port: int | None = None, core: int | None = None) -> None:
        self.db = Path(db)
        self.options = [str(o) for o in options]
        self.port = port or free_port()
        self.core = core
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> "Emulator":
        command = [sys.executable, "-m", "momo_cli", "sandbox", "serve", "--port", str(self.port),
                   "--db", str(self.db), "--quiet", *self.options]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, preexec_fn=_pinned(self.core))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the emulator did not start: " + self.process.stderr.read().decode())
            try:
                if http("GET", self.url + "/_sandbox/health", timeout=1.0)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise SystemExit("the emulator did not start in time")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> "Emulator":
        return self.start() if self.process is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def admin(self, path: str) -> Any:
        status, body = http("GET", self.url + path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return json.loads(body)

    def request_log(self) -> list[dict[str, Any]]:
        """The emulator's request log, oldest first (the admin endpoints are not in it)."""
        return self.admin("/_sandbox/requests?limit=10000")

    def provision(self, subscription_key: str = SUBSCRIPTION_KEY, host: str = "localhost") -> tuple[str, str]:
        """An API user and its key over plain HTTP: (user id, API key)."""
        user_id = str(uuid.uuid4())
        status, body = http("POST", self.url + "/v1_0/apiuser",
                            {"X-Reference-Id": user_id, "Ocp-Apim-Subscription-Key": subscription_key,
                             "Content-Type": "application/json"},
                            json.dumps({"providerCallbackHost": host}).encode())
        if status != 201:
            raise RuntimeError(f"POST /v1_0/apiuser answered {status}: {body[:200]!r}")
        status, body = http("POST", f"{self.url}/v1_0/apiuser/{user_id}/apikey",
                            {"Ocp-Apim-Subscription-Key": subscription_key})
        if status != 201:
            raise RuntimeError(f"POST /v1_0/apiuser/{{id}}/apikey answered {status}: {body[:200]!r}")
        return user_id, json.loads(body)["apiKey"]


# -- the older package --------------------------------------------------------------------------------


def older_package_dir(workdir: Path, given: str | None = None) -> tuple[Path | None, str]:
    """A directory to put on sys.path to import the older `mtnmomo` package: (dir, note) or (None, why not).

    In order: `given`, $MTNMOMO_TARGET_DIR, .venv/mtnmomo-3.0.1 (where `make` puts it), else
    `pip install --no-deps --target` into `workdir`. Its own needs, `requests` and `phonenumbers`,
    must be importable by this interpreter (the project's test extra has them).
    """
    candidates = [Path(p) for p in (given, os.environ.get("MTNMOMO_TARGET_DIR")) if p] + [OLDER_TARGET_DIR]
    directory = next((p for p in candidates if (p / "mtnmomo").is_dir()), None)
    how = "found"
    if directory is None:
        directory = workdir / "mtnmomo-target"
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--no-deps", "--target", str(directory), OLDER], capture_output=True, text=True)
        if proc.returncode != 0 or not (directory / "mtnmomo").is_dir():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-2:]
            return None, f"pip install --no-deps {OLDER} failed: {' / '.join(last) or 'no output'}"
        how = "installed"
    check = subprocess.run([sys.executable, "-c", "import mtnmomo.collection, mtnmomo.cli, requests, phonenumbers;"
                            "import importlib.metadata as m; print(m.version('mtnmomo'), requests.__version__)"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(directory)})
    if check.returncode != 0:
        return None, f"mtnmomo in {directory} cannot be imported: {check.stderr.strip().splitlines()[-1:]}"
    version, requests_version = check.stdout.split()
    return directory, f"{how} mtnmomo {version} in {directory} (with requests {requests_version})"


def older_env(directory: Path, **extra: str) -> dict[str, str]:
    """An environment for a process that imports the older package from `directory`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOMO_")}
    env["PYTHONPATH"] = str(directory)
    env.update(extra)
    return env


# -- the machine and the table ----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPUs, CPU model, Python, OS, date."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{cpus} CPU(s) ({cpu_model()}), Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}, {now}")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    """A plain text table; the first `left` columns align left, the others right."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [line(cells[0]), "-" * len(line(cells[0]))]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"
