"""Peak resident memory and CPU time of each service process over the run."""

from __future__ import annotations

import threading

import psutil


class PeakRss:
    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak_mib = dict.fromkeys(pids, 0.0)
        self.cpu_seconds = dict.fromkeys(pids, 0.0)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, process in self.processes.items():
                try:
                    rss = process.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peak_mib[name] = max(self.peak_mib[name], rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for name, process in self.processes.items():
            times = process.cpu_times()
            self.cpu_seconds[name] = times.user + times.system
