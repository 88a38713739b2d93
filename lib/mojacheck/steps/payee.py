"""Steps where the notebook plays the payee FSP itself, to send the answers a payee's connector may send: fulfils in
each transfer state, FSPIOP version and destination, and what the hub must tell each side afterwards.

The simulated payee is told to stay silent for the transfer (a ``no_answer`` rule), the notebook's payer sends the
prepare, and once the hub has forwarded it to the payee the notebook answers as that payee.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mojacheck.clients.sim import Callback
from mojacheck.fspiop import new_id
from mojacheck.steps.errors import cause_of, post_transfer, timestamp, transfer_body
from mojacheck.steps.p2p import Quote

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["Held", "check_patch", "hold_transfer", "payee_answers", "wrong_fulfilment"]


@dataclass(frozen=True)
class Held:
    """A transfer the hub has forwarded to a payee that did not answer: the prepare body and the parties."""

    body: dict[str, Any]
    payer: str
    payee: str

    @property
    def transfer_id(self) -> str:
        return str(self.body["transferId"])


def wrong_fulfilment() -> str:
    """A well-formed fulfilment (43 base64url characters) that matches no condition the simulator issued."""
    return (new_id().replace("-", "") * 2)[:43]


def hold_transfer(s: Session, q: Quote, *, expires_in_s: float = 60) -> Held:
    """POST /transfers for quote `q` with the simulated payee silent; returns once the payee got the prepare."""
    body = transfer_body(q, expires_in_s=expires_in_s)
    with s.sim.behaviour(q.payee.fsp, "transfers", "no_answer", id=body["transferId"]):
        mark = s.sim.mark()
        post_transfer(s, body)
        s.await_callback(q.payee.fsp, "transfers", body["transferId"], after=mark, method="POST")
    return Held(body, q.payer.fsp, q.payee.fsp)


def payee_answers(s: Session, held: Held, state: str, *, fulfilment: str | None = None,
                  destination: str | None = None, version: str | None = None) -> int:
    """PUT /transfers/{ID} as the payee with `transferState` `state` (and `fulfilment` unless None), to
    `destination` (default: the payer) in FSPIOP `version`; checks the 200 and returns the inbox mark from before."""
    answer: dict[str, Any] = {"transferState": state, "completedTimestamp": timestamp()}
    if fulfilment is not None:
        answer["fulfilment"] = fulfilment
    mark = s.sim.mark()
    ex = s.fspiop("PUT", "ml_api_adapter", f"/transfers/{held.transfer_id}", source=held.payee,
                  destination=destination or held.payer, body=answer, version=version)
    s.check(f"PUT /transfers ({state}) accepted: 200", 200, ex.status)
    return mark


def check_patch(s: Session, cb: Callback, state: str, *, cause: str | None = None) -> None:
    """The hub's PATCH /transfers/{ID} to the payee: the final state, a completedTimestamp, and (for ABORTED) the
    error as a `cause` extension."""
    body = cb.body if isinstance(cb.body, dict) else {}
    s.check(f"payee receives PATCH {state}", ("PATCH", state), (cb.method, body.get("transferState")))
    s.check("PATCH carries completedTimestamp", True, bool(body.get("completedTimestamp")))
    if cause is not None:
        s.check("PATCH carries the error as its cause extension", cause, cause_of(cb))
