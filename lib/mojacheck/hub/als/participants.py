"""ALS ``/participants`` resources as account-lookup-service serves them (domain/participants/participants.js):

* ``POST /participants/{Type}/{ID}[/{SubId}]`` ``{fspId, currency?}``: 202, oracle create, then ``PUT
  /participants/…`` ``{partyList: [{partyIdType, partyIdentifier, fspId[, partySubIdOrType]}], currency}`` to
  ``fspId`` (to FSPIOP-Destination when the request named one); 3003 when it cannot be stored;
* ``GET /participants/{Type}/{ID}[/{SubId}]``: 202, then ``PUT …`` ``{fspId}`` to the requester, or 3204;
* ``PUT /participants/{Type}/{ID}[/{SubId}]`` ``{fspId, currency?}``: 200, oracle update, then as POST;
* ``PUT /participants/{Type}/{ID}[/{SubId}]/error``: 200, relayed as sent to FSPIOP-Destination (3201 to the sender
  when that is not a participant);
* ``DELETE /participants/{Type}/{ID}[/{SubId}]``: 202, oracle delete, then ``PUT …`` ``{fspId: <requester>}``, or
  3040;
* ``POST /participants`` (batch) ``{requestId, partyList, currency?}``: **200**, then ``PUT
  /participants/{requestId}`` with one result per party (3003 unsupported type, 3204 not the requester's);
* ``PUT /participants/{requestId}[/error]``: **501** 2002 "Not implemented".

A requester that is not a participant gets 3200 "Requester FSP not found" (since ALS v17.16 refused at once for
``POST /participants/{Type}/{ID}``). ALS sets no FSPIOP-URI on these callbacks (unless it signs them): they carry the
requester's own, if it sent one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_body
from mojacheck.hub.als.oracles import PARTY_ID_TYPES
from mojacheck.hub.als.parties import (
    SUB,
    check_source,
    delete_party,
    lookup_parties,
    participant_known,
    party_params,
    register_party,
)
from mojacheck.hub.headers import URI, relayed
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import ApiError, error_response, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

REQUESTER_NOT_FOUND = "Requester FSP not found"


def _put_type(params: dict[str, str], *, error: bool = False) -> str:
    kind = "SUB_ID_PUT" if SUB in params else "PUT"
    return f"FSPIOP_CALLBACK_URL_PARTICIPANT_{kind}{'_ERROR' if error else ''}"


def _callback(hub: Hub, req: FspiopRequest, to: str, endpoint_type: str, params: dict[str, str],
              body: dict[str, Any]) -> None:
    """A PUT from ALS: a clone of the request's headers (its FSPIOP-URI stays), the hub as source."""
    url = hub.outbox.url(to, endpoint_type, params)
    if url is None:
        log.warning("no %s endpoint for %s: participants callback not delivered", endpoint_type, to)
        return
    hub.outbox.hub_message("PUT", to, url, "participants", body, trigger=req.headers,
                           uri=req.headers.get(URI.lower()), derive_uri=False)


def _error(hub: Hub, req: FspiopRequest, params: dict[str, str], code: str, detail: str | None = None) -> None:
    hub.outbox.error_to(req.source, "participants", params, code, detail, trigger=req.headers)


def _party_list(params: dict[str, str], fsp_id: str, currency: Any) -> dict[str, Any]:
    entry = {"partyIdType": params["partyIdType"], "partyIdentifier": params["partyIdentifier"], "fspId": fsp_id}
    if SUB in params:
        entry[SUB] = params[SUB]
    body: dict[str, Any] = {"partyList": [entry]}
    if currency is not None:
        body["currency"] = currency
    return body


def _store(hub: Hub, req: FspiopRequest, *, replace: bool) -> None:
    params = party_params(req)
    if params["partyIdType"] not in PARTY_ID_TYPES:
        _error(hub, req, params, "3003")
        return
    if not participant_known(hub, req.source):
        _error(hub, req, params, "3200", REQUESTER_NOT_FOUND)
        return
    fsp_id, currency = str(req.body["fspId"]), req.body.get("currency")
    failure = register_party(hub, params, fsp_id, currency, replace=replace)
    if failure is not None:
        _error(hub, req, params, *failure)
        return
    # To the new owner (the hub speaking) unless the request named a destination (then its headers as they came).
    to = req.destination or fsp_id
    _callback(hub, req, to, _put_type(params), params, _party_list(params, fsp_id, currency))


async def post_participant(hub: Hub, req: FspiopRequest) -> Response:
    if "SubId" not in req.params:
        check_source(hub, req, "3200", REQUESTER_NOT_FOUND)
    _check_currency(req.body)
    _store(hub, req, replace=False)  # stored before the 202; the answer is a callback
    return Response(status_code=202)


async def put_participant(hub: Hub, req: FspiopRequest) -> Response:
    _check_currency(req.body)
    _store(hub, req, replace=True)  # stored before the 200
    return Response(status_code=200)


async def get_participant(hub: Hub, req: FspiopRequest) -> Response:
    params = party_params(req)

    async def work() -> None:
        if not participant_known(hub, req.source):
            _error(hub, req, params, "3200", REQUESTER_NOT_FOUND)
            return
        owners, failure = lookup_parties(hub, params)
        if failure is not None:
            code, detail = failure
            # The oracle's empty answer is 3204 "Party not found" here, whatever the filter was.
            _error(hub, req, params, "3204" if code == "3200" else code, None if code == "3200" else detail)
            return
        _callback(hub, req, req.source, _put_type(params), params, {"fspId": owners[0]})

    hub.outbox.spawn(work(), "GET /participants")
    return Response(status_code=202)


def _delete(hub: Hub, req: FspiopRequest) -> None:
    params = party_params(req)
    if params["partyIdType"] not in PARTY_ID_TYPES:
        _error(hub, req, params, "3040")
        return
    if not participant_known(hub, req.source):
        _error(hub, req, params, "3200", REQUESTER_NOT_FOUND)
        return
    if not delete_party(hub, params):
        _error(hub, req, params, "3040")
        return
    _callback(hub, req, req.source, _put_type(params), params, {"fspId": req.source})


async def delete_participant(hub: Hub, req: FspiopRequest) -> Response:
    _delete(hub, req)  # deleted before the 202; the answer is a callback
    return Response(status_code=202)


async def put_participant_error(hub: Hub, req: FspiopRequest) -> Response:
    params = party_params(req)
    endpoint_type = _put_type(params, error=True)
    url = hub.outbox.url(req.destination, endpoint_type, params) if participant_known(hub, req.destination) else None
    if url is None:
        _error(hub, req, params, "3201")
    else:
        hub.outbox.relay("PUT", url, relayed(req.headers, "PUT"), req.raw)
    return Response(status_code=200)


def _batch_entry(party: dict[str, Any], code: str) -> dict[str, Any]:
    info = error_body(code, None, [{"key": str(party.get("partyIdType")), "value": str(party.get("partyIdentifier"))}])
    return {"partyId": party, **info}


def _batch(hub: Hub, req: FspiopRequest) -> None:
    request_id = str(req.body["requestId"])
    ids = {"requestId": request_id, "ID": request_id}
    if not participant_known(hub, req.source):
        hub.outbox.error_to(req.source, "participants-batch", ids, "3200", REQUESTER_NOT_FOUND, trigger=req.headers)
        return
    # Refused parties first, in request order, then what the oracle stored (ALS appends its batch answer).
    currency, refused, stored = req.body.get("currency"), [], []
    for item in req.body["partyList"]:
        party = dict(item)
        if party.get("partyIdType") not in PARTY_ID_TYPES:
            refused.append(_batch_entry(party, "3003"))
            continue
        if currency is not None:
            party["currency"] = currency
        if party.get("fspId") != req.source:
            refused.append(_batch_entry(party, "3204"))
            continue
        params = {"partyIdType": str(party["partyIdType"]), "partyIdentifier": str(party["partyIdentifier"])}
        if party.get(SUB):
            params[SUB] = str(party[SUB])
        clean = {k: v for k, v in party.items() if k != "currency"}
        failed = register_party(hub, params, req.source, currency)
        (refused if failed else stored).append(_batch_entry(clean, "3003") if failed else {"partyId": clean})
    results = refused + stored
    body: dict[str, Any] = {"partyList": results}
    if currency is not None:
        body["currency"] = currency
    _callback(hub, req, req.destination or req.source, "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT", ids, body)


MAX_BATCH = 10000  # ALS: partyList maxItems


def check_party_list(body: dict[str, Any]) -> None:
    """ALS validates the batch against its schema before answering (openapi-backend: the first ajv error; a wrong
    type is 3101, a missing property 3102, a wrong item count or a type outside the enum 3100), so nothing is
    accepted and then dropped."""
    items = body["partyList"]
    if not isinstance(items, list):
        raise ApiError("3101", "/body/partyList must be array")
    if not 1 <= len(items) <= MAX_BATCH:
        raise ApiError("3100", f"/body/partyList must have 1 to {MAX_BATCH} items")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError("3101", f"/body/partyList/{index} must be object")
        for key in ("partyIdType", "partyIdentifier"):
            if key not in item:
                raise ApiError("3102", f"/body/partyList/{index} must have required property '{key}'")
        if item["partyIdType"] not in PARTY_ID_TYPES:
            raise ApiError("3100", f"/partyList/{index}/partyIdType must be equal to one of the allowed values")
    _check_currency(body)


def _check_currency(body: dict[str, Any]) -> None:
    if body.get("currency") is not None and not isinstance(body["currency"], str):
        raise ApiError("3101", "/body/currency must be string")


async def post_batch(hub: Hub, req: FspiopRequest) -> Response:
    check_party_list(req.body)
    _batch(hub, req)  # every party stored before the 200; the results are a callback
    return Response(status_code=200)


async def not_implemented(hub: Hub, req: FspiopRequest) -> Response:
    """``PUT /participants/{requestId}[/error]``: ALS answers 501 "Not implemented"."""
    return error_response("2002", status=501)


_PARTICIPANT = "/participants/{Type}/{ID}"

routes = [
    Route("/participants", fspiop(post_batch, required=("requestId", "partyList")), methods=["POST"]),
    # Literal "error" beats a party id, as in ALS's OpenAPI routing.
    Route("/participants/{ID}/error", fspiop(not_implemented), methods=["PUT"]),
    Route("/participants/{ID}", fspiop(not_implemented), methods=["PUT"]),
    Route(_PARTICIPANT, fspiop(post_participant, required=("fspId",)), methods=["POST"]),
    Route(_PARTICIPANT, fspiop(get_participant), methods=["GET"]),
    Route(_PARTICIPANT, fspiop(put_participant, required=("fspId",)), methods=["PUT"]),
    Route(_PARTICIPANT, fspiop(delete_participant), methods=["DELETE"]),
    Route(_PARTICIPANT + "/error", fspiop(put_participant_error, required=("errorInformation",)), methods=["PUT"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(post_participant, required=("fspId",)), methods=["POST"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(get_participant), methods=["GET"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(put_participant, required=("fspId",)), methods=["PUT"]),
    Route(_PARTICIPANT + "/{SubId}", fspiop(delete_participant), methods=["DELETE"]),
    Route(_PARTICIPANT + "/{SubId}/error", fspiop(put_participant_error, required=("errorInformation",)),
          methods=["PUT"]),
]
