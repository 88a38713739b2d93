"""Waiting on state with a deadline: poll until the state is reached, never sleep a fixed time."""

from __future__ import annotations

import time
from typing import Any

from mojacheck.fspiop.errors import WaitTimeout

__all__ = ["wait_until"]


def wait_until(what: str, probe: Any, *, timeout: float, interval: float = 0.1) -> Any:
    """Poll ``probe()`` until it returns a truthy value (returned) or the deadline passes (``WaitTimeout``);
    the interval grows from ``interval`` to 1 s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, 1.0)
