"""`momo callbacks listen` as a real process over loopback, and `list` / `replay` through the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx
from click.testing import CliRunner

from momo_cli.callbacks.events import RawCallback
from momo_cli.callbacks.store import FILE_NAME, CallbackStore, default_data_dir
from momo_cli.cli import root
from tests.callbacks.support import (
    MOMO_HEADERS,
    PAYMENT_V2,
    RTP_FAILED,
    RTP_SUCCESS,
    TRANSFER_SUCCESS,
    WITHDRAW_V2_FAILED,
    closed_port,
    free_port,
    start_listener,  # noqa: F401 - fixture
    target_app,  # noqa: F401 - fixture
)
from tests.support.imports import imported_by

NDJSON_KEYS = {
    "received_at", "method", "path", "headers", "body", "duplicate", "fingerprint", "product", "operation",
    "status", "reason", "amount", "currency", "external_id", "financial_transaction_id", "forward",
}


def invoke(*args: str):
    return CliRunner().invoke(root, list(args), prog_name="momo")


def test_listen_prints_ndjson_per_callback_and_a_summary_on_sigint(start_listener):  # noqa: F811
    port = free_port()
    listener = start_listener("--port", str(port), "--path", "/momo", "--json")
    banner = listener.wait_ready()
    assert f"http://127.0.0.1:{port}/momo" in banner
    assert "providerCallbackHost" in banner
    url = f"http://127.0.0.1:{port}/momo"
    with httpx.Client(timeout=5) as client:
        assert client.post(url, json=RTP_SUCCESS, headers=MOMO_HEADERS).status_code == 200
        first = listener.next_event()
        client.post(url + "/collection", json=RTP_FAILED, headers=MOMO_HEADERS)
        second = listener.next_event()
        client.post(url, json=TRANSFER_SUCCESS, headers=MOMO_HEADERS)
        third = listener.next_event()
        client.put(url, json=PAYMENT_V2, headers=MOMO_HEADERS)
        fourth = listener.next_event()
        client.post(url, json=RTP_FAILED, headers=MOMO_HEADERS)  # delivered again: at least once
        again = listener.next_event()
        assert client.post(f"http://127.0.0.1:{port}/elsewhere", json=RTP_SUCCESS).status_code == 404

    for event in (first, second, third, fourth, again):
        assert NDJSON_KEYS <= set(event)
        assert event["forward"] is None
    assert (first["method"], first["path"], first["product"], first["operation"]) == (
        "POST", "/momo", "collection", "request_to_pay")
    assert first["body"] == RTP_SUCCESS
    assert first["status"] == "SUCCESSFUL" and first["reason"] is None
    assert (first["amount"], first["currency"]) == ("100", "EUR")
    assert first["financial_transaction_id"] == "600198217"
    assert first["headers"]["user-agent"] == "LWAC Http Client 1.0"
    assert first["headers"]["content-type"] == "application/json; charset=utf-8"
    assert first["duplicate"] is False and len(first["fingerprint"]) == 64
    assert (second["path"], second["status"], second["reason"], second["amount"], second["external_id"]) == (
        "/momo/collection", "FAILED", "APPROVAL_REJECTED", "250.50", "order-2")
    assert (third["product"], third["operation"], third["external_id"]) == ("disbursement", "transfer", "payout-7")
    assert (fourth["method"], fourth["operation"]) == ("PUT", "payment")
    assert fourth["reason"] == {"code": "PAYER_NOT_FOUND", "message": "The payer was not found."}
    assert again["duplicate"] is True and again["duplicate_of"] == second["seq"]
    assert again["fingerprint"] == second["fingerprint"]

    assert listener.stop(signal.SIGINT) == 0
    stderr = listener.remaining_stderr()
    assert "Received 5 callbacks (1 duplicate)" in stderr
    assert "FAILED 3, SUCCESSFUL 2" in stderr
    assert "Traceback" not in stderr
    assert listener.stdout.get(timeout=5) is None  # nothing else on stdout: pure NDJSON


def test_listen_forwards_to_the_users_app(start_listener, target_app):  # noqa: F811
    port = free_port()
    listener = start_listener("--port", str(port), "--forward-to", target_app.url, "--json")
    banner = listener.wait_ready()
    assert f"Forwarding to {target_app.url}" in banner
    with httpx.Client(timeout=5) as client:
        client.post(f"http://127.0.0.1:{port}/cb/one", json=RTP_SUCCESS, headers=MOMO_HEADERS)
        event = listener.next_event()
        client.put(f"http://127.0.0.1:{port}/cb/two", json=WITHDRAW_V2_FAILED,
                   headers={**MOMO_HEADERS, "X-Extra": "kept-out"})
        event2 = listener.next_event()
    first, second = target_app.wait_for_requests(2)
    assert (first.method, first.path) == ("POST", "/app/hook")
    assert json.loads(first.body) == RTP_SUCCESS
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["user-agent"] == "LWAC Http Client 1.0"
    assert (second.method, json.loads(second.body)) == ("PUT", WITHDRAW_V2_FAILED)
    assert "x-extra" not in second.headers
    assert event["forward"]["url"] == target_app.url
    assert event["forward"]["status"] == 200 and event["forward"]["error"] is None
    assert '"n":1' in event["forward"]["body_excerpt"]
    assert event2["forward"]["status"] == 200
    assert listener.stop(signal.SIGTERM) == 0
    assert "forwarded 2, 0 failed" in listener.remaining_stderr()


def test_unreachable_forward_target_is_reported_and_the_listener_keeps_running(start_listener):  # noqa: F811
    port, dead = free_port(), closed_port()
    listener = start_listener("--port", str(port), "--forward-to", f"http://127.0.0.1:{dead}/hook",
                              "--forward-timeout", "2")
    listener.wait_ready()
    warning = listener.stderr_until("warning: --forward-to")
    assert "connection refused" in warning
    with httpx.Client(timeout=5) as client:
        assert client.post(f"http://127.0.0.1:{port}/", json=RTP_FAILED, headers=MOMO_HEADERS).status_code == 200
        line = listener.next_line()
        assert client.post(f"http://127.0.0.1:{port}/", json=TRANSFER_SUCCESS).status_code == 200
        line2 = listener.next_line()
    assert "#1 POST /" in line and "FAILED APPROVAL_REJECTED" in line and "ext order-2" in line
    assert "forward failed: cannot connect" in line and "connection refused" in line
    assert "#2" in line2 and "disbursement transfer" in line2
    assert listener.proc.poll() is None
    assert listener.stop() == 0
    assert "2 failed" in listener.remaining_stderr()


def test_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "momo_cli", "callbacks", "listen", "--port", str(port)],
            capture_output=True, text=True, timeout=30, env=dict(os.environ),
        )
    assert done.returncode == 2
    assert done.stderr == f"momo: error: port {port} is in use: pick another with --port\n"
    assert done.stdout == ""


def test_human_lines_mark_duplicates(start_listener):  # noqa: F811
    port = free_port()
    listener = start_listener("--port", str(port))
    listener.wait_ready()
    with httpx.Client(timeout=5) as client:
        for _ in range(2):
            client.post(f"http://127.0.0.1:{port}/momo", json=RTP_SUCCESS, headers=MOMO_HEADERS)
    first, second = listener.next_line(), listener.next_line()
    assert "DUPLICATE" not in first and "SUCCESSFUL" in first and "100 EUR" in first
    assert "DUPLICATE of #1" in second
    assert listener.stop() == 0


def test_listen_rejects_bad_options():
    assert invoke("callbacks", "listen", "--forward-to", "ftp://x").exit_code == 2
    assert invoke("callbacks", "listen", "--path", "momo").exit_code == 2
    assert invoke("callbacks", "listen", "--port", "70000").exit_code == 2


# -- list and replay ----------------------------------------------------------------------------------
def _stored(*bodies: dict, method: str = "POST") -> list[int]:
    with CallbackStore(default_data_dir() / FILE_NAME) as store:
        return [
            store.record(RawCallback(method, "/momo", headers=[(k.lower(), v) for k, v in MOMO_HEADERS.items()]
                                     + [("host", "old-host:1"), ("x-trace", "t-1")],
                                     body=json.dumps(body).encode())).seq
            for body in bodies
        ]


def test_list_shows_received_callbacks():
    assert invoke("callbacks", "list").stderr.startswith("No callbacks received yet")
    assert json.loads(invoke("callbacks", "list", "--json").stdout) == []
    _stored(RTP_SUCCESS, RTP_FAILED, RTP_SUCCESS)
    human = invoke("callbacks", "list")
    assert human.exit_code == 0
    lines = human.stdout.splitlines()
    assert len(lines) == 3 and "DUPLICATE of #1" in lines[2]
    data = json.loads(invoke("callbacks", "list", "--json", "--last", "2").stdout)
    assert [item["seq"] for item in data] == [2, 3]
    assert data[1]["duplicate"] is True


def test_replay_sends_the_original_method_headers_and_body(target_app):  # noqa: F811
    seqs = _stored(RTP_SUCCESS, TRANSFER_SUCCESS)
    result = invoke("callbacks", "replay", "--to", target_app.url, str(seqs[1]), "--json")
    assert result.exit_code == 0, result.stderr
    (outcome,) = json.loads(result.stdout)
    assert outcome["seq"] == seqs[1] and outcome["status"] == 200 and outcome["error"] is None
    (received,) = target_app.wait_for_requests(1)
    assert received.method == "POST" and json.loads(received.body) == TRANSFER_SUCCESS
    assert received.headers["x-trace"] == "t-1"
    assert received.headers["user-agent"] == "LWAC Http Client 1.0"
    assert received.headers["host"] != "old-host:1"

    human = invoke("callbacks", "replay", "--to", target_app.url, "--last", "2")
    assert human.exit_code == 0
    assert human.stdout.count("→ 200") == 2
    assert len(target_app.wait_for_requests(3)) == 3


def test_replay_by_fingerprint_prefix_and_put(target_app):  # noqa: F811
    _stored(WITHDRAW_V2_FAILED, method="PUT")
    with CallbackStore(default_data_dir() / FILE_NAME) as store:
        fingerprint = store.get(1).fingerprint
    result = invoke("callbacks", "replay", "--to", target_app.url, fingerprint[:10])
    assert result.exit_code == 0, result.stderr
    (received,) = target_app.wait_for_requests(1)
    assert received.method == "PUT"


def test_replay_exit_codes(target_app):  # noqa: F811
    assert invoke("callbacks", "replay", "--to", target_app.url, "1").exit_code == 2  # nothing stored
    _stored(RTP_SUCCESS)
    assert invoke("callbacks", "replay", "1").exit_code == 2  # no --to
    assert invoke("callbacks", "replay", "--to", target_app.url).exit_code == 2  # nothing selected
    assert invoke("callbacks", "replay", "--to", target_app.url, "42").exit_code == 2
    unreachable = invoke("callbacks", "replay", "--to", f"http://127.0.0.1:{closed_port()}/x", "1")
    assert unreachable.exit_code == 6
    assert "connection refused" in unreachable.stderr
    target_app.status = 500
    refused = invoke("callbacks", "replay", "--to", target_app.url, "1")
    assert refused.exit_code == 5
    assert "answered 500" in refused.stderr
    journal = invoke("callbacks", "replay", "--to", target_app.url, "5b4d9fb0-8a8f-4b76-9c0b-1b9a2c4e6f70")
    assert journal.exit_code == 2 and "not in the journal" in journal.stderr


def test_help_imports_nothing_heavy():
    seen = imported_by(["--help"], ["callbacks", "--help"], ["callbacks", "listen", "--help"])
    assert seen.heavy(("httpx", "rich", "pydantic", "starlette", "uvicorn")) == []
    assert "--forward-to" in seen.stdout and "X-Callback-Url" in seen.stdout


def test_a_second_ctrl_c_stops_at_once_with_130(start_listener):  # noqa: F811
    with socket.socket() as silent:  # accepts connections (kernel backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        port = free_port()
        listener = start_listener("--port", str(port), "--forward-to", hanging, "--forward-timeout", "30")
        listener.wait_ready()
        with httpx.Client(timeout=5) as client:
            client.post(f"http://127.0.0.1:{port}/", json=RTP_SUCCESS)
            # the app still answers at once while a forward hangs
            assert client.post(f"http://127.0.0.1:{port}/", json=RTP_FAILED).status_code == 200
        listener.proc.send_signal(signal.SIGINT)
        listener.stderr_until("Stopping")
        assert listener.stop(signal.SIGINT, timeout=10) == 130
        assert "Received 0 callbacks" in listener.remaining_stderr()


def test_forwarding_to_the_listener_itself_is_refused():
    result = invoke("callbacks", "listen", "--port", "8123", "--forward-to", "http://localhost:8123/x")
    assert result.exit_code == 2
    assert "this listener" in result.stderr
