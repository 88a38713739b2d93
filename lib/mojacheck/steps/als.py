"""Steps of the account-lookup service's ``/participants`` resources (16_account_lookup): each sends one request as
an FSP, checks the synchronous answer, and returns the callback the hub delivered (or the batch's answer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mojacheck.clients.sim import Callback
from mojacheck.fspiop import new_id
from mojacheck.steps.p2p import Party, expect_accepted

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = ["Batch", "delete_party", "participant_error", "put_request_id", "refused_batch", "register_batch",
           "update_party"]


def update_party(s: Session, party: Party, new_owner: str, currency: str) -> Callback:
    """PUT /participants/{Type}/{ID}[/{SubId}] as the party's FSP, moving it to `new_owner` (an oracle update):
    ALS answers 200, then tells the new owner. Returns that callback."""
    mark = s.sim.mark()
    ex = s.fspiop("PUT", "als", f"/participants/{party.key}", source=party.fsp,
                  body={"fspId": new_owner, "currency": currency})
    s.check("PUT /participants/{Type}/{ID} answered 200", 200, ex.status)
    return s.await_callback(new_owner, "participants", party.key, after=mark)


def delete_party(s: Session, party: Party, requester: str) -> Callback:
    """DELETE /participants/{Type}/{ID}[/{SubId}] as `requester`; returns its callback (PUT, or 3040 …/error)."""
    mark = s.sim.mark()
    expect_accepted(s.fspiop("DELETE", "als", f"/participants/{party.key}", source=requester),
                    f"DELETE /participants/{party.key}")
    return s.await_callback(requester, "participants", party.key, after=mark)


def participant_error(s: Session, party: Party, sender: str, destination: str, error: dict[str, Any]) -> Callback:
    """PUT /participants/{Type}/{ID}/error from `sender` to `destination`: returns what the destination received,
    or, when the hub does not know the destination, what the sender was told."""
    mark = s.sim.mark()
    ex = s.fspiop("PUT", "als", f"/participants/{party.key}/error", source=sender, destination=destination,
                  body=error)
    s.check("PUT /participants/{Type}/{ID}/error answered 200", 200, ex.status)
    known = any(destination == f for f in (s.params["fsps"]["payer"], *s.params["fsps"]["payees"]))
    return s.await_callback(destination if known else sender, "participants", party.key, after=mark, error=True)


@dataclass(frozen=True)
class Batch:
    """A batch registration: its requestId, the synchronous status and the PUT /participants/{requestId}."""

    request_id: str
    status: int
    callback: Callback


def register_batch(s: Session, requester: str, items: list[dict[str, Any]], currency: str) -> Batch:
    """POST /participants (batch) as `requester`; ALS answers 200 (not 202), then PUT /participants/{requestId}."""
    request_id = new_id()
    mark = s.sim.mark()
    ex = s.fspiop("POST", "als", "/participants", source=requester,
                  body={"requestId": request_id, "partyList": items, "currency": currency})
    return Batch(request_id, ex.status, s.await_callback(requester, "participants", request_id, after=mark))


def refused_batch(s: Session, requester: str, items: list[dict[str, Any]]) -> Exchange:
    """POST /participants (batch) with `items` the schema refuses; returns the synchronous answer."""
    return s.fspiop("POST", "als", "/participants", source=requester, body={"requestId": new_id(), "partyList": items})


def put_request_id(s: Session, sender: str, destination: str, request_id: str, suffix: str = "") -> Exchange:
    """PUT /participants/{requestId}[/error] (ALS implements neither: 501)."""
    body: dict[str, Any] = {"partyList": []} if not suffix else {
        "errorInformation": {"errorCode": "3000", "errorDescription": "Generic client error"}}
    return s.fspiop("PUT", "als", f"/participants/{request_id}{suffix}", source=sender, destination=destination,
                    body=body)
