"""``personas serve`` started in a process of its own on a free loopback port, for the
tests that need a real server (HTTP clients, several workers, SIGKILL); and a model to
serve, trained on generated events."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    args: list[str],
    *,
    env: dict[str, str],
    log: Path | None = None,
    port: int | None = None,
    timeout: float = 90,
) -> tuple[subprocess.Popen, str]:
    """``personas serve ARGS`` (``--port`` added unless ``port`` says the args hold it),
    once ``/healthz`` answers; its stderr in ``log``. Fails the test after ``timeout`` s."""
    import httpx

    if port is None:
        port = free_port()
        args = [*args, "--port", str(port)]
    stderr = log.open("w") if log else subprocess.DEVNULL
    cmd = [sys.executable, "-m", "personas", "serve", *args]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    said = log.read_text()[-2000:] if log else ""
    pytest.fail(f"the server did not start within {timeout:.0f} s {said}")


@contextlib.contextmanager
def running(args: list[str], **options) -> Iterator[str]:
    """The URL of ``personas serve ARGS`` while the block runs; stopped after it."""
    server, url = start(args, **options)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def environment(**values: str) -> dict[str, str]:
    """This process's environment without PERSONAS_* variables, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONAS_")}
    return env | values


def trained_model(folder: Path, n_users: int, seed: int, method: str = "kmeans") -> tuple:
    """A model trained (by ``method``) on the generated events of ``n_users`` users, saved
    in ``folder`` and loaded back as the service loads it: (model, its path, the events,
    the run)."""
    import personas

    users, _ = personas.datasets.make_users(n_users, random_state=seed)
    events = personas.datasets.make_events(users, random_state=seed)
    run = personas.segment(events, method=method, random_state=0)
    path = run.model.save(Path(folder) / "model.personas")
    return personas.load(path), path, events, run
