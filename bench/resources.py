"""What a server process tree costs during a scenario: CPU seconds and peak memory (psutil)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

SAMPLE_EVERY_S = 0.05


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (and of the children
    they have waited for), since each started."""
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its descendants, summed."""
    total = 0
    for process in _tree(pid):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def high_water_bytes(pid: int) -> int | None:
    """The largest VmHWM (peak resident memory since it started) in the tree, from
    /proc/<pid>/status; None where /proc has no such line."""
    peaks = []
    for process in _tree(pid):
        try:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) * 1024)
        except OSError:
            continue
    return max(peaks) if peaks else None


@dataclass
class Watch:
    """CPU and memory of process trees over one scenario: start it, run the load, stop it.

    `pids` names the trees: {"server": lrs serve's pid, "store": SecantusDB's pid}. Memory is
    sampled every SAMPLE_EVERY_S in a thread; the peak is the largest sum over a tree's
    processes in any sample.
    """

    pids: dict[str, int]
    _cpu_before: dict[str, float] = field(default_factory=dict)
    _cpu_after: dict[str, float] = field(default_factory=dict)
    _peak: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _began: float = 0.0
    _ended: float = 0.0

    def __enter__(self) -> Watch:
        self._began = time.monotonic()
        self._cpu_before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._peak = {name: rss_bytes(pid) for name, pid in self.pids.items()}
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._ended = time.monotonic()
        self._cpu_after = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            for name, pid in self.pids.items():
                self._peak[name] = max(self._peak[name], rss_bytes(pid))

    def figures(self) -> dict[str, Any]:
        """{tree: {cpu_s, cpu_share, peak_rss_bytes, high_water_bytes}} between __enter__
        and __exit__; cpu_share is CPU seconds per second watched (2.0 = two cores busy)."""
        duration_s = self._ended - self._began
        out: dict[str, Any] = {"watched_s": duration_s}
        for name, pid in self.pids.items():
            used = self._cpu_after[name] - self._cpu_before[name]
            out[name] = {"cpu_s": used,
                         "cpu_share": used / duration_s if duration_s > 0 else None,
                         "peak_rss_bytes": self._peak[name],
                         "high_water_bytes": high_water_bytes(pid)}
        return out
