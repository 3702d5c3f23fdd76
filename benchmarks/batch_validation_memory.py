#!/usr/bin/env python3
"""How much memory does validating a large batch file take? A plain script, not a test.

It writes a CSV of --rows rows (default 100,000, with messages and notes) in a temporary directory,
then runs the real command, `python -m momo_cli disburse batch FILE --dry-run --json`, in a child
process, and reads the child's peak resident memory (ru_maxrss from wait4) and its time. The baseline,
measured in the same run, is the same command on a 10-row file: the interpreter and the imports. The
difference is what the rows cost; validation streams, so it should stay small whatever the size.

    python benchmarks/batch_validation_memory.py                  # 100,000 rows
    python benchmarks/batch_validation_memory.py --rows 1000000

Target: the 100,000-row validation stays under 150 MB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 150.0


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("payee,amount,currency,external_id,payer_message,payee_note,payee_type\n")
        for i in range(rows):
            payee = f"4673312{i % 10_000_000:07d}" if i % 3 else "46733123999"
            f.write(f"{payee},{1 + i % 5000}.{i % 100:02d},EUR,salary-2026-11-{i:08d},"
                    f"November salary {i},Thank you for your work,msisdn\n")


def measure(path: Path, env: dict[str, str]) -> tuple[float, float, dict]:
    """(peak RSS in MB, seconds, the validated event) of one dry run in a child process."""
    command = [sys.executable, "-m", "momo_cli", "disburse", "batch", str(path), "--dry-run", "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"the dry run failed ({child.returncode}):\n{err.decode()}")
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / (1024 * 1024)
    return peak_mb, elapsed, json.loads(out.decode().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="momo-bench-") as tmp:
        tmp_path = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MOMO_CONFIG_DIR": str(tmp_path / "config"),
               "MOMO_DATA_DIR": str(tmp_path / "data"), "MOMO_CACHE_DIR": str(tmp_path / "cache")}
        for name in ("MOMO_PROFILE", "MOMO_BASE_URL", "MOMO_TARGET_ENVIRONMENT"):
            env.pop(name, None)
        small, large = tmp_path / "small.csv", tmp_path / "large.csv"
        write_file(small, 10)
        started = time.perf_counter()
        write_file(large, args.rows)
        written = time.perf_counter() - started
        size_mb = large.stat().st_size / 1e6
        base_mb, base_s, _ = measure(small, env)
        peak_mb, seconds, event = measure(large, env)
    assert event["rows"] == args.rows and event["valid"], event
    print(f"file: {args.rows:,} rows, {size_mb:.1f} MB (written in {written:.1f}s); "
          f"total {event['totals']['EUR']} EUR, {event['payees']:,} distinct payees")
    print()
    print(f"{'run':<28} {'peak RSS':>10} {'time':>8} {'rows/s':>10}")
    print(f"{'baseline: 10 rows':<28} {base_mb:>7.1f} MB {base_s:>7.2f}s {'':>10}")
    print(f"{f'{args.rows:,} rows':<28} {peak_mb:>7.1f} MB {seconds:>7.2f}s {args.rows / seconds:>10,.0f}")
    print(f"{'the rows cost':<28} {peak_mb - base_mb:>7.1f} MB")
    print()
    verdict = "OK" if peak_mb < TARGET_MB else "ABOVE TARGET"
    print(f"target: peak < {TARGET_MB:.0f} MB -> {peak_mb:.1f} MB: {verdict}")
    return 0 if peak_mb < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
