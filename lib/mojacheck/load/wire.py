"""What a payer FSP of the load needs of the wire: the callback endpoints it registers, and the key a callback is
awaited by. Shared by the gevent workers and the asyncio reconciler, so it imports neither."""

from __future__ import annotations

__all__ = ["PAYER_ENDPOINTS", "callback_key"]

# The endpoints a payer needs: answers to its lookups, quotes and transfers (the rest is a payee's business).
PAYER_ENDPOINTS = (
    "FSPIOP_CALLBACK_URL_PARTIES_PUT", "FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT", "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR",
    "FSPIOP_CALLBACK_URL_QUOTES", "FSPIOP_CALLBACK_URL_TRANSFER_PUT", "FSPIOP_CALLBACK_URL_TRANSFER_ERROR",
)
_RESOURCES = frozenset({"parties", "quotes", "transfers"})


def callback_key(path: str) -> tuple[str, bool] | None:
    """``/transfers/abc/error`` → (``transfers/abc``, True); None for a path that is no callback of a payer."""
    parts = path.strip("/").split("/")
    error = len(parts) > 2 and parts[-1] == "error"
    if error:
        parts = parts[:-1]
    if len(parts) < 2 or parts[0] not in _RESOURCES:
        return None
    return "/".join(parts), error
