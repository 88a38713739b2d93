"""One record per payment the load attempted: what the workers send the master and the master writes, one JSON
object a line, to ``payments.jsonl`` (the contract is in docs/internals.md, "Load").

Plain stdlib: the workers build these, the runner and the notebook read the file without importing this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["PAYMENTS_FILE", "WORKERS_FILE", "Payment", "Writer"]

PAYMENTS_FILE = "payments.jsonl"
WORKERS_FILE = "workers.json"

# outcome: what the payer FSP saw at the end of the payment
COMMITTED = "COMMITTED"  # the transfer's callback said COMMITTED
ABORTED = "ABORTED"  # the transfer's callback said ABORTED (a state, not an error callback)
ERROR = "error"  # an error callback (…/error) answered one of the phases
REFUSED = "refused"  # the hub answered a request synchronously with something other than 202
TIMEOUT = "timeout"  # no callback within the callback timeout
FAILED = "failed"  # the request could not be sent (connection refused, reset)


@dataclass
class Payment:
    """One payment attempt. Times are milliseconds from sending a phase's request to receiving its callback."""

    kind: str
    worker: int
    payer: str
    start: float  # epoch seconds when the first request went out
    payee: str | None = None
    transfer_id: str | None = None
    amount: str | None = None
    currency: str | None = None
    outcome: str = ""
    error_code: str | None = None
    phase: str | None = None  # the phase that ended the payment when it did not end as its kind expects
    expected: bool = False  # the outcome is what this kind should end with (COMMITTED, or the error it provokes)
    sent: bool = False  # POST /transfers was accepted (202): the hub knows this transferId
    lookup_ms: float | None = None
    quote_ms: float | None = None
    transfer_ms: float | None = None
    e2e_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "worker": self.worker, "payer": self.payer, "payee": self.payee,
            "transferId": self.transfer_id, "amount": self.amount, "currency": self.currency,
            "start": round(self.start, 4), "outcome": self.outcome, "errorCode": self.error_code,
            "phase": self.phase, "expected": self.expected, "sent": self.sent,
            "lookupMs": _ms(self.lookup_ms), "quoteMs": _ms(self.quote_ms), "transferMs": _ms(self.transfer_ms),
            "e2eMs": _ms(self.e2e_ms),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class Writer:
    """Appends payment records to ``payments.jsonl`` in the load's output folder (the master's side)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / PAYMENTS_FILE
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self.count = 0

    def write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.count += len(records)
        self._file.flush()

    def close(self) -> None:
        self._file.close()
