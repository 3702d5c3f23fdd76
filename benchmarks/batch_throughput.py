#!/usr/bin/env python3
"""How fast does `momo disburse batch` pay out, against what the latency allows? A plain script.

It serves the emulator (`momo sandbox serve --latency 100 --settle-after 0`: every answer takes
100 ms), then, in the same run:

1. pays --rows rows (default 400) with `momo disburse batch FILE --yes --json --concurrency 8`, and
   reads the phases from its NDJSON events: the send phase (one POST per row) against the bound
   concurrency / latency (8 / 0.1 s = 80 rows/s), and the whole run (a POST and a status GET per row)
   against half of it;
2. pays rows/10 rows one at a time, the way a script loops: `momo disburse transfer ... --yes` once
   per row (a process each), and the same loop inside one process (journal, then send, row by row:
   the bound of any one-at-a-time loop is 1 / latency = 10 rows/s).

    python benchmarks/batch_throughput.py                        # 400 rows, latency 100 ms
    python benchmarks/batch_throughput.py --rows 800 --concurrency 16 --latency 50

Targets: the send phase at least 70% of the bound, and at least 5x the one-by-one loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path, latency_ms: float, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "momo_cli", "sandbox", "serve", "--port", str(port), "--db", str(db),
         "--latency", f"{latency_ms:g}", "--settle-after", "0", "--quiet"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_sandbox/health", timeout=1, trust_env=False).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the emulator did not start")


def write_rows(path: Path, rows: int, prefix: str) -> None:
    with path.open("w") as f:
        f.write("payee,amount,currency,external_id\n")
        for i in range(rows):
            f.write(f"46733123999,{1 + i % 50}.50,EUR,{prefix}-{i:06d}\n")


def run_batch(url: str, path: Path, concurrency: int, env: dict[str, str]) -> dict[str, float]:
    command = [sys.executable, "-m", "momo_cli", "--base-url", url, "disburse", "batch", str(path), "--yes",
               "--json", "--concurrency", str(concurrency), "--poll-interval", "0.1"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the batch failed ({done.returncode}):\n{done.stderr}")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    phases = {e["phase"]: e["elapsed"] for e in events if e["event"] == "phase"}
    summary = events[-1]
    assert summary["event"] == "summary" and summary["successful"] == summary["total"], summary
    return {"send": phases["poll"] - phases["send"], "run": summary["elapsed"], "wall": wall,
            "requests": summary["requests"]}


def loop_processes(url: str, rows: int, env: dict[str, str]) -> float:
    """Seconds for `momo disburse transfer` once per row, one after the other."""
    started = time.perf_counter()
    for i in range(rows):
        done = subprocess.run(
            [sys.executable, "-m", "momo_cli", "--base-url", url, "disburse", "transfer", "--amount", "1.50",
             "--payee", "46733123999", "--external-id", f"loop-{i:06d}", "--yes", "--json"],
            env=env, capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"momo disburse transfer failed ({done.returncode}):\n{done.stderr}")
    return time.perf_counter() - started


def loop_in_process(url: str, rows: int) -> float:
    """Seconds for the same loop in one process: journal the row, send it, next row."""
    from momo_cli.commands._session import Session
    from momo_cli.context import AppContext
    from momo_cli.journal.sender import submit
    from momo_cli.output import Output

    session = Session(AppContext(base_url=url), Output(quiet=True))
    settings = session.settings
    journal = session.journal()

    async def main() -> float:
        async with session.client("disbursement") as client:
            await client.ensure_token("disbursement")
            started = time.perf_counter()
            for i in range(rows):
                ref = str(uuid.uuid4())
                journal.record_new(
                    reference_id=ref, product="disbursement", operation="transfer",
                    body={"amount": "1.50", "currency": "EUR", "externalId": f"inproc-{i:06d}",
                          "payee": {"partyIdType": "MSISDN", "partyId": "46733123999"}},
                    profile=settings.profile, base_url=settings.base_url,
                    target_environment=settings.target_environment,
                )
                entry = await submit(journal, client, ref)
                assert entry.state == "submitted", entry
            return time.perf_counter() - started

    try:
        return asyncio.run(main())
    finally:
        session.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=100.0, help="emulator latency in milliseconds")
    args = parser.parse_args()
    bound = args.concurrency / (args.latency / 1000)
    serial_bound = 1 / (args.latency / 1000)
    loop_rows = max(1, args.rows // 10)
    with tempfile.TemporaryDirectory(prefix="momo-bench-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MOMO_CONFIG_DIR": str(tmp_path / "config"),
               "MOMO_DATA_DIR": str(tmp_path / "data"), "MOMO_CACHE_DIR": str(tmp_path / "cache")}
        for name in list(env):
            if name.startswith("MOMO_") and name not in ("MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR"):
                env.pop(name)
        os.environ.update({k: env[k] for k in ("MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR")})
        server, url = serve(tmp_path / "emulator.db", args.latency, env)
        try:
            warm = tmp_path / "warm.csv"  # provisions the API user and caches a token first
            write_rows(warm, 2, "warm")
            run_batch(url, warm, args.concurrency, env)
            path = tmp_path / "payouts.csv"
            write_rows(path, args.rows, "batch")
            batch = run_batch(url, path, args.concurrency, env)
            processes = loop_processes(url, loop_rows, env)
            in_process = loop_in_process(url, loop_rows)
        finally:
            server.terminate()
            server.wait(10)

    send_rate = args.rows / batch["send"]
    run_rate = args.rows / batch["run"]
    wall_rate = args.rows / batch["wall"]
    proc_rate = loop_rows / processes
    inproc_rate = loop_rows / in_process
    print(f"emulator latency {args.latency:g} ms, concurrency {args.concurrency}: bound {bound:g} rows/s "
          f"(one request per row), {bound / 2:g} rows/s with a status check per row; "
          f"a one-at-a-time loop is bound by {serial_bound:g} rows/s")
    print()
    header = f"{'':<46} {'rows':>6} {'seconds':>8} {'rows/s':>8} {'% of bound':>11} {'speed-up':>9}"
    print(header)
    print("-" * len(header))

    def line(name: str, rows: int, seconds: float, rate: float, of_bound: float | None, speedup: float | None):
        pct = f"{100 * rate / of_bound:.0f}%" if of_bound else ""
        up = f"{speedup:.1f}x" if speedup else ""
        print(f"{name:<46} {rows:>6} {seconds:>8.2f} {rate:>8.1f} {pct:>11} {up:>9}")

    line("batch: send phase (POST per row)", args.rows, batch["send"], send_rate, bound, send_rate / proc_rate)
    line("batch: send + follow to final (POST + GET)", args.rows, batch["run"], run_rate, bound / 2,
         run_rate / proc_rate)
    line("batch: whole command (start-up, validation)", args.rows, batch["wall"], wall_rate, None,
         wall_rate / proc_rate)
    line("one by one: `momo disburse transfer` per row", loop_rows, processes, proc_rate, serial_bound, 1.0)
    line("one by one: journal + send, in one process", loop_rows, in_process, inproc_rate, serial_bound,
         inproc_rate / proc_rate)
    print()
    ok_bound = send_rate >= 0.7 * bound
    ok_speedup = send_rate >= 5 * proc_rate
    print(f"send phase vs the in-process one-by-one loop: {send_rate / inproc_rate:.1f}x")
    print(f"target: send phase >= 70% of the bound -> {100 * send_rate / bound:.0f}%: {'OK' if ok_bound else 'BELOW'}")
    print(f"target: >= 5x the one-by-one loop -> {send_rate / proc_rate:.1f}x: {'OK' if ok_speedup else 'BELOW'}")
    print(f"({batch['requests']} requests in the batch run)")
    return 0 if ok_bound and ok_speedup else 1


if __name__ == "__main__":
    sys.exit(main())
