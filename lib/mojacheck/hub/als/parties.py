"""Account lookup (ALS) at the root: party lookup and the relay of its answers (behaviour ref §5.1), plus the
built-in oracle every ALS route shares.

Oracle choice: the hub's built-in oracle (the ``party`` table) answers every lookup, whatever endpoint an
oracle was registered with; registering an oracle for a party id type (``POST /als-admin/oracles``) is still
required, as in ALS, so a missing provisioning step shows up: registering a party of a type without oracle
gets error 3003 "Oracle type: X not found"; looking one up gets 3204 with that detail.

``GET /parties`` as ALS answers it, per release: since ALS v17.16 (release 17 here) a request from an FSPIOP-Source
that is not a participant is refused at once (400/3101 "invalid fspiop-source header"); before, it was accepted and
then dropped (the error had nowhere to go). An unknown FSPIOP-Destination: ALS ≤ v15 answers 3200 "Destination
FSP not found"; the current ALS deletes the party's oracle entry and answers 3204 "No proxy found to start
inter-scheme discovery flow" (its discovery fallback, with no proxies configured).

Registrations and deletions (``POST``/``PUT``/``DELETE /participants…``, the batch; ``participants.py``) are
committed before their answer: the hub acknowledges only what it has stored. Lookups store nothing; they are
answered by callbacks in the background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.db import now_iso
from mojacheck.hub.headers import relayed
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import ApiError, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

SUB = "partySubIdOrType"
NO_PROXY = "No proxy found to start inter-scheme discovery flow"


def party_params(req: FspiopRequest) -> dict[str, str]:
    params = {"partyIdType": req.params["Type"], "partyIdentifier": req.params["ID"]}
    if req.params.get("SubId"):
        params[SUB] = req.params["SubId"]
    return params


def participant_known(hub: Hub, name: str) -> bool:
    """ALS's validateParticipant: central-ledger knows the FSP (active or not)."""
    return bool(name) and ledger.participant(hub.db, name) is not None


def active(hub: Hub, name: str) -> bool:
    row = ledger.participant(hub.db, name) if name else None
    return row is not None and bool(row["is_active"])


def check_source(hub: Hub, req: FspiopRequest, code: str, detail: str) -> None:
    """ALS v17.16: an FSPIOP-Source that is not a participant is refused synchronously."""
    if hub.release.als_source_check and not participant_known(hub, req.source):
        raise ApiError(code, detail)


def has_oracle(hub: Hub, id_type: str) -> bool:
    return hub.db.one("SELECT id FROM oracle WHERE id_type = ?", (id_type,)) is not None


def _key(params: dict[str, str]) -> tuple[str, str, str]:
    return params["partyIdType"], params["partyIdentifier"], params.get(SUB, "")


def register_party(hub: Hub, params: dict[str, str], fsp_id: str, currency: str | None, *,
                   replace: bool = False) -> tuple[str, str] | None:
    """Store one party → FSP mapping (``replace``: an update, whoever held it); (code, detail) when it cannot."""
    if not has_oracle(hub, params["partyIdType"]):
        return "3003", f"Oracle type: {params['partyIdType']} not found"
    with hub.db.tx():
        row = hub.db.one("SELECT fsp_id FROM party WHERE id_type = ? AND identifier = ? AND sub_id = ?",
                         _key(params))
        if row is not None and row["fsp_id"] != fsp_id and not replace:
            return "3003", f"Party is already registered to {row['fsp_id']}"
        hub.db.execute(
            "INSERT INTO party (id_type, identifier, sub_id, fsp_id, currency, created) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id_type, identifier, sub_id) DO UPDATE SET currency = excluded.currency, "
            "fsp_id = excluded.fsp_id",
            (*_key(params), fsp_id, currency, now_iso()),
        )
    return None


def delete_party(hub: Hub, params: dict[str, str]) -> bool:
    """The oracle's DELETE; False when it held no such party."""
    with hub.db.tx():
        cur = hub.db.execute("DELETE FROM party WHERE id_type = ? AND identifier = ? AND sub_id = ?", _key(params))
    return cur.rowcount > 0


def lookup_parties(hub: Hub, params: dict[str, str]) -> tuple[list[str], tuple[str, str | None] | None]:
    """FSPs owning the party; or the error (3204 no such party, 3200 no match for the SubId), worded as the
    release's ALS words it."""
    if not has_oracle(hub, params["partyIdType"]):
        return [], ("3204", f"Oracle type: {params['partyIdType']} not found")
    rows = hub.db.all("SELECT sub_id, fsp_id FROM party WHERE id_type = ? AND identifier = ?",
                      (params["partyIdType"], params["partyIdentifier"]))
    current = hub.release.als_interscheme
    if not rows:
        return [], ("3204", NO_PROXY if current else None)
    owners = [r["fsp_id"] for r in rows if r["sub_id"] == params.get(SUB, "")]
    if not owners:
        detail = "Empty oracle partyList, filtered based on callbackEndpointType" if current else \
            "Requester FSP not found"
        return [], ("3200", detail)
    return owners, None


def _parties_error(hub: Hub, req: FspiopRequest, params: dict[str, str], code: str, detail: str | None) -> None:
    hub.outbox.error_to(req.source, "parties", params, code, detail, trigger=req.headers)


def _forward_get_party(hub: Hub, req: FspiopRequest, params: dict[str, str], owner: str) -> None:
    endpoint_type = "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET" if SUB in params else "FSPIOP_CALLBACK_URL_PARTIES_GET"
    url = hub.outbox.url(owner, endpoint_type, params)
    if url is None:
        _parties_error(hub, req, params, "3201", f"No {endpoint_type} endpoint for {owner}")
        return

    def failed(_result: object) -> None:
        _parties_error(hub, req, params, "1001", f"Could not deliver to {owner}")

    hub.outbox.relay("GET", url, relayed(req.headers, "GET", destination=owner), None, on_failure=failed)


def _unknown_destination(hub: Hub, req: FspiopRequest, params: dict[str, str]) -> None:
    if hub.release.als_interscheme:
        delete_party(hub, params)  # ALS drops the oracle entry that pointed at an FSP it does not know
        _parties_error(hub, req, params, "3204", NO_PROXY)
    else:
        _parties_error(hub, req, params, "3200", "Destination FSP not found")


async def get_party(hub: Hub, req: FspiopRequest) -> Response:
    check_source(hub, req, "3101", "invalid fspiop-source header")
    params = party_params(req)

    async def work() -> None:
        if not participant_known(hub, req.source):
            log.warning("GET /parties from unknown FSP %r dropped", req.source)
            return
        if req.destination:
            if participant_known(hub, req.destination):
                _forward_get_party(hub, req, params, req.destination)
            else:
                _unknown_destination(hub, req, params)
            return
        owners, failure = lookup_parties(hub, params)
        if failure is not None:
            _parties_error(hub, req, params, *failure)
            return
        _forward_get_party(hub, req, params, owners[0])

    hub.outbox.spawn(work(), "GET /parties")
    return Response(status_code=202)


def _relay_party_put(hub: Hub, req: FspiopRequest, *, error: bool) -> None:
    """A payee's answer (or its error) goes to the requester in FSPIOP-Destination, body and headers as sent."""
    params = party_params(req)
    dest = req.destination
    if not participant_known(hub, dest):
        _parties_error(hub, req, params, "3201", "Destination FSP not found")
        return
    kind = "PARTIES_SUB_ID_PUT" if SUB in params else "PARTIES_PUT"
    endpoint_type = f"FSPIOP_CALLBACK_URL_{kind}{'_ERROR' if error else ''}"
    url = hub.outbox.url(dest, endpoint_type, params)
    if url is None:
        _parties_error(hub, req, params, "3201", f"No {endpoint_type} endpoint for {dest}")
        return
    hub.outbox.relay("PUT", url, relayed(req.headers, "PUT"), req.raw)


async def put_party(hub: Hub, req: FspiopRequest) -> Response:
    # Only lookups and a scheduled delivery: cheap enough to do before answering 200.
    _relay_party_put(hub, req, error=False)
    return Response(status_code=200)


async def put_party_error(hub: Hub, req: FspiopRequest) -> Response:
    _relay_party_put(hub, req, error=True)
    return Response(status_code=200)


_PARTY = "/parties/{Type}/{ID}"

routes = [
    Route(_PARTY, fspiop(get_party), methods=["GET"]),
    Route(_PARTY, fspiop(put_party, required=("party",)), methods=["PUT"]),
    Route(_PARTY + "/error", fspiop(put_party_error, required=("errorInformation",)), methods=["PUT"]),
    Route(_PARTY + "/{SubId}", fspiop(get_party), methods=["GET"]),
    Route(_PARTY + "/{SubId}", fspiop(put_party, required=("party",)), methods=["PUT"]),
    Route(_PARTY + "/{SubId}/error", fspiop(put_party_error, required=("errorInformation",)), methods=["PUT"]),
]
