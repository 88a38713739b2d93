"""Kernels started ahead of time: while one notebook runs, the next notebook's kernel starts and imports
mojacheck, so a notebook no longer waits ~1 s for its kernel and its library (issue: suite speed).

Each notebook still gets a fresh kernel of its own; only the start moves off the critical path. The preload is
run with `store_history=False`, so the notebook's execution counts start at 1 as before.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

PRELOAD = "import mojacheck"
START_TIMEOUT_S = 60.0


def _start(cwd: Path, log: IO[bytes] | None, preload: str) -> Any:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name="python3")
    extra = {"stdout": log, "stderr": log} if log is not None else {}
    run_sync(km.start_kernel)(cwd=str(cwd), **extra)
    if preload:
        client = km.blocking_client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=START_TIMEOUT_S)
            client.execute_interactive(preload, store_history=False, timeout=START_TIMEOUT_S, output_hook=_quiet)
        finally:
            client.stop_channels()
    return km


def _quiet(_message: dict[str, Any]) -> None:
    """The preload's output (none, normally) goes nowhere: it is not part of any notebook."""


def shutdown(km: Any) -> None:
    from jupyter_core.utils import run_sync

    run_sync(km.shutdown_kernel)(now=True)


class KernelPool:
    """One kernel kept warm for the next notebook. ``take()`` hands it over (waiting if it is still starting) and
    starts the next one; ``close()`` shuts down whatever is left."""

    def __init__(self, cwd: Path, log: IO[bytes] | None = None) -> None:
        self._cwd, self._log = cwd, log
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mojacheck-kernel")
        self._stopper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mojacheck-kernel-stop")
        self._next: Future[Any] | None = None

    def warm(self, preload: str = PRELOAD) -> None:
        """Start a kernel for the next notebook and run ``preload`` in it (what that notebook will import)."""
        if self._next is None:
            self._next = self._starter.submit(_start, self._cwd, self._log, preload)

    def take(self, *, next_preload: str | None) -> Any:
        """The warm kernel's manager (the caller executes on it, then ``release``s it); ``next_preload``: warm
        another kernel for the notebook after, with that preload (None: this is the last notebook)."""
        self.warm()
        assert self._next is not None
        future, self._next = self._next, None
        km = future.result()
        if next_preload is not None:
            self.warm(next_preload)
        return km

    def release(self, km: Any) -> None:
        """Shut a used kernel down in the background."""
        self._stopper.submit(shutdown, km)

    def close(self) -> None:
        if self._next is not None:
            pending, self._next = self._next, None
            with contextlib.suppress(Exception):  # a kernel that never started has nothing to stop
                shutdown(pending.result(timeout=START_TIMEOUT_S))
        self._starter.shutdown(wait=True)
        self._stopper.shutdown(wait=True)
