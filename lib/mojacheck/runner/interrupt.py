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
    it answers, interrupt the main thread so the block unwinds with ServiceDied. Yields ``check()``, which raises
    ServiceDied at once if a service has died, seen by the watchdog or not yet (call it between notebooks).

    An interrupt that lands inside an import is put off to the next poll: raising there would leave a half-made
    module in sys.modules that no later import can finish (the runner reads scraps with scrapbook, whose pandas
    import takes a second and a half)."""
    stop = threading.Event()
    seen: list[str] = []
    raised = threading.Event()
    previous = signal.getsignal(signal.SIGUSR1)

    def on_death(_signum: int, frame: FrameType | None) -> None:
        if raised.is_set() or _importing(frame):
            return
        raised.set()
        raise ServiceDied(seen[0])

    def poll() -> None:
        while not stop.wait(every_s) and not raised.is_set():
            what = seen[0] if seen else dead()
            if what:
                if not seen:
                    seen.append(what)
                _thread.interrupt_main(signal.SIGUSR1)

    signal.signal(signal.SIGUSR1, on_death)
    thread = threading.Thread(target=poll, name="mojacheck-watchdog", daemon=True)
    thread.start()

    def check() -> None:  # asks too, so a death just before the next notebook is not left to the next poll
        what = seen[0] if seen else dead()
        if what:
            raised.set()
            raise ServiceDied(what)

    try:
        yield check
    finally:
        stop.set()
        thread.join(timeout=2 * every_s)
        signal.signal(signal.SIGUSR1, previous)


def _importing(frame: FrameType | None) -> bool:
    """Whether the interrupted main thread is inside an import (a frame of importlib's bootstrap is on its stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False
