#!/usr/bin/env python3
"""Run every benchmark in benchmarks/ and print their tables, with the machine and the date.

Each script runs in turn (never two at once: they would measure each other), with this interpreter,
from the repository root, its output shown as it comes. The known ones go first in a fixed order
(start-up, requests per operation, provisioning, batch throughput, batch validation memory, the
emulator's requests per second); any other `benchmarks/*.py` follows. A summary says how each ended:
by convention a script exits 0 when its target is met, 1 when not, 2 when its baseline could not be
measured.

    python benchmarks/run_all.py                     # everything, default sizes (several minutes)
    python benchmarks/run_all.py --quick             # smaller runs of the known scripts
    python benchmarks/run_all.py --only startup,provisioning --log /tmp/bench.txt
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, machine, table

HERE = Path(__file__).resolve().parent
ORDER = ["startup", "http_requests", "provisioning", "batch_throughput", "batch_validation_memory", "emulator_rps"]
#: Smaller runs with --quick (scripts not named here run with their defaults).
QUICK = {
    "startup": ["--runs", "5"],
    "http_requests": ["--operations", "3"],
    "provisioning": ["--runs", "3", "--older-runs", "1"],
    "batch_throughput": ["--rows", "160"],
    "batch_validation_memory": ["--rows", "20000"],
    "emulator_rps": ["--seconds", "2", "--transactions", "20000"],
}
MEANING = {0: "ok (target met)", 1: "target NOT met", 2: "baseline not measured"}


def stop(proc: subprocess.Popen) -> None:
    """If a benchmark is still running (we were interrupted), stop it by its pid so that it cleans up."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def scripts() -> list[str]:
    found = {p.stem for p in HERE.glob("*.py") if not p.name.startswith("_") and p.stem != "run_all"}
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def load() -> str:
    """The load average (1, 5, 15 min): other work on the machine slows every timing here."""
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=REPO).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated script names (without .py)")
    parser.add_argument("--skip", help="comma-separated script names to leave out")
    parser.add_argument("--quick", action="store_true", help="smaller runs (for a check, not for the record)")
    parser.add_argument("--log", type=Path, help="also write everything shown to this file")
    args = parser.parse_args()

    names = scripts()
    if args.only:
        wanted = [n.strip().removesuffix(".py") for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"no such benchmark: {', '.join(unknown)} (there are: {', '.join(names)})")
        names = [n for n in names if n in wanted]
    if args.skip:
        skipped = {n.strip().removesuffix(".py") for n in args.skip.split(",")}
        names = [n for n in names if n not in skipped]

    log = args.log.open("w", encoding="utf-8") if args.log else None

    def show(text: str = "") -> None:
        print(text, flush=True)
        if log:
            log.write(text + "\n")
            log.flush()

    show(f"machine: {machine()}")
    show(f"commit:  {git_revision()}")
    show(f"python:  {sys.executable}")
    show(f"running: {', '.join(names)}{' (--quick)' if args.quick else ''}; {load()}")
    results = []
    try:
        for name in names:
            command = [sys.executable, str(HERE / f"{name}.py"), *(QUICK.get(name, []) if args.quick else [])]
            show()
            show(f"==== {name}: {' '.join(['python', f'benchmarks/{name}.py', *command[2:]])}")
            started = time.perf_counter()
            proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, text=True, bufsize=1)
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    show(line.rstrip("\n"))
                code = proc.wait()
            finally:
                stop(proc)
            results.append((name, code, time.perf_counter() - started))
    finally:
        if results:
            show()
            show(f"==== summary ({load()})")
            show(table(["benchmark", "exit", "meaning", "took"],
                       [[n, c, MEANING.get(c, "failed"), f"{t:.0f} s"] for n, c, t in results]))
        if log:
            log.close()
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
