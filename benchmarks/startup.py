#!/usr/bin/env python3
"""How fast does `momo` start? A plain script, not a test.

Measured in the same run, each command N times, round-robin (so that drift hits every command alike):

* `python -c pass`: the interpreter alone, the floor;
* `momo --help` and `momo --version`: what a person waits for first (answered without importing click);
* `momo provision --help`: a sub-command's help, through click;
* real commands on the built-in emulator: `momo provision show --json` (reads an API user back through
  the whole stack: settings, httpx, the in-process emulator) and `momo balance --json` when that command
  exists;
* the older package's `mtnmomo --help` (mtnmomo 3.0.1 from PyPI, with its own dependencies, in a
  throwaway virtualenv under a temporary directory): the baseline of the target.

Every momo command runs with its own temporary config, data and cache directories. The table shows the
median and the minimum wall time, and the ratios of the medians to `python -c pass` and to the older
`mtnmomo --help`.

    python benchmarks/startup.py                 # 20 runs each
    python benchmarks/startup.py --runs 50
    python benchmarks/startup.py --mtnmomo-from /path/to/mtnmomo-3.0.1.tar.gz   # no package index

Target: `momo --help` at most 0.5 x the older `mtnmomo --help`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import venv
from pathlib import Path

from _common import OLDER, find_momo, momo_env, run_timed, workdir

TARGET_RATIO = 0.5


def install_older(directory: Path, source: str | None) -> tuple[list[str] | None, str]:
    """A virtualenv with the older package; returns (its `mtnmomo` command, a note) or (None, why not)."""
    env_dir = directory / "older-venv"
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    except Exception as exc:  # noqa: BLE001 - report any reason and go on without the baseline
        return None, f"cannot create a virtualenv: {exc}"
    python = env_dir / "bin" / "python"
    what = source or OLDER
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", what],
        capture_output=True, text=True,
    )
    script = env_dir / "bin" / "mtnmomo"
    if proc.returncode != 0 or not script.exists():
        last = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return None, f"pip install {what} failed: {' / '.join(last) or 'no output'}"
    check = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, f"the installed mtnmomo --help fails: {check.stderr.strip()[-300:]}"
    version = subprocess.run([str(python), "-m", "pip", "show", "mtnmomo", "click"], capture_output=True,
                             text=True).stdout
    versions = ", ".join(line.split(": ", 1)[1] for line in version.splitlines() if line.startswith("Version"))
    return [str(script)], f"installed {what} in {env_dir} (mtnmomo, click: {versions})"


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> float:
    return run_timed(command, env, cwd)[0]


def has_command(momo: list[str], name: str, env: dict[str, str], cwd: Path) -> bool:
    proc = subprocess.run(momo + [name, "--help"], capture_output=True, env=env, cwd=cwd)
    return proc.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs per command first (default 2)")
    parser.add_argument("--mtnmomo-from", metavar="SPEC",
                        help=f"what to pip install for the baseline (default {OLDER} from the package index; "
                             "a path to an sdist or wheel works offline, with its dependencies at hand)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    with workdir("momo-startup-", keep=args.keep) as directory:
        return measure(directory, args)


def measure(root: Path, args: argparse.Namespace) -> int:
    momo = find_momo()
    env = momo_env(root)
    cwd = root / "cwd"  # no .env here
    cwd.mkdir()

    print(f"python: {sys.executable} ({sys.version.split()[0]})")
    print(f"momo:   {' '.join(momo)}")
    older, note = install_older(root, args.mtnmomo_from)
    print(f"older:  {note}")

    # a user on the built-in emulator for `provision show` (and warm the emulator's database)
    subprocess.run(momo + ["provision", "--provider", "example.com", "--json"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)

    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "momo --help": momo + ["--help"],
        "momo --version": momo + ["--version"],
        "momo provision --help (click)": momo + ["provision", "--help"],
        "momo provision show --json (local)": momo + ["provision", "show", "--json"],
    }
    if has_command(momo, "balance", env, cwd):
        commands["momo balance --json (local)"] = momo + ["balance", "--json"]
    if older:
        commands["mtnmomo --help (older 3.0.1)"] = older + ["--help"]
    print(f"runs:   {args.runs} each (after {args.warmup} warm-up), round-robin\n")

    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.warmup):
        for name, command in commands.items():
            run_once(command, env, cwd)
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(run_once(command, env, cwd))

    floor = statistics.median(times["python -c pass"])
    baseline_name = "mtnmomo --help (older 3.0.1)"
    baseline = statistics.median(times[baseline_name]) if baseline_name in times else None
    width = max(len(name) for name in commands)
    header = f"{'command':<{width}}  {'median':>9}  {'min':>9}  {'x python':>9}  {'x mtnmomo':>10}"
    print(header)
    print("-" * len(header))
    for name, samples in times.items():
        median = statistics.median(samples)
        versus_older = f"{median / baseline:>9.2f}x" if baseline else f"{'-':>10}"
        print(f"{name:<{width}}  {median * 1000:>7.1f}ms  {min(samples) * 1000:>7.1f}ms  "
              f"{median / floor:>8.2f}x  {versus_older}")
    print()
    help_median = statistics.median(times["momo --help"])
    if baseline is None:
        print("target: not measured (the older mtnmomo could not be installed; see above)")
        return 2
    ratio = help_median / baseline
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target: momo --help <= {TARGET_RATIO}x the older mtnmomo --help: {ratio:.2f}x, {verdict}")
    above_floor = (help_median - floor) / max(baseline - floor, 1e-9)
    print(f"        above the interpreter's own start: momo --help costs {above_floor:.2f}x what mtnmomo --help does")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
