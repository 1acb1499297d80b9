"""The processes under test: SecantusDB and `lrs serve`, on loopback, stopped on the way out."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent  # `python -m bench.…` runs from here
BASE_PATH = "/xapi"  # the Settings default; the harness hands `lrs` no LRS_* of the caller's


@dataclass(frozen=True)
class RunningLrs:
    """A started `lrs serve`: its base URL, a credential's Authorization header, its log."""

    base_url: str
    authorization: str
    log: Path
    pid: int


@dataclass(frozen=True)
class RunningStore:
    """A started SecantusDB: its URL and process id."""

    url: str
    pid: int


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the harness dies, however it dies.
    # Elsewhere (not glibc) the harness's try/finally still stops them.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def secantus(work: Path) -> Iterator[RunningStore]:
    """SecantusDB in a process of its own, storing in work/secantus."""
    port_file, log = work / "secantus.port", work / "secantus.log"
    process = _spawn([sys.executable, "-m", "bench.secantus_server",
                      "--storage", str(work / "secantus"), "--port-file", str(port_file)],
                     log, dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited ({process.returncode}):\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"SecantusDB did not start in 60 s:\n{_tail(log)}")
            time.sleep(0.05)
        yield RunningStore(
            f"mongodb://{HOST}:{int(port_file.read_text())}/?replicaSet=secantus", process.pid)
    finally:
        _stop(process)


def _lrs_command() -> list[str]:
    script = Path(sys.executable).with_name("lrs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lrs"]


SERVER_ENV: dict[str, str] = {}
"""Settings the harness itself gives every `lrs serve` of a run (e.g. `--dp`), set once
before the run from its arguments."""


def _lrs_env() -> dict[str, str]:
    # Only what the harness says: an LRS_STORE in the caller's shell must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRS_")}
    # Access logs at info level would cost a line per request: measure the LRS, not logging.
    env.update(LRS_LOG_LEVEL="warning", LRS_MONGODB_DATABASE="bench", **SERVER_ENV)
    return env


def lrs_command(data_dir: Path, store: str | None, *args: str) -> str:
    """Run `lrs ARGS --data-dir DIR [--store URL]` as `lrs serve` would see the store; its
    standard output. RuntimeError when it fails."""
    command = [*_lrs_command(), *args, "--data-dir", str(data_dir)]
    if store:
        command += ["--store", store]
    done = subprocess.run(command, capture_output=True, text=True, env=_lrs_env(), timeout=120,
                          check=False)
    if done.returncode != 0:
        last = "\n".join(done.stderr.strip().splitlines()[-12:])
        raise RuntimeError(f"lrs {' '.join(args[:2])} failed:\n{last}")
    return done.stdout


def bench_python(*args: str, timeout_s: float = 7200) -> None:
    """Run `python -m ARGS` (a bench module) with the environment `lrs serve` gets."""
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=_lrs_env(),
                          capture_output=True, text=True, timeout=timeout_s, check=False,
                          preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if done.returncode != 0:
        last = "\n".join(done.stderr.strip().splitlines()[-12:])
        raise RuntimeError(f"python -m {' '.join(args[:2])} failed:\n{last}")


def create_credential(data_dir: Path, store: str | None, retention: str = "full",
                      name: str = "bench", scopes: str = "all") -> str:
    """A new credential (scope `all` unless told) by `lrs credentials create`; returns its
    Authorization header."""
    created = orjson.loads(lrs_command(data_dir, store, "credentials", "create", "--name", name,
                                       "--scopes", scopes, "--retention", retention, "--json"))
    token = base64.b64encode(f"{created['key']}:{created['secret']}".encode()).decode()
    return f"Basic {token}"


@contextmanager
def lrs_serve(work: Path, store: str | None, workers: int = 1,
              retention: str = "full", authorization: str | None = None) -> Iterator[RunningLrs]:
    """`lrs serve` on a free loopback port with the data directory work/data and, unless an
    `authorization` is given, a new credential whose default retention is `retention`."""
    data_dir = work / "data"
    if authorization is None:
        authorization = create_credential(data_dir, store, retention)
    port, log = free_port(), work / "lrs-serve.log"
    command = [*_lrs_command(), "serve", "--host", HOST, "--port", str(port),
               "--workers", str(workers), "--data-dir", str(data_dir)]
    if store:
        command += ["--store", store]
    process = _spawn(command, log, _lrs_env())
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_up(f"{base_url}{BASE_PATH}/about", process, log)
        yield RunningLrs(base_url, authorization, log, process.pid)
        if process.poll() is not None:
            raise RuntimeError(f"lrs serve died during the run:\n{_tail(log)}")
    finally:
        _stop(process)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None:
            raise RuntimeError(f"lrs serve exited ({process.returncode}):\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"lrs serve did not answer {url} in 60 s:\n{_tail(log)}")
        time.sleep(0.1)
