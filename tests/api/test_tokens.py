"""The on-disk token cache: private files, margins, expiry, and writers in several processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading

import pytest

from momo_cli.api.tokens import FILE_NAME, CachedToken, TokenCache, TokenKey, margin_for

from .conftest import FakeClock

KEY = TokenKey("https://sandbox.momodeveloper.mtn.com", "sandbox", "collection", "user-1")


def test_file_is_0600_in_a_0700_dir(tmp_path):
    cache_dir = tmp_path / "cache" / "momo"
    TokenCache(cache_dir).put(KEY, "tok", 3600)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache_dir / FILE_NAME).st_mode) == 0o600


def test_a_loose_cache_dir_is_tightened(tmp_path):
    cache_dir = tmp_path / "loose"
    cache_dir.mkdir(mode=0o755)
    os.chmod(cache_dir, 0o755)
    TokenCache(cache_dir).put(KEY, "tok", 3600)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700


def test_round_trip_across_instances(tmp_path):
    clock = FakeClock()
    TokenCache(tmp_path, clock=clock).put(KEY, "tok-1", 3600)
    other = TokenCache(tmp_path, clock=clock)
    token = other.get(KEY)
    assert token is not None and token.access_token == "tok-1"
    assert token.remaining(clock()) == 3600


def test_keys_separate_base_url_environment_product_and_user(tmp_path):
    cache = TokenCache(tmp_path)
    cache.put(KEY, "tok", 3600)
    for other in (
        KEY._replace(base_url="http://127.0.0.1:8765"),
        KEY._replace(target_environment="mtnuganda"),
        KEY._replace(product="disbursement"),
        KEY._replace(user_id="user-2"),
    ):
        assert TokenCache(tmp_path).get(other) is None
    assert TokenCache(tmp_path).get(KEY) is not None


def test_margin_is_ten_percent_at_least_a_minute_at_most_half():
    assert margin_for(3600) == 360
    assert margin_for(300) == 60
    assert margin_for(60) == 30


def test_token_is_refreshed_before_expiry_and_never_served_expired(tmp_path):
    clock = FakeClock()
    cache = TokenCache(tmp_path, clock=clock)
    cache.put(KEY, "tok", 3600)
    clock.now += 3600 - 361
    assert cache.get(KEY) is not None
    clock.now += 2  # inside the margin: refresh now
    assert cache.get(KEY) is None
    assert TokenCache(tmp_path, clock=clock).get(KEY) is None
    clock.now += 10_000
    assert cache.get(KEY) is None


def test_drop_only_removes_the_named_token(tmp_path):
    cache = TokenCache(tmp_path)
    cache.put(KEY, "new", 3600)
    cache.drop(KEY, "old")  # somebody else already refreshed it
    assert TokenCache(tmp_path).get(KEY).access_token == "new"
    cache.drop(KEY, "new")
    assert cache.get(KEY) is None and TokenCache(tmp_path).get(KEY) is None


def test_expired_entries_are_pruned_and_a_corrupt_file_is_ignored(tmp_path):
    clock = FakeClock()
    cache = TokenCache(tmp_path, clock=clock)
    cache.put(KEY, "old", 100)
    clock.now += 200
    cache.put(KEY._replace(product="remittance"), "fresh", 3600)
    stored = json.loads((tmp_path / FILE_NAME).read_text())["tokens"]
    assert list(stored) == [KEY._replace(product="remittance").as_text()]
    (tmp_path / FILE_NAME).write_text("{not json")
    assert TokenCache(tmp_path).get(KEY) is None
    TokenCache(tmp_path).put(KEY, "again", 3600)
    assert TokenCache(tmp_path).get(KEY).access_token == "again"


def test_memory_only_cache_writes_nothing(tmp_path):
    cache = TokenCache(None)
    cache.put(KEY, "tok", 3600)
    assert cache.get(KEY).access_token == "tok"
    assert list(tmp_path.iterdir()) == []


def test_repr_hides_the_token():
    assert "tok-secret" not in repr(CachedToken("tok-secret", 1.0, 1.0))


def test_threads_writing_at_once_lose_nothing(tmp_path):
    def write(n):
        cache = TokenCache(tmp_path)
        for i in range(15):
            cache.put(KEY._replace(user_id=f"t{n}-{i}"), f"tok-{n}-{i}", 3600)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = json.loads((tmp_path / FILE_NAME).read_text())["tokens"]
    assert len(stored) == 60


def _process_writer(directory: str, n: int) -> None:
    cache = TokenCache(directory)
    for i in range(15):
        cache.put(KEY._replace(user_id=f"p{n}-{i}"), f"tok-{n}-{i}", 3600)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_processes_writing_at_once_lose_nothing(tmp_path):
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_process_writer, args=(str(tmp_path), n)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    stored = json.loads((tmp_path / FILE_NAME).read_text())["tokens"]
    assert len(stored) == 60
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
