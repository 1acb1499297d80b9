"""Processes for the forwarding tests: a sending `lrs serve`, a receiving one, and the
webhook receiver (tests/e2e/webhook_receiver.py), each on its own port."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lrs.config import Settings
from tests.conftest import METRICS_TOKEN
from tests.e2e.test_graceful_shutdown import start
from tests.e2e.test_serve import free_port, run_lrs

HEADERS = {"X-Experience-API-Version": "2.0.0"}
HOOK_SECRET = "a shared secret for the test"
# Short timings, so that backoff, dead letters and leases play out in seconds.
FAST = {"LRS_FORWARDING_POLL_SECONDS": "0.1", "LRS_FORWARDING_BACKOFF_SECONDS": "0.1",
        "LRS_FORWARDING_BACKOFF_MAX_SECONDS": "0.4", "LRS_FORWARDING_MAX_ATTEMPTS": "3",
        "LRS_FORWARDING_TIMEOUT_SECONDS": "1.5", "LRS_FORWARDING_LEASE_SECONDS": "3",
        "LRS_FORWARDING_RULES_REFRESH_SECONDS": "0", "LRS_FORWARDING_BATCH_SIZE": "10",
        "LRS_METRICS_TOKEN": METRICS_TOKEN}


def wait_for(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    """Poll `check` until it holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@dataclass
class Lrs:
    """One `lrs serve` process, restartable on its store."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    base: str = ""
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)

    def credential(self, name: str, retention: str) -> tuple[str, str]:
        created = json.loads(run_lrs("credentials", "create", "--name", name, "--scopes",
                                     "all", "--retention", retention, "--json", env=self.env))
        self.credentials[name] = (created["key"], created["secret"])
        return self.credentials[name]

    def start(self) -> None:
        self.process, self.base = start(self.env, self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, auth=self.credentials[name], headers=HEADERS,
                            timeout=30)


def sender(settings: Settings, directory: Path, **extra: str) -> Lrs:
    """The LRS that forwards, on the test's engine."""
    directory.mkdir()
    env = {**os.environ, "LRS_STORE": settings.store_url(),
           "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(directory),
           **FAST, **extra}
    return Lrs(env, directory / "serve.log")


def receiver(directory: Path) -> Lrs:
    """A second LRS, on an SQLite file of its own, forwarding nothing."""
    directory.mkdir()
    env = {**os.environ, "LRS_STORE": f"sqlite:///{directory / 'lrs.db'}",
           "LRS_DATA_DIR": str(directory), "LRS_FORWARDING_ENABLED": "false"}
    return Lrs(env, directory / "serve.log")


@dataclass
class Hook:
    """The webhook receiver process, restartable on its port and its store."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        with (self.directory / "hook.log").open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.webhook_receiver", str(self.port),
                 HOOK_SECRET, str(self.directory)], stdout=out, stderr=subprocess.STDOUT)

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, \
                (self.directory / "hook.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/hook").status_code == 405
            except httpx.TransportError:
                return False

        wait_for("the webhook receiver", up, 30)

    def mode(self, mode: str) -> None:
        (self.directory / "mode").write_text(mode)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def items(self) -> dict[str, dict[str, Any]]:
        """What it kept, deduped by id."""
        path = self.directory / "received.db"
        if not path.exists():
            return {}
        with sqlite3.connect(path) as db:
            return {i: json.loads(item) for i, item in db.execute("SELECT id, item FROM items")}

    def delivered_ids(self) -> list[str]:
        """Every id of every request it took, duplicates included."""
        path = self.directory / "received.db"
        if not path.exists():
            return []
        with sqlite3.connect(path) as db:
            return [i for (ids,) in db.execute("SELECT ids FROM deliveries")
                    for i in json.loads(ids)]


def configure(lrs: Lrs, admin: str, destination: dict[str, Any], *rules: dict[str, Any]
              ) -> None:
    """A destination and its rules, through the admin API."""
    with lrs.client(admin) as client:
        made = client.post("/api/v1/admin/forwarding/destinations", json=destination)
        assert made.status_code == 201, made.text
        assert "secret" not in made.json()
        for rule in rules:
            added = client.post("/api/v1/admin/forwarding/rules",
                                json={"destination": destination["name"], **rule})
            assert added.status_code == 201, added.text


def status(lrs: Lrs, admin: str, name: str) -> dict[str, Any]:
    with lrs.client(admin) as client:
        answer = client.get("/api/v1/admin/forwarding/status")
        assert answer.status_code == 200, answer.text
    found: dict[str, Any] = next(s for s in answer.json() if s["name"] == name)
    return found


def stored_ids(lrs: Lrs, name: str) -> list[str]:
    """Every statement id the LRS returns (voided ones aside), duplicates kept."""
    ids: list[str] = []
    with lrs.client(name) as client:
        url: str | None = "/xapi/statements?limit=200"
        while url:
            page = client.get(url)
            assert page.status_code == 200, page.text
            ids += [s["id"] for s in page.json()["statements"]]
            url = page.json().get("more") or None
    return ids
