"""A real `redis-server` for the shared state store's tests, on a free localhost port.

The fixture skips (saying why) only when no `redis-server` binary exists; a server that exists but
fails to start is a test failure, not a skip. Each pytest-xdist worker starts a server of its own:
a port is only known free once our server holds it, so a server that loses its port to another
worker's is started again on a new one, and the server that answers must be ours (its pid).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

ATTEMPTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(redis: Any, url: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait until our server answers at `url`. Raises RuntimeError when it exited (its port
    taken, say) or when another process answers there."""
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"redis-server exited: {error}")
        client = redis.Redis.from_url(url)
        try:
            pid = int(client.info("server")["process_id"])
            if pid != proc.pid:
                raise RuntimeError(f"{url} is another redis-server's (pid {pid})")
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary (apt-get install redis-server; .ci/run installs it)")
    redis = pytest.importorskip("redis", reason="the redis package is in the test extra")
    for attempt in range(1, ATTEMPTS + 1):
        port = _free_port()
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        proc = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for(redis, f"redis://127.0.0.1:{port}/0", proc)
        except RuntimeError:
            _stop(proc)
            if attempt == ATTEMPTS:
                raise
            continue
        break
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=10)
    if proc.stderr is not None:
        proc.stderr.close()
