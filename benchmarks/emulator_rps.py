#!/usr/bin/env python3
"""How fast and how lean is the served emulator? A plain script, not a test.

It starts `momo sandbox serve` pinned to one core (when the machine allows it), provisions an API user,
creates some transactions, then hammers status GETs from a separate process pinned to another core,
over several keep-alive connections, for a few seconds per concurrency level. The baseline, measured
in the same run, is the emulator's cheapest endpoint (GET /_sandbox/health): the ratio shows what the
status path costs on top of the HTTP stack. Then it measures the server's resident memory before and
after creating many transactions (it should stay flat: the state lives in SQLite, not in the process).

    python benchmarks/emulator_rps.py                     # defaults: 5 s per level, 100,000 transactions
    python benchmarks/emulator_rps.py --seconds 3 --transactions 20000 --concurrency 1,16

Target: at least 1,000 status requests per second on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import time
import uuid

from _common import Emulator, workdir

SUBSCRIPTION_KEY = "0123456789abcdef0123456789abcdef"


# -- a minimal keep-alive HTTP/1.1 client (so that the client is not what we measure) ------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def build(method: str, path: str, headers: dict[str, str], body: bytes = b"", host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def hammer(port: int, requests: list[bytes], concurrency: int, seconds: float) -> tuple[int, int, float]:
    """Send the requests round-robin on `concurrency` connections for `seconds`: (ok, errors, elapsed)."""
    conns = [await Connection.open("127.0.0.1", port) for _ in range(concurrency)]
    ok = errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker(conn: Connection, offset: int) -> None:
        nonlocal ok, errors
        i = offset
        while time.perf_counter() < stop_at:
            status, _ = await conn.request(requests[i % len(requests)])
            i += 1
            if status == 200:
                ok += 1
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, n) for n, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    return ok, errors, elapsed


def load_process(port: int, requests: list[bytes], concurrency: int, seconds: float, core: int | None, out) -> None:
    if core is not None:
        try:
            os.sched_setaffinity(0, {core})
        except (AttributeError, OSError):
            pass
    out.send(asyncio.run(hammer(port, requests, concurrency, seconds)))


def run_load(port: int, requests: list[bytes], concurrency: int, seconds: float, core: int | None) -> tuple[int, int, float]:
    parent, child = mp.Pipe()
    proc = mp.Process(target=load_process, args=(port, requests, concurrency, seconds, core, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


# -- the server ----------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def setup(port: int, transactions: int) -> tuple[dict[str, str], list[str]]:
    conn = await Connection.open("127.0.0.1", port)
    user = str(uuid.uuid4())
    sk = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}
    status, _ = await conn.request(build("POST", "/v1_0/apiuser", {**sk, "X-Reference-Id": user,
                                         "Content-Type": "application/json"}, b'{"providerCallbackHost":"localhost"}'))
    assert status == 201, status
    status, body = await conn.request(build("POST", f"/v1_0/apiuser/{user}/apikey", sk))
    key = json.loads(body)["apiKey"]
    basic = base64.b64encode(f"{user}:{key}".encode()).decode()
    status, body = await conn.request(build("POST", "/collection/token/", {**sk, "Authorization": f"Basic {basic}"}))
    headers = {**sk, "Authorization": "Bearer " + json.loads(body)["access_token"], "X-Target-Environment": "sandbox"}
    conn.close()
    refs = await create(port, headers, transactions, concurrency=8)
    return headers, refs


async def create(port: int, headers: dict[str, str], count: int, concurrency: int = 16) -> list[str]:
    refs: list[str] = []
    body = json.dumps({"amount": "10", "currency": "EUR", "externalId": "bench",
                       "payer": {"partyIdType": "MSISDN", "partyId": "46733123999"},
                       "payerMessage": "bench", "payeeNote": "bench"}).encode()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        conn = await Connection.open("127.0.0.1", port)
        while remaining > 0:
            remaining -= 1
            ref = str(uuid.uuid4())
            status, _ = await conn.request(build("POST", "/collection/v1_0/requesttopay", {
                **headers, "X-Reference-Id": ref, "Content-Type": "application/json"}, body))
            if status != 202:
                raise RuntimeError(f"create answered {status}")
            refs.append(ref)
        conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="load time per concurrency level")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated connection counts")
    parser.add_argument("--transactions", type=int, default=100_000, help="for the memory check (0: skip it)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[0] if len(cores) >= 2 else None
    client_core = cores[1] if len(cores) >= 2 else None
    with workdir("momo-bench-", keep=args.keep) as directory, \
            Emulator(directory / "emulator.db", "--settle-after", "0", core=server_core) as server:
        measure(server, directory, args, levels, client_core)


def measure(server: Emulator, directory, args: argparse.Namespace, levels: list[int], client_core: int | None) -> None:
    port = server.port
    try:
        import httptools  # noqa: F401
        parser_name = "httptools"
    except ImportError:
        parser_name = "h11"
    print(f"momo sandbox serve (pid {server.pid}, HTTP parser {parser_name}) on 127.0.0.1:{port}, "
          f"server core {server.core}, load core {client_core}, {os.cpu_count()} cores here")
    headers, refs = asyncio.run(setup(port, 200))
    status_requests = [build("GET", f"/collection/v1_0/requesttopay/{ref}", headers) for ref in refs]
    health = [build("GET", "/_sandbox/health", {})]
    run_load(port, status_requests, 4, 1.0, client_core)  # warm up

    print()
    print(f"{'endpoint':<28}{'connections':>12}{'requests':>10}{'errors':>8}{'req/s':>10}{'vs baseline':>13}")
    for level in levels:
        base_ok, base_err, base_t = run_load(port, health, level, args.seconds, client_core)
        base_rps = base_ok / base_t
        ok, err, t = run_load(port, status_requests, level, args.seconds, client_core)
        rps = ok / t
        print(f"{'GET /_sandbox/health':<28}{level:>12}{base_ok:>10}{base_err:>8}{base_rps:>10.0f}{'1.00':>13}")
        print(f"{'GET requesttopay/{id}':<28}{level:>12}{ok:>10}{err:>8}{rps:>10.0f}{rps / base_rps:>13.2f}")
    if args.transactions:
        print()
        before = rss_kib(server.pid)
        started = time.perf_counter()
        more = asyncio.run(create(port, headers, args.transactions, concurrency=16))
        took = time.perf_counter() - started
        after = rss_kib(server.pid)
        db_mib = sum(p.stat().st_size for p in directory.glob("emulator.db*")) / 2**20
        print(f"created {len(more):,} transactions in {took:.1f} s ({len(more) / took:,.0f}/s)")
        print(f"server RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB "
              f"(+{(after - before) / 1024:.1f} MiB); database {db_mib:.0f} MiB")
        sample = [build("GET", f"/collection/v1_0/requesttopay/{ref}", headers) for ref in more[-500:]]
        ok, err, t = run_load(port, sample, max(levels), args.seconds, client_core)
        print(f"status GETs with {len(more) + len(refs):,} transactions stored: {ok / t:,.0f} req/s ({err} errors)")


if __name__ == "__main__":
    main()
