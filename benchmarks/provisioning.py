#!/usr/bin/env python3
"""How long does provisioning an API user take? A plain script, not a test.

Against one served emulator with `--latency 50` (every answer waits 50 ms, like a distant host), measured
in the same run, both as a whole command (process wall time: what a person waits for) and in-process
(the provisioning call alone, without interpreter start-up and imports):

* ours: `momo --base-url URL provision --provider example.com --key KEY --json` (three requests: create
  the user, read it back, create its key; the profile saved), and `provision_sandbox_user()` in-process;
* the baseline: the older `mtnmomo` 3.0.1 package's own provisioning, `mtnmomo --provider --key`
  (`mtnmomo.cli.main`) as a process and `mtnmomo.cli.generateToken()` in-process. Its code is run
  unchanged: POST /v1_0/apiuser, `time.sleep(5)`, POST /v1_0/apiuser/{id}/apikey. Only its hard-coded
  host (https://ericssonbasicapi2.azure-api.net, gone) is rewritten to the emulator's URL, by wrapping
  `requests.post`, so that it provisions where ours does.

Each run makes a new API user; the requests each run sent are counted from the emulator's request log.

    python benchmarks/provisioning.py                      # 5 runs of ours, 3 of the older (5 s each)
    python benchmarks/provisioning.py --runs 10 --older-runs 5 --latency 50

Target: ours at least 10 x faster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from _common import (
    OLDER_LEGACY_HOST, SUBSCRIPTION_KEY, Emulator, find_momo, momo_env, ms, older_env, older_package_dir,
    run_timed, table, workdir,
)

TARGET_SPEEDUP = 10.0
PROVIDER = "example.com"

#: The older package's `mtnmomo` command, unchanged but for its host (argv: base URL, then its options).
OLDER_DRIVER = r"""
import sys
import requests
import mtnmomo.cli

LEGACY, base = %r, sys.argv[1]
post = requests.post

def rewritten(url, *args, **kwargs):  # only the host changes
    if url.startswith(LEGACY):
        url = base + url[len(LEGACY):]
    return post(url, *args, **kwargs)

requests.post = rewritten
mtnmomo.cli.main(sys.argv[2:])
""" % OLDER_LEGACY_HOST


@contextlib.contextmanager
def older_host_rewritten(base_url: str) -> Iterator[None]:
    """In this process: `requests.post` sends the older package's legacy host to `base_url` instead."""
    import requests

    post = requests.post

    def rewritten(url, *args, **kwargs):
        if url.startswith(OLDER_LEGACY_HOST):
            url = base_url + url[len(OLDER_LEGACY_HOST):]
        return post(url, *args, **kwargs)

    requests.post = rewritten
    try:
        yield
    finally:
        requests.post = post


class Sample:
    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        self.walls: list[float] = []
        self.requests: list[int] = []

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def measure(emulator: Emulator, sample: Sample, runs: int, once: Callable[[], None]) -> Sample:
    mark = len(emulator.request_log())
    for _ in range(runs):
        started = time.perf_counter()
        once()
        sample.walls.append(time.perf_counter() - started)
        log = emulator.request_log()
        sample.requests.append(len(log) - mark)
        mark = len(log)
    return sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of ours, each way (default 5)")
    parser.add_argument("--older-runs", type=int, default=3,
                        help="runs of the older package, each way (default 3; each takes over 5 s)")
    parser.add_argument("--latency", type=float, default=50.0, help="the emulator's --latency in ms (default 50)")
    parser.add_argument("--mtnmomo-dir", metavar="DIR",
                        help="a directory holding the older mtnmomo package (default: .venv/mtnmomo-3.0.1, "
                             "else pip install --no-deps into a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    with workdir("momo-provisioning-", keep=args.keep) as root:
        return run(root, args)


def run(root: Path, args: argparse.Namespace) -> int:
    momo = find_momo()
    print(f"python: {sys.executable} ({sys.version.split()[0]})")
    print(f"momo:   {' '.join(momo)}")
    older_dir, note = older_package_dir(root, args.mtnmomo_dir)
    print(f"older:  {note}")
    cwd = root / "cwd"  # no .env here
    cwd.mkdir()
    samples: list[Sample] = []
    with Emulator(root / "emulator.db", "--settle-after", "0", "--latency", f"{args.latency:g}") as emulator:
        print(f"emulator: momo sandbox serve (pid {emulator.pid}) at {emulator.url}, --latency {args.latency:g}")
        print(f"runs: {args.runs} of ours, {args.older_runs} of the older package, each way "
              f"(after one unmeasured run of each in-process)\n")

        # ours, as a command: each run with its own config, data and cache (a new profile saved)
        counter = iter(range(10**6))

        def ours_command() -> None:
            env = momo_env(root / f"ours-{next(counter)}")
            _, proc = run_timed(momo + ["--base-url", emulator.url, "provision", "--provider", PROVIDER,
                                        "--key", SUBSCRIPTION_KEY, "--json"], env, cwd, capture=True)
            if not json.loads(proc.stdout).get("api_key"):
                raise RuntimeError("momo provision printed no api_key")

        samples.append(measure(emulator, Sample("momo provision --json", "process"), args.runs, ours_command))

        # ours, in-process
        from momo_cli.api.provisioning import provision_sandbox_user

        def ours_call() -> None:
            user = asyncio.run(provision_sandbox_user(emulator.url, SUBSCRIPTION_KEY, PROVIDER))
            if not user.api_key:
                raise RuntimeError("provision_sandbox_user gave no API key")

        ours_call()  # imports and first connection, unmeasured
        samples.append(measure(emulator, Sample("provision_sandbox_user()", "in-process"), args.runs, ours_call))

        if older_dir is not None:
            env = older_env(older_dir)
            driver = [sys.executable, "-c", OLDER_DRIVER, emulator.url, "--provider", PROVIDER, "--key", SUBSCRIPTION_KEY]

            def older_command() -> None:
                _, proc = run_timed(driver, env, cwd, capture=True)
                if b"APISecret" not in proc.stdout:
                    raise RuntimeError(f"mtnmomo --provider --key printed {proc.stdout[-300:]!r}")

            samples.append(measure(emulator, Sample("mtnmomo --provider --key (3.0.1)", "process"),
                                   args.older_runs, older_command))

            sys.path.insert(0, str(older_dir))
            try:
                import mtnmomo.cli
            finally:
                sys.path.remove(str(older_dir))

            def older_call() -> None:
                with older_host_rewritten(emulator.url):
                    result = mtnmomo.cli.generateToken(PROVIDER, SUBSCRIPTION_KEY)
                if "APISecret" not in str(result):
                    raise RuntimeError(f"mtnmomo.cli.generateToken gave {result!r}")

            older_call()  # imports and first connection, unmeasured
            samples.append(measure(emulator, Sample("mtnmomo.cli.generateToken() (3.0.1)", "in-process"),
                                   args.older_runs, older_call))

    baseline = {s.kind: s.median for s in samples if "3.0.1" in s.name}
    rows = []
    for s in samples:
        faster = f"{baseline[s.kind] / s.median:.1f}x" if s.kind in baseline else "-"
        requests = "/".join(sorted({str(n) for n in s.requests}))
        rows.append([s.name, s.kind, len(s.walls), requests, ms(s.median), ms(min(s.walls)), faster])
    print(table(["what", "how", "runs", "requests/run", "median", "min", "faster than older"], rows, left=2))
    print()
    if not baseline:
        print("target: not measured (the older mtnmomo could not be loaded; see above)")
        return 2
    met = True
    for s in samples:
        if "3.0.1" in s.name:
            continue
        speedup = baseline[s.kind] / s.median
        ok = speedup >= TARGET_SPEEDUP
        met = met and ok
        print(f"target: provisioning at least {TARGET_SPEEDUP:g}x faster than the older package ({s.kind}): "
              f"{speedup:.1f}x, {'met' if ok else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
