"""Real redis-server and PostgreSQL processes on loopback and free ports, for the replica tests.

scripts/test.sh installs both (Debian's packages) on a fresh machine; a missing server is
an error here, never a skip. Each can be stopped and started again on the same port and
data, to test what the stores do while their backend is down.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


def find_binary(name: str, pattern: str = "") -> str:
    """``name`` on the PATH, else the newest match of ``pattern`` (Debian keeps PostgreSQL off the PATH)."""
    candidates = sorted(glob.glob(pattern), key=lambda p: [int(n) for n in re.findall(r"\d+", p)]) if pattern else []
    found = shutil.which(name) or (candidates[-1] if candidates else None)
    if found is None:
        raise RuntimeError(
            f"{name} is not installed: run scripts/test.sh (it installs redis-server and postgresql with apt-get)"
        )
    return found


class RedisServer:
    """``redis-server`` with no persistence, on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.binary = find_binary("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, "redis-server")
        return self

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The server stopped with SIGSTOP: its connections stay open but nothing answers (a hung host)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder), trust auth, on 127.0.0.1."""

    def __init__(self) -> None:
        self.bindir = Path(find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).resolve().parent
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="atom_stripe_pg_"))
        self.data = self.root / "data"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen[bytes] | None = None
        # PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the postgres user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            shutil.chown(self.root, self.user)
        subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
        )

    def _spawn(self, *settings: str) -> subprocess.Popen[bytes]:
        command = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1"]
        command += ["-k", str(self.root), "-c", "fsync=off"]
        for setting in settings:
            command += ["-c", setting]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=self.user)
        return self.proc

    def start(self) -> PostgresServer:
        wait_for_port(self.port, self._spawn(), "postgres")
        ready = [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        deadline = time.monotonic() + 30
        while subprocess.run(ready, check=False).returncode != 0:  # listening, but maybe still starting
            if time.monotonic() > deadline:
                raise RuntimeError("postgres did not become ready")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # a "fast" shutdown (SIGTERM waits for clients to leave)
            self.wait_stopped()

    def begin_smart_shutdown(self) -> None:
        """SIGTERM: until its last client leaves, the server refuses new connections with
        "the database system is shutting down" (SQLSTATE 57P03)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.proc is not None:
            self.proc.wait(timeout=30)
            self.proc = None

    def start_in_recovery(self) -> PostgresServer:
        """Start as a standby without hot standby: it listens, but refuses every connection
        (SQLSTATE 57P03, "not accepting connections") until :meth:`promote`."""
        (self.data / "standby.signal").touch()
        if self.user is not None:
            shutil.chown(self.data / "standby.signal", self.user)
        wait_for_port(self.port, self._spawn("hot_standby=off"), "postgres")
        return self

    def promote(self) -> None:
        """End :meth:`start_in_recovery`: the server becomes a primary and accepts connections."""
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "promote", "-w", "-D", str(self.data)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
