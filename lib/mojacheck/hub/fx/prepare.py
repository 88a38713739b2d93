"""ml-api-adapter + central-ledger prepare of a conversion (``POST /fxTransfers``), its GET, and the PATCH the hub
refuses (fx.md §4.1–4.3, §4.6–4.7).

After the synchronous checks, in one transaction committed before the 202 (the hub acknowledges only what it has
stored): duplicate check, validation (the first failing rule wins, 3100), the liquidity/NDC check of the payer DFSP
in the **source** currency (4001/4200 with the release's rule), the reservation of ``sourceAmount`` on that position
and the watch-list entry that links the conversion to the transfer named by ``determiningTransferId``. Then the
payer's request goes to the FXP unchanged, in the background.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from starlette.responses import Response

from mojacheck.hub import ledger
from mojacheck.hub.als.parties import active
from mojacheck.hub.db import now_iso
from mojacheck.hub.fx import store as fs
from mojacheck.hub.fx import syntax
from mojacheck.hub.headers import relayed, uri_of
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import ApiError, body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


def _participant_problem(hub: Hub, name: str) -> str | None:
    row = ledger.participant(hub.db, name)
    if row is None:
        return f"Participant {name} not found"
    return None if row["is_active"] else f"Participant {name} is inactive"


def _account_problem(hub: Hub, name: str, currency: str) -> str | None:
    pos = ledger.account_by_name(hub.db, name, ledger.POSITION, currency)
    if pos is None:
        return f"Participant {name} {currency} account not found"
    return None if pos["is_active"] else f"Participant {name} {currency} account is inactive"


def first_reason(hub: Hub, req: FspiopRequest, expiration: datetime | None) -> str | None:
    """central-ledger's fx prepare validation in its order; the first failing rule is the reason (fx.md §4.2)."""
    body = req.body
    payer, fxp = str(body["initiatingFsp"]), str(body["counterPartyFsp"])
    source, target = str(body["sourceAmount"]["currency"]), str(body["targetAmount"]["currency"])
    if req.source != payer:
        return "FSPIOP-Source header should match Payer"
    for name in (payer, fxp):
        if problem := _participant_problem(hub, name):
            return problem
    if expiration is None:
        return "Expiration is required for conditional transfer"
    if expiration <= datetime.now(UTC):
        return f"Expiration date {body['expiration']} is already in the past"
    if payer == fxp and not hub.config.on_us_transfers:
        return "Payer FSP and Payee FSP should be different, unless on-us tranfers are allowed by the Scheme"
    if body.get("determiningTransferId") and ts.get(hub, str(body["determiningTransferId"])) is not None:
        # A conversion of an existing transfer is payee-side conversion; the embedded hub emulates payer-side
        # conversion only (the one the official tests exercise), and says so rather than book it wrongly.
        return "Payee-side conversion (determiningTransferId names an existing transfer) is not supported here"
    for name, currency in ((fxp, source), (fxp, target), (payer, source)):
        if problem := _account_problem(hub, name, currency):
            return problem
    return None


def _insert(hub: Hub, req: FspiopRequest, expiration: datetime | None, state: str, digest: str) -> None:
    body, now = req.body, now_iso()
    hub.db.execute(
        "INSERT INTO fx_transfer (commit_request_id, determining_transfer_id, initiating_fsp, counterparty_fsp, "
        "source_amount, source_currency, target_amount, target_currency, condition, expiration, expiration_ts, "
        "state, watched, body_hash, prepare_body, completed_timestamp, created, changed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(body["commitRequestId"]), body.get("determiningTransferId"), str(body["initiatingFsp"]),
         str(body["counterPartyFsp"]), str(body["sourceAmount"]["amount"]), str(body["sourceAmount"]["currency"]),
         str(body["targetAmount"]["amount"]), str(body["targetAmount"]["currency"]), str(body["condition"]),
         body.get("expiration"), None if expiration is None else expiration.timestamp(), state,
         int(state != fs.INVALID), digest, req.raw, now, now, now),
    )


def prepare(hub: Hub, req: FspiopRequest, expiration: datetime | None) -> None:
    commit_request_id, digest = str(req.body["commitRequestId"]), body_hash(req.body)
    existing = fs.get(hub, commit_request_id)
    if existing is not None:
        duplicate(hub, req, existing, digest)
        return
    reason = first_reason(hub, req, expiration)
    payer, source = str(req.body["initiatingFsp"]), str(req.body["sourceAmount"]["currency"])
    amount = Decimal(str(req.body["sourceAmount"]["amount"]))
    error: tuple[str, str] | None = None
    with hub.db.tx():
        if reason is not None:
            error, state = ("3100", reason), fs.INVALID
        else:
            # Payer-side conversion: the payer DFSP's source-currency position is checked and reserved.
            check = ledger.check_payer(hub.db, hub.release, payer, source, amount)
            error = None if check.ok else (str(check.error_code), str(check.detail))
            state = fs.RESERVED if check.ok else fs.ABORTED_REJECTED
        _insert(hub, req, expiration, state, digest)
        if error is None:
            ledger.reserve(hub.db, payer, source, amount, commit_request_id)
        else:
            fs.set_state(hub, commit_request_id, state, error_code=error[0], error_description=error[1])
    if error is not None:
        hub.outbox.error_to(req.source, fs.RESOURCE, fs.params(commit_request_id), *error, trigger=req.headers)
        return
    forward(hub, req)


def forward(hub: Hub, req: FspiopRequest) -> None:
    """The payer's POST, headers and body unchanged, to the FXP (FSPIOP-Destination set to it)."""
    commit_request_id, fxp = str(req.body["commitRequestId"]), str(req.body["counterPartyFsp"])
    url = hub.outbox.url(fxp, fs.POST_ENDPOINT, fs.params(commit_request_id))
    if url is None:
        hub.outbox.error_to(req.source, fs.RESOURCE, fs.params(commit_request_id), "3201",
                            f"No {fs.POST_ENDPOINT} endpoint for {fxp}", trigger=req.headers)
        return
    headers = relayed(req.headers, "POST", destination=fxp, uri=uri_of(url, fs.RESOURCE))
    hub.outbox.relay("POST", url, headers, req.raw)


def duplicate(hub: Hub, req: FspiopRequest, row: sqlite3.Row, digest: str) -> None:
    """Another body: 3106; the same body: the state from the hub, unless the conversion is still RECEIVED."""
    commit_request_id = row["commit_request_id"]
    if row["body_hash"] != digest:
        hub.outbox.error_to(req.source, fs.RESOURCE, fs.params(commit_request_id), "3106",
                            f"fxTransfer {commit_request_id} was already prepared with another request",
                            trigger=req.headers)
        return
    if row["state"] == fs.RECEIVED_PREPARE:
        return
    fs.send_state(hub, row, req.source, trigger=req.headers)


async def post_fx_transfer(hub: Hub, req: FspiopRequest) -> Response:
    expiration = syntax.fx_transfer_request(req)
    prepare(hub, req, expiration)  # committed before the 202, as POST /transfers
    return Response(status_code=202)


async def get_fx_transfer(hub: Hub, req: FspiopRequest) -> Response:
    commit_request_id = req.params["ID"]

    async def work() -> None:
        if not active(hub, req.source):
            log.warning("GET /fxTransfers from unknown FSP %r dropped", req.source)
            return
        row = fs.get(hub, commit_request_id)
        if row is None:
            hub.outbox.error_to(req.source, fs.RESOURCE, fs.params(commit_request_id), "3208",
                                "Provided commitRequest ID was not found on the server.", trigger=req.headers)
            return
        if req.source not in (row["initiating_fsp"], row["counterparty_fsp"]):
            hub.outbox.error_to(req.source, fs.RESOURCE, fs.params(commit_request_id), "3000",
                                f"{req.source} is not a party of fxTransfer {commit_request_id}", trigger=req.headers)
            return
        fs.send_state(hub, row, req.source, trigger=req.headers)

    hub.outbox.spawn(work(), "GET /fxTransfers")
    return Response(status_code=202)


async def patch_fx_transfer(hub: Hub, req: FspiopRequest) -> Response:
    """ml-api-adapter answers an inbound PATCH /fxTransfers/{ID} 501: the PATCH only flows hub → FXP."""
    raise ApiError("2002", "PATCH /fxTransfers/{ID} is sent by the hub, not received")
