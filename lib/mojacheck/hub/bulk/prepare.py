"""``POST /bulkTransfers``: duplicate check, bulk validation, each item prepared on its own, the payee's POST
(bulk-api-adapter src/api/handlers/bulkTransfers.js, central-ledger src/handlers/bulk/prepare/handler.js and
shared/validator.js).

Every item goes through the single-transfer prepare (``transfers.prepare.record_prepare``): the same validation, and
the payer's position and net debit cap checked against the running position, so one item may fail while the
items after it still fit. Failed items are recorded with their error; the payee is asked about the others only.
central-ledger works through Kafka topics; here each step runs in order in one background task, which is the order
the topics give a bulk whose items share one payer position.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from mojacheck.fspiop import error_description, error_message
from mojacheck.hub import ledger
from mojacheck.hub.bodycheck import check_body
from mojacheck.hub.bulk import bodies, notify, store
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.transfers.prepare import record_prepare
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import body_hash, log
from mojacheck.server import dumps

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


async def post_bulk_transfer(hub: Hub, req: FspiopRequest) -> Response:
    check_body(bodies.POST_BULK_TRANSFER, req.body)

    async def work() -> None:
        prepare(hub, req)

    hub.outbox.spawn(work(), "POST /bulkTransfers")
    return Response(status_code=202)


def prepare(hub: Hub, req: FspiopRequest) -> None:
    body, digest = req.body, body_hash(req.body)
    bulk_id = str(body["bulkTransferId"])
    existing = store.get(hub, bulk_id)
    if existing is not None:
        duplicate(hub, req, existing, digest)
        return
    problem = validate(hub, req)
    if problem is not None:
        code, detail, legacy_reason = problem
        with hub.db.tx():
            store.insert(hub, body, store.INVALID, digest, req.headers,
                         reason=legacy_reason if hub.release.bulk_legacy else error_description(code, detail))
        if not hub.release.bulk_legacy:  # central-ledger < 16 stored the bulk INVALID and said nothing
            notify.error_code(hub, req.source, bulk_id, code, detail, req.headers)
        return
    with hub.db.tx():
        store.insert(hub, body, store.PENDING_PREPARE, digest, req.headers)
        stuck = False
        for seq, item in enumerate(body["individualTransfers"]):
            stuck = _prepare_item(hub, req, bulk_id, seq, item) or stuck
        if not stuck:
            store.set_state(hub, bulk_id, store.ACCEPTED)
    bulk = store.get(hub, bulk_id)
    assert bulk is not None
    if stuck:
        log.warning("bulk %s: an item repeats an earlier transfer; central-ledger never resolves it", bulk_id)
    elif any(i["state"] == "ACCEPTED" for i in store.items(hub, bulk_id)):
        notify.prepare(hub, bulk, req.headers)
    else:
        # central-ledger's processing handler leaves this case unimplemented: nobody hears anything; the payer
        # learns the outcome only by asking (GET /bulkTransfers/{ID}).
        log.warning("bulk %s: every item failed at prepare; no message is sent (as central-ledger)", bulk_id)


def validate(hub: Hub, req: FspiopRequest) -> tuple[str, str, str] | None:
    """central-ledger's bulk validation, first failure only: (code, detail, the reason helm 13/14 stored)."""
    body = req.body
    payer, payee = str(body["payerFsp"]), str(body["payeeFsp"])
    if req.source != payer:
        return "3100", "FSPIOP-Source header should match Payer FSP", "FSPIOP-Source header should match Payer"
    expiration = ts.parse_datetime(str(body["expiration"]))
    # The validator compares with the start of today (Date.parse(new Date().toDateString())), not with now:
    # an expiration earlier today passes here and fails per item.
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if expiration < midnight:
        shown = expiration.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        detail = f"Expiration date {shown} is already in the past"
        return "3100", detail, detail
    if payer.lower() == payee.lower():
        detail = "Payer and Payee FSPs should be different"
        return "3100", detail, detail
    for code, fsp in (("3202", payer), ("3203", payee), ("3203", req.destination)):
        row = ledger.participant(hub.db, fsp) if fsp else None
        if row is None:
            return code, f"Participant {fsp} not found", f"Participant {fsp} not found"
        if not row["is_active"]:
            return code, f"Participant {fsp} is inactive", f"Participant {fsp} is inactive"
    return None


def item_prepare(bulk: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The individual prepare central-ledger makes of an item: payer, payee and expiration from the bulk."""
    prepared = {"transferId": item["transferId"], "payerFsp": bulk["payerFsp"], "payeeFsp": bulk["payeeFsp"],
                "amount": item["transferAmount"], "ilpPacket": item["ilpPacket"], "condition": item["condition"],
                "expiration": bulk["expiration"]}
    if item.get("extensionList"):
        prepared["extensionList"] = item["extensionList"]
    return prepared


def _prepare_item(hub: Hub, req: FspiopRequest, bulk_id: str, seq: int, item: dict[str, Any]) -> bool:
    """Prepare one item inside the bulk's transaction; True when it can never resolve (identical duplicate)."""
    prepared = item_prepare(req.body, item)
    digest = body_hash(prepared)
    existing = ts.get(hub, str(item["transferId"]))
    if existing is not None:
        if existing["body_hash"] != digest:
            store.add_item(hub, bulk_id, seq, item, "RECEIVED_DUPLICATE", ("3106", error_message("3106")))
            return False
        if hub.release.bulk_legacy:
            detail = error_description("3106", "Individual transfer prepare duplicate")
            store.add_item(hub, bulk_id, seq, item, "RECEIVED_DUPLICATE", ("3106", detail))
            return False
        # central-ledger >= 18 builds this error from a string where an error enum is expected; the factory
        # throws before any notification and the item stays RECEIVED for good.
        store.add_item(hub, bulk_id, seq, item, "RECEIVED")
        return True
    item_req = FspiopRequest(method="POST", path="/transfers", params={}, headers=req.headers,
                             raw=dumps(prepared), body=prepared, version=req.version)
    expiration = ts.parse_datetime(str(prepared["expiration"]))
    failed = record_prepare(hub, item_req, expiration, digest)
    if failed is None:
        store.add_item(hub, bulk_id, seq, item, "ACCEPTED")
        return False
    code, _cause, told = failed
    # Validation failures keep their reasons; position failures carry the bare standard message.
    text = told if code == "3100" else error_message(code)
    store.add_item(hub, bulk_id, seq, item, "RECEIVED_INVALID", (code, text))
    return False


def duplicate(hub: Hub, req: FspiopRequest, bulk: Any, digest: str) -> None:
    """Same id again: modified → 3106 "Modified request"; identical → the result again once the bulk is
    COMPLETED (helm ≥ 14.1; before, identical duplicates were ignored)."""
    bulk_id = bulk["id"]
    if bulk["prepare_hash"] != digest:
        notify.error_code(hub, req.source, bulk_id, "3106", None, req.headers)
        return
    if hub.release.bulk_legacy or bulk["state"] != store.COMPLETED:
        # In progress or INVALID: ignored; REJECTED: central-ledger emits an error duplicate that bulk-api-adapter
        # does not handle, so nothing arrives either.
        log.info("identical POST /bulkTransfers %s in state %s: nothing sent", bulk_id, bulk["state"])
        return
    notify.put(hub, req.source, bulk_id, store.state_body(hub, bulk, payee=False, state=bulk["state"]), req.headers)

