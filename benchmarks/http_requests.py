#!/usr/bin/env python3
"""How many HTTP requests does one operation cost? A plain script, not a test.

One served emulator (`momo sandbox serve`) and one API user, provisioned over plain HTTP before anything
is counted, shared by both clients. Then, N times (default 5), each operation in a process of its own:

* ours: `momo --base-url URL collect request --amount 5 --payer 256772123456 --yes --json`, then
  `momo --base-url URL status REF --json`, with the credentials in MOMO_COLLECTION_USER_ID, _API_KEY and
  _SUBSCRIPTION_KEY and one MOMO_CACHE_DIR for every process (where the token cache lives);
* the baseline, measured in the same run against the same emulator: the older `mtnmomo` 3.0.1 package
  (PyPI), its `Collection` client configured as its documentation says (BASE_URL, ENVIRONMENT,
  COLLECTION_USER_ID, COLLECTION_API_SECRET, COLLECTION_PRIMARY_KEY), `requestToPay(...)` in one
  process and `getTransactionStatus(ref)` in the next.

Every request is counted from the emulator's own request log (GET /_sandbox/requests), read before and
after each process, so each request is attributed to the process that sent it. The table shows the
requests and token fetches (POST /collection/token/) per operation and the ratio of ours to the older
package's.

    python benchmarks/http_requests.py                 # 5 of each
    python benchmarks/http_requests.py --operations 20
    python benchmarks/http_requests.py --mtnmomo-dir DIR   # where `pip install --no-deps --target DIR mtnmomo==3.0.1` put it

Target: at most 0.6 x the older package's requests per operation (it fetches a token on every call;
momo fetches one per token lifetime, across processes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from _common import (
    SUBSCRIPTION_KEY, Emulator, find_momo, momo_env, ms, older_env, older_package_dir, run_timed, table, workdir,
)

TARGET_RATIO = 0.6
#: The sandbox's "successful" number in the form the older package sends it (it accepts only MTN Uganda
#: numbers, and turns 0772123456 into 256772123456): both clients send the same payer.
PAYER = "256772123456"
OLDER_MOBILE = "0772123456"
AMOUNT = "5"

#: One operation with the older package, configured as its README and config.py say (from the environment).
OLDER_DRIVER = r"""
import contextlib, io, json, os, sys
from mtnmomo.collection import Collection

config = {name: os.environ.get(name) for name in (
    "ENVIRONMENT", "BASE_URL", "CALLBACK_HOST",
    "COLLECTION_PRIMARY_KEY", "COLLECTION_USER_ID", "COLLECTION_API_SECRET")}
collection = Collection(config)
with contextlib.redirect_stdout(io.StringIO()):  # it prints every response and URL
    if sys.argv[1] == "request-to-pay":
        result = collection.requestToPay(mobile=sys.argv[2], amount=sys.argv[3], external_id="bench",
                                         payee_note="bench", payer_message="bench", currency="EUR")
    else:
        result = collection.getTransactionStatus(sys.argv[2])
print(json.dumps(result))
"""


class Tally:
    """The requests each process sent, per operation."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.rows: dict[str, list[tuple[list[dict], float]]] = {"request to pay": [], "status": []}

    def add(self, operation: str, requests: list[dict], wall: float) -> None:
        self.rows[operation].append((requests, wall))

    def requests(self, operation: str | None = None) -> list[dict]:
        ops = [operation] if operation else list(self.rows)
        return [r for op in ops for reqs, _ in self.rows[op] for r in reqs]

    def operations(self, operation: str | None = None) -> int:
        ops = [operation] if operation else list(self.rows)
        return sum(len(self.rows[op]) for op in ops)

    def walls(self, operation: str | None = None) -> list[float]:
        ops = [operation] if operation else list(self.rows)
        return [wall for op in ops for _, wall in self.rows[op]]

    def per_operation(self) -> float:
        return len(self.requests()) / self.operations()


def is_token(request: dict) -> bool:
    return request["method"] == "POST" and request["path"].rstrip("/").endswith("/token")


def shape(request: dict) -> str:
    path = request["path"]
    if path.startswith("/collection/v1_0/requesttopay/"):
        path = "/collection/v1_0/requesttopay/{id}"
    return f"{request['method']} {path} {request['status']}"


def counted(emulator: Emulator, before: int) -> tuple[list[dict], int]:
    log = emulator.request_log()
    return log[before:], len(log)


def run_ours(emulator: Emulator, root: Path, user_id: str, api_key: str, n: int) -> Tally:
    momo = find_momo()
    env = momo_env(root, MOMO_COLLECTION_USER_ID=user_id, MOMO_COLLECTION_API_KEY=api_key,
                   MOMO_COLLECTION_SUBSCRIPTION_KEY=SUBSCRIPTION_KEY)
    cwd = root / "cwd"  # no .env here
    cwd.mkdir(parents=True)
    base = ["--base-url", emulator.url]
    tally = Tally("momo")
    mark = len(emulator.request_log())
    for _ in range(n):
        wall, proc = run_timed(momo + base + ["collect", "request", "--amount", AMOUNT, "--payer", PAYER,
                                              "--yes", "--json"], env, cwd, capture=True)
        reference = json.loads(proc.stdout)["reference_id"]
        sent, mark = counted(emulator, mark)
        tally.add("request to pay", sent, wall)
        wall, proc = run_timed(momo + base + ["status", reference, "--json"], env, cwd, capture=True)
        status = json.loads(proc.stdout)["status"]
        if status != "SUCCESSFUL":
            raise RuntimeError(f"momo status {reference}: {status}, expected SUCCESSFUL")
        sent, mark = counted(emulator, mark)
        tally.add("status", sent, wall)
    return tally


def run_older(emulator: Emulator, directory: Path, cwd: Path, user_id: str, api_key: str, n: int) -> Tally:
    env = older_env(directory, ENVIRONMENT="sandbox", BASE_URL=emulator.url, CALLBACK_HOST="localhost",
                    COLLECTION_PRIMARY_KEY=SUBSCRIPTION_KEY, COLLECTION_USER_ID=user_id,
                    COLLECTION_API_SECRET=api_key)
    driver = [sys.executable, "-c", OLDER_DRIVER]
    tally = Tally("mtnmomo 3.0.1")
    mark = len(emulator.request_log())
    for _ in range(n):
        wall, proc = run_timed(driver + ["request-to-pay", OLDER_MOBILE, AMOUNT], env, cwd, capture=True)
        reference = json.loads(proc.stdout)["transaction_ref"]
        sent, mark = counted(emulator, mark)
        tally.add("request to pay", sent, wall)
        wall, proc = run_timed(driver + ["status", reference], env, cwd, capture=True)
        status = json.loads(proc.stdout)["status"]
        if status != "SUCCESSFUL":
            raise RuntimeError(f"mtnmomo getTransactionStatus({reference}): {status}, expected SUCCESSFUL")
        sent, mark = counted(emulator, mark)
        tally.add("status", sent, wall)
    return tally


def report(tallies: list[Tally]) -> str:
    rows = []
    for tally in tallies:
        for operation in (*tally.rows, None):
            sent = tally.requests(operation)
            operations = tally.operations(operation)
            rows.append([
                tally.client,
                operation or "all",
                operations,
                len(sent),
                sum(map(is_token, sent)),
                sum(1 for r in sent if not 200 <= r["status"] < 300),
                f"{len(sent) / operations:.2f}",
                ms(statistics.median(tally.walls(operation))),
            ])
    headers = ["client", "operation", "processes", "requests", "token fetches", "non-2xx", "per operation",
               "median wall"]
    return table(headers, rows, left=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=5,
                        help="request-to-pay + status pairs per client, each operation a process (default 5)")
    parser.add_argument("--mtnmomo-dir", metavar="DIR",
                        help="a directory holding the older mtnmomo package (default: .venv/mtnmomo-3.0.1, "
                             "else pip install --no-deps into a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    with workdir("momo-http-requests-", keep=args.keep) as root:
        print(f"python: {sys.executable} ({sys.version.split()[0]})")
        print(f"momo:   {' '.join(find_momo())}")
        older_dir, note = older_package_dir(root, args.mtnmomo_dir)
        print(f"older:  {note}")
        with Emulator(root / "emulator.db", "--settle-after", "0") as emulator:
            user_id, api_key = emulator.provision()
            print(f"emulator: momo sandbox serve (pid {emulator.pid}) at {emulator.url}, --settle-after 0; "
                  f"one API user for both clients, provisioned before counting")
            print(f"operations: {args.operations} request-to-pay + {args.operations} status per client, "
                  f"each in its own process\n")
            tallies = [run_ours(emulator, root / "ours", user_id, api_key, args.operations)]
            if older_dir is not None:
                cwd = root / "older"
                cwd.mkdir()
                tallies.append(run_older(emulator, older_dir, cwd, user_id, api_key, args.operations))

        print(report(tallies))
        print()
        for tally in tallies:
            seen = Counter(shape(r) for r in tally.requests())
            print(f"{tally.client} sent: " + ", ".join(f"{what} x{count}" for what, count in seen.items()))
        print()
        if len(tallies) < 2:
            print("target: not measured (the older mtnmomo could not be loaded; see above)")
            return 2
        ours, older = (t.per_operation() for t in tallies)
        ratio = ours / older
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"target: momo at most {TARGET_RATIO}x the older mtnmomo's requests per operation: "
              f"{ours:.2f} / {older:.2f} = {ratio:.2f}x, {verdict}")
        return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
