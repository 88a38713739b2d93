"""Account lookup (ALS) at the root: participant registration and party lookup (behaviour ref §5.1).

Oracle choice: the hub's built-in oracle (the ``party`` table) answers every lookup, whatever endpoint an
oracle was registered with; registering an oracle for a party id type (``POST /als-admin/oracles``) is still
required, as in ALS, so a missing provisioning step shows up: registering a party of a type without oracle
gets error 3003 "Oracle type: X not found"; looking one up gets 3204 with that detail.

Registrations and deletions (``POST``/``DELETE /participants…``, the batch) are committed before the 202: the hub
acknowledges only what it has stored. Lookups store nothing; they are answered by callbacks in the background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.callbacks import relay_headers
from mojacheck.hub.db import now_iso
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import ApiError, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

SUB = "partySubIdOrType"


def party_params(req: FspiopRequest) -> dict[str, str]:
    params = {"partyIdType": req.params["Type"], "partyIdentifier": req.params["ID"]}
    if req.params.get("SubId"):
        params[SUB] = req.params["SubId"]
    return params


def active(hub: Hub, name: str) -> bool:
    row = ledger.participant(hub.db, name) if name else None
    return row is not None and bool(row["is_active"])


def has_oracle(hub: Hub, id_type: str) -> bool:
    return hub.db.one("SELECT id FROM oracle WHERE id_type = ?", (id_type,)) is not None


def _participant_put_type(params: dict[str, str], *, delete: bool = False) -> str:
    if SUB in params:
        kind = "SUB_ID_DELETE" if delete else "SUB_ID_PUT"
        return f"FSPIOP_CALLBACK_URL_PARTICIPANT_{kind}"
    return "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT"


def _answer_participant(hub: Hub, requester: str, params: dict[str, str], body: dict[str, Any], *,
                        delete: bool = False) -> None:
    url = hub.outbox.url(requester, _participant_put_type(params, delete=delete), params)
    if url is None:
        log.warning("no PARTICIPANT_PUT endpoint for %s", requester)
        return
    hub.outbox.hub_message("PUT", requester, url, "participants", body)


def register_party(hub: Hub, params: dict[str, str], fsp_id: str, currency: str | None) -> tuple[str, str] | None:
    """Store one party → FSP mapping; returns (code, detail) when it cannot be stored."""
    if not has_oracle(hub, params["partyIdType"]):
        return "3003", f"Oracle type: {params['partyIdType']} not found"
    key = (params["partyIdType"], params["partyIdentifier"], params.get(SUB, ""))
    with hub.db.tx():
        row = hub.db.one("SELECT fsp_id FROM party WHERE id_type = ? AND identifier = ? AND sub_id = ?", key)
        if row is not None and row["fsp_id"] != fsp_id:
            return "3003", f"Party is already registered to {row['fsp_id']}"
        hub.db.execute(
            "INSERT INTO party (id_type, identifier, sub_id, fsp_id, currency, created) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id_type, identifier, sub_id) DO UPDATE SET currency = excluded.currency",
            (*key, fsp_id, currency, now_iso()),
        )
    return None


async def post_participant(hub: Hub, req: FspiopRequest) -> Response:
    # Stored before the 202 (the hub acknowledges only what it has stored); the answer is a callback.
    params = party_params(req)
    _check_currency(req.body)
    if not active(hub, req.source):
        log.warning("POST /participants from unknown FSP %r dropped", req.source)
        return Response(status_code=202)
    failure = register_party(hub, params, str(req.body["fspId"]), req.body.get("currency"))
    if failure is not None:
        hub.outbox.error_to(req.source, "participants", params, *failure)
    else:
        _answer_participant(hub, req.source, params, {"fspId": str(req.body["fspId"])})
    return Response(status_code=202)


def lookup_parties(hub: Hub, params: dict[str, str]) -> tuple[list[str], tuple[str, str] | None]:
    """FSPs owning the party; or the error (3204 no such party, 3200 no match for the SubId)."""
    if not has_oracle(hub, params["partyIdType"]):
        return [], ("3204", f"Oracle type: {params['partyIdType']} not found")
    rows = hub.db.all("SELECT sub_id, fsp_id FROM party WHERE id_type = ? AND identifier = ?",
                      (params["partyIdType"], params["partyIdentifier"]))
    if not rows:
        return [], ("3204", None)
    owners = [r["fsp_id"] for r in rows if r["sub_id"] == params.get(SUB, "")]
    if not owners:
        return [], ("3200", f"No party {params['partyIdentifier']} with sub-id {params.get(SUB, '')!r}")
    return owners, None


async def get_participant(hub: Hub, req: FspiopRequest) -> Response:
    params = party_params(req)

    async def work() -> None:
        owners, failure = lookup_parties(hub, params)
        if failure is not None:
            hub.outbox.error_to(req.source, "participants", params, *failure)
            return
        _answer_participant(hub, req.source, params, {"fspId": owners[0]})

    hub.outbox.spawn(work(), "GET /participants")
    return Response(status_code=202)


async def delete_participant(hub: Hub, req: FspiopRequest) -> Response:
    params = party_params(req)
    key = (params["partyIdType"], params["partyIdentifier"], params.get(SUB, ""))
    with hub.db.tx():  # committed before the 202
        row = hub.db.one("SELECT fsp_id FROM party WHERE id_type = ? AND identifier = ? AND sub_id = ?", key)
        if row is not None:
            hub.db.execute("DELETE FROM party WHERE id_type = ? AND identifier = ? AND sub_id = ?", key)
    if row is None:
        hub.outbox.error_to(req.source, "participants", params, "3040", "Party not registered")
    else:
        _answer_participant(hub, req.source, params, {"fspId": row["fsp_id"]}, delete=True)
    return Response(status_code=202)


MAX_BATCH = 10000  # ALS: partyList maxItems


def check_party_list(body: dict[str, Any]) -> None:
    """ALS validates the batch against its schema before the 202 (openapi-backend: the first ajv error; a wrong
    type is 3101, a missing property 3102, a wrong item count 3100), so nothing is accepted and then dropped."""
    items = body["partyList"]
    if not isinstance(items, list):
        raise ApiError("3101", "/body/partyList must be array")
    if not 1 <= len(items) <= MAX_BATCH:
        raise ApiError("3100", f"/body/partyList must have 1 to {MAX_BATCH} items")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError("3101", f"/body/partyList/{i} must be object")
        for key in ("partyIdType", "partyIdentifier"):
            if key not in item:
                raise ApiError("3102", f"/body/partyList/{i} must have required property '{key}'")
    _check_currency(body)


def _check_currency(body: dict[str, Any]) -> None:
    if body.get("currency") is not None and not isinstance(body["currency"], str):
        raise ApiError("3101", "/body/currency must be string")


async def post_batch(hub: Hub, req: FspiopRequest) -> Response:
    check_party_list(req.body)
    results = []
    for item in req.body.get("partyList") or []:  # each party stored before the 202
        params = {"partyIdType": str(item.get("partyIdType", "")),
                  "partyIdentifier": str(item.get("partyIdentifier", ""))}
        if item.get(SUB):
            params[SUB] = str(item[SUB])
        failure = register_party(hub, params, str(item.get("fspId") or req.source), req.body.get("currency"))
        result: dict[str, Any] = {"partyId": item}
        if failure is not None:
            result["errorInformation"] = {"errorCode": failure[0], "errorDescription": failure[1]}
        results.append(result)
    request_id = str(req.body["requestId"])
    url = hub.outbox.url(req.source, "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT", {"requestId": request_id})
    if url is None:
        log.warning("no PARTICIPANT_BATCH_PUT endpoint for %s", req.source)
        return Response(status_code=202)
    body: dict[str, Any] = {"partyList": results}
    if req.body.get("currency"):
        body["currency"] = req.body["currency"]
    hub.outbox.hub_message("PUT", req.source, url, "participants", body)
    return Response(status_code=202)


def _forward_get_party(hub: Hub, req: FspiopRequest, params: dict[str, str], owner: str) -> None:
    if not active(hub, owner):
        hub.outbox.error_to(req.source, "parties", params, "3201", f"Destination FSP {owner} not found or inactive")
        return
    endpoint_type = "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET" if SUB in params else "FSPIOP_CALLBACK_URL_PARTIES_GET"
    url = hub.outbox.url(owner, endpoint_type, params)
    if url is None:
        hub.outbox.error_to(req.source, "parties", params, "3201", f"No {endpoint_type} endpoint for {owner}")
        return

    def failed(_result: object) -> None:
        hub.outbox.error_to(req.source, "parties", params, "1001", f"Could not deliver to {owner}")

    headers = relay_headers(req.headers, "GET", **{"FSPIOP-Destination": owner})
    hub.outbox.send("GET", url, headers, None, on_failure=failed)


async def get_party(hub: Hub, req: FspiopRequest) -> Response:
    params = party_params(req)

    async def work() -> None:
        if not active(hub, req.source):
            log.warning("GET /parties from unknown FSP %r dropped", req.source)
            return
        if req.destination:
            _forward_get_party(hub, req, params, req.destination)
            return
        owners, failure = lookup_parties(hub, params)
        if failure is not None:
            hub.outbox.error_to(req.source, "parties", params, *failure)
            return
        _forward_get_party(hub, req, params, owners[0])

    hub.outbox.spawn(work(), "GET /parties")
    return Response(status_code=202)


def _relay_party_put(hub: Hub, req: FspiopRequest, *, error: bool) -> None:
    params = party_params(req)
    dest = req.destination
    if not active(hub, dest):
        hub.outbox.error_to(req.source, "parties", params, "3201", f"Destination FSP {dest!r} not found or inactive")
        return
    kind = "PARTIES_SUB_ID_PUT" if SUB in params else "PARTIES_PUT"
    endpoint_type = f"FSPIOP_CALLBACK_URL_{kind}{'_ERROR' if error else ''}"
    url = hub.outbox.url(dest, endpoint_type, params)
    if url is None:
        hub.outbox.error_to(req.source, "parties", params, "3201", f"No {endpoint_type} endpoint for {dest}")
        return
    hub.outbox.send("PUT", url, relay_headers(req.headers, "PUT"), req.raw)


async def put_party(hub: Hub, req: FspiopRequest) -> Response:
    # Only lookups and a scheduled delivery: cheap enough to do before answering 200.
    _relay_party_put(hub, req, error=False)
    return Response(status_code=200)


async def put_party_error(hub: Hub, req: FspiopRequest) -> Response:
    _relay_party_put(hub, req, error=True)
    return Response(status_code=200)


_PARTICIPANT = "/participants/{Type}/{ID}"
_PARTY = "/parties/{Type}/{ID}"

routes = [
    Route("/participants", fspiop(post_batch, required=("requestId", "partyList")), methods=["POST"]),
    Route(_PARTICIPANT, fspiop(post_participant, required=("fspId",)), methods=["POST"]),
    Route(_PARTICIPANT, fspiop(get_participant), methods=["GET"]),
    Route(_PARTICIPANT, fspiop(delete_participant), methods=["DELETE"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(post_participant, required=("fspId",)), methods=["POST"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(get_participant), methods=["GET"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(delete_participant), methods=["DELETE"]),
    Route(_PARTY, fspiop(get_party), methods=["GET"]),
    Route(_PARTY, fspiop(put_party, required=("party",)), methods=["PUT"]),
    Route(_PARTY + "/error", fspiop(put_party_error, required=("errorInformation",)), methods=["PUT"]),
    Route(_PARTY + "/{SubId}", fspiop(get_party), methods=["GET"]),
    Route(_PARTY + "/{SubId}", fspiop(put_party, required=("party",)), methods=["PUT"]),
    Route(_PARTY + "/{SubId}/error", fspiop(put_party_error, required=("errorInformation",)), methods=["PUT"]),
]
