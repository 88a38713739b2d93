"""Stopping a run cleanly: SIGTERM/SIGINT, and an embedded service that dies while notebooks run.

Both end the same way: an exception unwinds the runner's context managers (so the hub, the simulator and the
kernel are stopped), and the runner writes what it has so far before it exits. The exceptions derive from
BaseException, so no `except Exception` on the way can swallow them.
"""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED_BASE = 128  # the shell's convention: 128 + signal number (SIGINT 130, SIGTERM 143)
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the runner."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return EXIT_INTERRUPTED_BASE + self.signum


class ServiceDied(BaseException):
    """An embedded service exited while the run needed it; the message names it and its log."""


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise Interrupted in the main thread (once: a second signal while
    the run cleans up is ignored, so the cleanup finishes). Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    state = {"raised": False}

    def handler(signum: int, _frame: FrameType | None) -> None:
        if state["raised"]:
            return
        state["raised"] = True
        raise Interrupted(signum)

    for s in _SIGNALS:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextmanager
def watching(dead: Callable[[], str | None], *, every_s: float = 0.5) -> Iterator[Callable[[], None]]:
    """Poll ``dead()`` (a description of a service that exited, or None) in a thread while the block runs; when
    it answers, interrupt the main thread so the block unwinds with ServiceDied. Yields ``check()``, which asks
    ``dead()`` itself and raises ServiceDied at once (call it between notebooks: the watchdog polls only every
    ``every_s``, and its interrupt may land where it is turned into another error, e.g. inside an import)."""
    stop = threading.Event()
    seen: list[str] = []
    previous = signal.getsignal(signal.SIGUSR1)

    def on_death(_signum: int, _frame: FrameType | None) -> None:
        raise ServiceDied(seen[0])

    def poll() -> None:
        while not stop.wait(every_s):
            what = dead()
            if what:
                seen.append(what)
                _thread.interrupt_main(signal.SIGUSR1)
                return

    signal.signal(signal.SIGUSR1, on_death)
    thread = threading.Thread(target=poll, name="mojacheck-watchdog", daemon=True)
    thread.start()

    def check() -> None:
        what = seen[0] if seen else dead()
        if what:
            raise ServiceDied(what)

    try:
        yield check
    finally:
        stop.set()
        thread.join(timeout=2 * every_s)
        signal.signal(signal.SIGUSR1, previous)
