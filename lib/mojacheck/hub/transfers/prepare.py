"""ml-api-adapter + central-ledger prepare and GET of transfers (behaviour ref §5.3, §7, §9).

POST /transfers answers 202 once the prepare is stored, as ml-api-adapter answers once the message is durable:
the duplicate check, validation and the position check run before the answer and decide RESERVED, INVALID or
ABORTED_REJECTED in one committed transaction with the position change; what they decide reaches the FSPs as
callbacks (the forward to the payee, error callbacks), delivered in the background.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_description, is_valid_id
from mojacheck.hub import ledger
from mojacheck.hub.admin.funds import funds_transfer, read_back
from mojacheck.hub.als.parties import active
from mojacheck.hub.db import HUB_NAME, now_iso
from mojacheck.hub.fx import dependent
from mojacheck.hub.headers import relayed, uri_of
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.transfers.fulfil import put_transfer, put_transfer_error
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import ApiError, body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

REQUIRED = ("transferId", "payerFsp", "payeeFsp", "amount.amount", "amount.currency", "ilpPacket", "condition",
            "expiration")
# Schema patterns of the FSPIOP API (Amount, IlpCondition): a mismatch is malformed syntax (3101).
AMOUNT = re.compile(r"^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$")
CONDITION = re.compile(r"^[A-Za-z0-9-_]{43}$")


def check_syntax(req: FspiopRequest) -> datetime:
    body = req.body
    if not is_valid_id(str(body["transferId"]), req.version):
        raise ApiError("3101", "/body/transferId does not match the CorrelationId pattern")
    if not AMOUNT.match(str(body["amount"]["amount"])):
        raise ApiError("3101", "/body/amount/amount does not match the Amount pattern")
    if not CONDITION.match(str(body["condition"])):
        raise ApiError("3101", "/body/condition does not match the IlpCondition pattern")
    try:
        return ts.parse_datetime(str(body["expiration"]))
    except ValueError:
        raise ApiError("3101", "/body/expiration must be an ISO-8601 date-time") from None


def validation_reasons(hub: Hub, req: FspiopRequest, expiration: datetime, *, payer_account: bool = True) -> list[str]:
    """central-ledger's prepare validation; every failed rule adds one reason (sent as 3100). A transfer that depends
    on a conversion needs no payer account in its currency (``payer_account=False``)."""
    body, reasons = req.body, []
    payer, payee, currency = str(body["payerFsp"]), str(body["payeeFsp"]), str(body["amount"]["currency"])
    if req.source != payer:
        reasons.append("FSPIOP-Source header should match Payer")
    for fsp in (payer, payee):
        row = ledger.participant(hub.db, fsp)
        if row is None:
            reasons.append(f"Participant {fsp} not found")
            continue
        if not row["is_active"]:
            reasons.append(f"Participant {fsp} is inactive")
        if fsp == payer and not payer_account:
            continue
        acct = ledger.account(hub.db, row["id"], ledger.POSITION, currency)
        if acct is None:
            reasons.append(f"Participant {fsp} {currency} account not found")
        elif not acct["is_active"]:
            reasons.append(f"Participant {fsp} {currency} account is inactive")
    if payer == payee and not hub.config.on_us_transfers:
        reasons.append("Payer FSP and Payee FSP should be different, unless on-us tranfers are allowed by the Scheme")
    if expiration <= datetime.now(UTC):
        shown = expiration.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        reasons.append(f"Expiration date {shown} is already in the past")
    return reasons


def _insert(hub: Hub, req: FspiopRequest, expiration: datetime, state: str, digest: str) -> None:
    body, now = req.body, now_iso()
    hub.db.execute(
        "INSERT INTO transfer (id, payer, payee, amount, currency, condition, expiration, expiration_ts, state, "
        "body_hash, prepare_body, prepare_headers, created, changed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(body["transferId"]), str(body["payerFsp"]), str(body["payeeFsp"]), str(body["amount"]["amount"]),
         str(body["amount"]["currency"]), str(body["condition"]), str(body["expiration"]),
         expiration.timestamp(), state, digest, req.raw, "{}", now, now),
    )


def prepare(hub: Hub, req: FspiopRequest, expiration: datetime) -> None:
    transfer_id, digest = str(req.body["transferId"]), body_hash(req.body)
    existing = ts.get(hub, transfer_id)
    if existing is not None:
        duplicate(hub, req, existing, digest)
        return
    error = record_prepare(hub, req, expiration, digest)
    if error is not None:
        hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), error[0], description=error[2],
                            trigger=req.headers)
        return
    forward_prepare(hub, req, str(req.body["payeeFsp"]))


def record_prepare(hub: Hub, req: FspiopRequest, expiration: datetime, digest: str) -> tuple[str, str, str] | None:
    """Validation and the position check in one transaction: the transfer row is stored RESERVED (payer's, or for
    a dependent transfer the FXP's, position raised) or INVALID/ABORTED_REJECTED; returns the error (code, the
    cause central-ledger stores, the description the payer is told) or None when reserved.

    Sends nothing: a single prepare reports to the payer, a bulk records the outcome per item (``hub/bulk``).
    """
    transfer_id = str(req.body["transferId"])
    fx = dependent.plan(hub, transfer_id)  # the conversion(s) this transfer completes, if any (release 17)
    reasons = validation_reasons(hub, req, expiration, payer_account=fx is None) + (fx.reasons if fx else [])
    amount = Decimal(str(req.body["amount"]["amount"]))
    payer, currency = str(req.body["payerFsp"]), str(req.body["amount"]["currency"])
    # Who is reserved: the payer, or for a dependent transfer the FXP in the conversion's target currency.
    holder, held_currency, held = (fx.fxp, fx.currency, fx.amount) if fx else (payer, currency, amount)
    # (code, what central-ledger stores as the cause, what the payer is told); None: reserved
    error: tuple[str, str, str] | None = None
    with hub.db.tx():
        if reasons:
            # The stored reason has no "Generic validation error - " prefix; the payer's callback has it.
            joined = ",".join(reasons)
            error, state = ("3100", joined, error_description("3100", joined)), ts.INVALID
        else:
            check = ledger.check_payer(hub.db, hub.release, holder, held_currency, held)
            if not check.ok:
                code = str(check.error_code)
                error = (code, error_description(code, check.detail), error_description(code, check.detail))
            state = ts.RESERVED if check.ok else ts.ABORTED_REJECTED
        _insert(hub, req, expiration, state, digest)
        if error is None:
            ledger.reserve(hub.db, holder, held_currency, held, transfer_id)
        else:
            ts.set_state(hub, transfer_id, state, error_code=error[0], error_description=error[1],
                         completed_timestamp=now_iso())
    return error


def forward_prepare(hub: Hub, req: FspiopRequest, payee: str) -> None:
    """The payer's POST, headers and body unchanged, to the payee; no retries (the transfer may expire)."""
    transfer_id = str(req.body["transferId"])
    url = hub.outbox.url(payee, ts.POST_ENDPOINT, ts.params(transfer_id))
    if url is None:
        hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "3201",
                            f"No {ts.POST_ENDPOINT} endpoint for {payee}", trigger=req.headers)
        return
    # ml-api-adapter sets FSPIOP-Destination to the payee of the body (even if the payer left it out).
    headers = relayed(req.headers, "POST", destination=payee, uri=uri_of(url, "transfers"))
    hub.outbox.relay("POST", url, headers, req.raw)


def duplicate(hub: Hub, req: FspiopRequest, row: sqlite3.Row, digest: str) -> None:
    """Same body: report the state (or wait while RECEIVED); modified body: 3106 (behaviour ref §7)."""
    transfer_id = str(req.body["transferId"])
    if row["body_hash"] != digest:
        hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "3106", trigger=req.headers)
        return
    if row["state"] == ts.RECEIVED_PREPARE:
        return
    ts.send_state(hub, row, req.source, req.headers)


async def post_transfer(hub: Hub, req: FspiopRequest) -> Response:
    expiration = check_syntax(req)
    prepare(hub, req, expiration)  # committed before the 202: a crash after it loses no acknowledged prepare
    return Response(status_code=202)


async def get_transfer(hub: Hub, req: FspiopRequest) -> Response:
    transfer_id = req.params["ID"]

    async def work() -> None:
        if not active(hub, req.source):
            log.warning("GET /transfers from unknown FSP %r dropped", req.source)
            return
        row = ts.get(hub, transfer_id)
        if row is None and (funds := funds_transfer(hub.db, transfer_id)) is not None:
            _answer_funds(hub, req, funds)
            return
        if row is None:
            hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "3208",
                                "Provided Transfer ID was not found on the server.", trigger=req.headers)
            return
        if req.source not in (row["payer"], row["payee"]):
            hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "3000", trigger=req.headers)
            return
        ts.send_state(hub, row, req.source, req.headers)

    hub.outbox.spawn(work(), "GET /transfers")
    return Response(status_code=202)


def _answer_funds(hub: Hub, req: FspiopRequest, funds: sqlite3.Row) -> None:
    """A funds in/out is a transfer too: its DFSP (or the Hub) reads it back like any transfer."""
    transfer_id = str(funds["id"])
    if req.source not in (funds["participant_name"], HUB_NAME):
        hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "3000", trigger=req.headers)
        return
    url = hub.outbox.url(req.source, ts.PUT_ENDPOINT, ts.params(transfer_id))
    if url is None:
        log.warning("no %s endpoint for %s: funds transfer %s not reported", ts.PUT_ENDPOINT, req.source, transfer_id)
        return
    hub.outbox.hub_message("PUT", req.source, url, "transfers", read_back(funds), trigger=req.headers)


routes = [
    Route("/transfers", fspiop(post_transfer, required=REQUIRED), methods=["POST"]),
    Route("/transfers/{ID}", fspiop(get_transfer), methods=["GET"]),
    Route("/transfers/{ID}", fspiop(put_transfer, required=("transferState",)), methods=["PUT"]),
    Route("/transfers/{ID}/error", fspiop(put_transfer_error, required=("errorInformation.errorCode",
                                                                       "errorInformation.errorDescription")),
          methods=["PUT"]),
]
