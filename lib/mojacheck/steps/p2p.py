"""FSPIOP steps of a P2P transfer, sent as the payer FSP: party lookup, quote, transfer, transfer state.

Each step sends one request, checks the hub's synchronous answer, and waits for the callback in the
simulator's inbox. Steps return what the notebook needs next and leave judging to the notebook's checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.sim import Callback
from mojacheck.fspiop import new_id
from mojacheck.fspiop.errors import UnexpectedResponse

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["Party", "Quote", "Transfer", "expect_accepted", "get_transfer", "lookup", "owner_of", "participant_of",
           "quote", "quote_body", "register_party", "send_transfer", "transfer"]


@dataclass(frozen=True)
class Party:
    """A party as FSPIOP names it: the FSP that holds it, id type, identifier, optional SubId and names."""

    fsp: str
    id_type: str
    identifier: str
    sub_id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def key(self) -> str:
        """The party's path under /parties and /participants: Type/ID[/SubId]."""
        return "/".join(p for p in (self.id_type, self.identifier, self.sub_id) if p)

    def id_info(self) -> dict[str, str]:
        """The FSPIOP PartyIdInfo: partyIdType, partyIdentifier, fspId, and partySubIdOrType when set."""
        info = {"partyIdType": self.id_type, "partyIdentifier": self.identifier, "fspId": self.fsp}
        if self.sub_id:
            info["partySubIdOrType"] = self.sub_id
        return info

    def fspiop_party(self) -> dict[str, Any]:
        """The FSPIOP `Party` object the payee FSP answers a lookup with."""
        party: dict[str, Any] = {"partyIdInfo": self.id_info()}
        if self.name:
            party["name"] = self.name
        if self.first_name or self.last_name:
            party["personalInfo"] = {"complexName": {k: v for k, v in (("firstName", self.first_name),
                                                                         ("lastName", self.last_name)) if v}}
        return party


@dataclass(frozen=True)
class Quote:
    """A POST /quotes sent (`request`), the callback the payer received, and the two parties."""

    request: dict[str, Any]
    callback: Callback
    payer: Party
    payee: Party

    @property
    def accepted(self) -> bool:
        """True when the quote's callback is not an error."""
        return not self.callback.error

    @property
    def transfer_amount(self) -> dict[str, str]:
        """The callback's transferAmount ({amount, currency}); KeyError when the quote was refused."""
        return self.callback.body["transferAmount"]


@dataclass(frozen=True)
class Transfer:
    """A POST /transfers sent (`request`) and the callback the payer received."""

    request: dict[str, Any]
    callback: Callback

    @property
    def transfer_id(self) -> str:
        """The transferId the request used."""
        return self.request["transferId"]

    @property
    def state(self) -> str | None:
        """The callback's transferState; None when the callback is an error (or names no state)."""
        return None if self.callback.error else self.callback.body.get("transferState")


def expect_accepted(exchange: Any, what: str) -> None:
    """Raise UnexpectedResponse unless the hub answered `what` with 202."""
    if exchange.status != 202:
        raise UnexpectedResponse(f"{what}: the hub answered {exchange.status}, not 202: {exchange.response_body}",
                                 response=exchange)


def _iso(delta_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lookup(s: Session, requester: str, party: Party, *, timeout: float | None = None) -> Callback:
    """GET /parties as `requester`; returns the PUT /parties (or its /error) callback."""
    mark = s.sim.mark()
    ex = s.fspiop("GET", "als", f"/parties/{party.key}", source=requester)
    expect_accepted(ex, f"GET /parties/{party.key}")
    return s.await_callback(requester, "parties", party.key, after=mark, timeout=timeout)


def register_party(s: Session, party: Party, currency: str) -> Callback:
    """POST /participants/{Type}/{ID}[/{SubId}] as the party's FSP (ALS → oracle); returns the callback."""
    mark = s.sim.mark()
    ex = s.fspiop("POST", "als", f"/participants/{party.key}", source=party.fsp,
                  body={"fspId": party.fsp, "currency": currency})
    expect_accepted(ex, f"POST /participants/{party.key}")
    return s.await_callback(party.fsp, "participants", party.key, after=mark)


def owner_of(cb: Callback) -> str | None:
    """The FSP a participants callback names: ``{fspId}`` (answer to GET or DELETE) or the first entry of
    ``{partyList: [{…, fspId}]}`` (ALS's answer to POST and PUT); None for an error or neither."""
    body = cb.body if isinstance(cb.body, dict) and not cb.error else {}
    if "fspId" in body:
        return str(body["fspId"])
    parties = body.get("partyList") or []
    first = parties[0] if parties and isinstance(parties[0], dict) else {}
    return str(first["fspId"]) if "fspId" in first else None


def participant_of(s: Session, requester: str, party: Party) -> Callback:
    """GET /participants/{Type}/{ID}: which FSP the oracle says owns the party."""
    mark = s.sim.mark()
    ex = s.fspiop("GET", "als", f"/participants/{party.key}", source=requester)
    expect_accepted(ex, f"GET /participants/{party.key}")
    return s.await_callback(requester, "participants", party.key, after=mark)


def quote_body(payer: Party, payee: Party, amount: Decimal | str, currency: str, *, amount_type: str = "SEND",
               quote_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    """The POST /quotes body from `payer` to `payee` (fresh quoteId unless given, fresh transactionId), not sent."""
    body: dict[str, Any] = {
        "quoteId": quote_id or new_id(), "transactionId": new_id(),
        "payee": {"partyIdInfo": payee.id_info()},
        "payer": {"partyIdInfo": payer.id_info()},
        "amountType": amount_type, "amount": {"amount": str(amount), "currency": currency},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    }
    if note:
        body["note"] = note
    return body


def quote(s: Session, payer: Party, payee: Party, amount: Decimal | str, currency: str, *,
          amount_type: str = "SEND", quote_id: str | None = None, note: str | None = None) -> Quote:
    """POST /quotes from `payer` to `payee` (fresh quoteId unless given, fresh transactionId); returns the quote
    with the PUT /quotes (or /error) callback."""
    body = quote_body(payer, payee, amount, currency, amount_type=amount_type, quote_id=quote_id, note=note)
    quote_id = body["quoteId"]
    mark = s.sim.mark()
    ex = s.fspiop("POST", "quoting", "/quotes", source=payer.fsp, destination=payee.fsp, body=body)
    expect_accepted(ex, "POST /quotes")
    cb = s.await_callback(payer.fsp, "quotes", quote_id, after=mark)
    return Quote(body, cb, payer, payee)


def transfer(s: Session, q: Quote, *, transfer_id: str | None = None, expires_in_s: float = 60,
             amount: dict[str, str] | None = None) -> Transfer:
    """POST /transfers for an accepted quote; returns the final PUT /transfers (or /error) to the payer."""
    body = {
        "transferId": transfer_id or new_id(), "payerFsp": q.payer.fsp, "payeeFsp": q.payee.fsp,
        "amount": amount or q.transfer_amount, "ilpPacket": q.callback.body["ilpPacket"],
        "condition": q.callback.body["condition"], "expiration": _iso(expires_in_s),
    }
    return send_transfer(s, body)


def send_transfer(s: Session, body: dict[str, Any], *, timeout: float | None = None) -> Transfer:
    """POST /transfers with `body` as given; returns the final PUT /transfers (or /error) to the payer."""
    mark = s.sim.mark()
    ex = s.fspiop("POST", "ml_api_adapter", "/transfers", source=body["payerFsp"], destination=body["payeeFsp"],
                  body=body)
    expect_accepted(ex, "POST /transfers")
    cb = s.await_callback(body["payerFsp"], "transfers", body["transferId"], after=mark, timeout=timeout)
    return Transfer(body, cb)


def get_transfer(s: Session, requester: str, transfer_id: str) -> Callback:
    """GET /transfers/{transfer_id} as `requester`; returns the PUT /transfers (or /error) callback."""
    mark = s.sim.mark()
    ex = s.fspiop("GET", "ml_api_adapter", f"/transfers/{transfer_id}", source=requester)
    expect_accepted(ex, f"GET /transfers/{transfer_id}")
    return s.await_callback(requester, "transfers", transfer_id, after=mark)
