"""Shared plumbing for the HTTP benchmarks: a PostgreSQL database of their own,
gunicorn on loopback, and wrk to load it."""

import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def database_url(name: str) -> str:
    return os.environ.get("BENCH_DATABASE_URL", f"postgres://root@127.0.0.1:5432/{name}")


def ensure_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def recreate_database(url: str) -> None:
    """Drop (ending its sessions) and create the database: every run starts empty."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def session_cookie(user) -> str:
    """A signed-in session for ``user``, as a Cookie header value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)  # the first backend that loads users: the product's own
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class Server:
    """gunicorn serving the project on a loopback port with the given environment."""

    def __init__(self, *, port: int, env: dict[str, str], workers: int = 2):
        self.port = port
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "error",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/policy/", timeout=1)
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not start on port {self.port}")

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def wrk(
    url: str, *, seconds: int, cookie: str = "", connections: int = 8, script: str | None = None
) -> float:
    """Requests per second that wrk measured (non-2xx/3xx responses are an error)."""
    return wrk_run(url, seconds=seconds, cookie=cookie, connections=connections, script=script)[0]


def wrk_run(
    url: str,
    *,
    seconds: int,
    cookie: str = "",
    connections: int = 8,
    threads: int = 2,
    script: str | None = None,
    script_args: tuple[str, ...] = (),
    allow_errors: bool = False,
) -> tuple[float, str]:
    """wrk's req/s and its whole output (a Lua script's done() may print there too)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out and not allow_errors:
        raise RuntimeError(f"wrk saw error responses for {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), out


def median(values: list[float]) -> float:
    return statistics.median(values)
