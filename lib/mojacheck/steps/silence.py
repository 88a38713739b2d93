"""Seeing that something does not happen: where Mojaloop sends no message at all (a bulk that never ends, a
refused request nobody is told about), a notebook waits a bounded time and counts what came."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mojacheck.fspiop.errors import CallbackTimeout

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["nothing_arrives"]


def nothing_arrives(s: Session, fsp: str, resource: str, key: str, *, after: int, method: str | None = "PUT",
                    within_s: float | None = None) -> int:
    """Wait ``within_s`` (default: the params' ``timeouts.silence_s``, else half the callback deadline) for a message
    to ``fsp`` about ``resource``/``key`` that must not come; returns how many came (0 expected). An absence can only
    be seen by waiting, so the wait is bounded and always spent."""
    try:
        s.sim.wait_for(fsp, resource, key, after=after, method=method, timeout=within_s or s.silence)
    except CallbackTimeout:
        return 0
    return 1
