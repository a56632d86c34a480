"""gunicorn serving the app with production-like settings, for the load and fault runs.

Production-like: DEBUG off, DEMO_MODE off, a real SECRET_KEY, persistent connections with health checks
(settings: ``CONN_MAX_AGE`` from DB_CONN_MAX_AGE, ``CONN_HEALTH_CHECKS=True``), sync workers as
docker-compose.yml runs them; the audit trail is always on (it is code, not a setting).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, database_url: str, *, workers: int = 3, port: int | None = None, demo: bool = False):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "DEMO_MODE": str(demo).lower(),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DB_CONN_MAX_AGE": "600",
            "TILE_URL": "",
            "LOG_LEVEL": "CRITICAL",
        }  # the 503s of a fault run would flood the console otherwise
        from gridmap.storage import sealed_fields

        self.env.update(sealed_fields.key_environment())
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Gunicorn:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "gridmap.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
                "--graceful-timeout",
                "30",
            ],
            cwd=ROOT,
            env=self.env,
        )
        if not self.wait_healthy(timeout):
            self.stop()
            raise RuntimeError("gunicorn did not start")
        return self

    def wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: Gunicorn, pg_marker: str) -> float:
    """CPU seconds used so far by gunicorn's workers and by the PostgreSQL processes whose command line
    contains ``pg_marker`` (e.g. ``"15/reliability"``): the cost of the requests, whatever else runs on
    the machine. Backends that exited during the run are not counted (sessions are kept, CONN_MAX_AGE)."""
    pids = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    total = sum(_cpu_of(int(p)) for p in pids) + _cpu_of(server.process.pid)
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmdline.startswith("postgres") and pg_marker in cmdline:
                total += _cpu_of(int(proc.name))
    return total
