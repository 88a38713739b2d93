"""What the bulk handlers send (bulk-api-adapter
src/handlers/notification/index.js).

Hub-made messages carry ``FSPIOP-Source`` = the hub, the deployment's content version for ``bulkTransfers``
(bulk-api-adapter passes its ``PROTOCOL_VERSIONS.CONTENT.DEFAULT``), the Date of the message that caused them,
``FSPIOP-HTTP-Method`` and ``FSPIOP-URI``, and the hub's signature where it signs (its JWS signer is the hub's).
The URI of a PUT is ``/<fsp>/bulkTransfers/<ID>[/error]``: central-services-shared's ``BULK_TRANSFERS_PUT``
template puts the FSP's name in front, and the official bulk collections assert exactly that. Before helm 14.1
(``release.bulk_legacy``) the payee's POST was the payer's request relayed and the payer's result carried the
payee's own headers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mojacheck.fspiop import accept_header, error_body
from mojacheck.hub.bulk import store
from mojacheck.hub.callbacks import render
from mojacheck.hub.headers import hub_made, relayed
from mojacheck.hub.web import log
from mojacheck.server import dumps

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

RESOURCE = "bulkTransfers"


def hub_headers(hub: Hub, destination: str, method: str, uri: str, trigger: Mapping[str, str] | None
                ) -> dict[str, str]:
    """Headers of a message the hub makes about a bulk (Date and trace copied from the message that caused it)."""
    voice = hub.outbox.voice
    headers = hub_made(voice, RESOURCE, destination, method=method, uri=uri, trigger=trigger)
    if method == "POST":
        # The POST asks for an answer: Accept of the deployment's major version (PROTOCOL_VERSIONS.ACCEPT.DEFAULT).
        headers = {"Content-Type": headers.pop("Content-Type"),
                   "Accept": accept_header(RESOURCE, voice.version_for(RESOURCE).split(".", 1)[0]), **headers}
    return headers


def _url(hub: Hub, fsp: str, endpoint: str, bulk_id: str) -> str | None:
    template = hub.outbox.endpoint(fsp, endpoint)
    if template is None:
        log.warning("no %s endpoint for %s: bulk %s message not delivered", endpoint, fsp, bulk_id)
        return None
    return render(template, {"id": bulk_id, "ID": bulk_id})


def put(hub: Hub, fsp: str, bulk_id: str, body: dict[str, Any], trigger: Mapping[str, str] | None) -> None:
    """``PUT /bulkTransfers/{ID}`` from the hub to ``fsp``."""
    url = _url(hub, fsp, store.PUT_ENDPOINT, bulk_id)
    if url is not None:
        headers = hub_headers(hub, fsp, "PUT", f"/{fsp}/{RESOURCE}/{bulk_id}", trigger)
        hub.outbox.send_made("PUT", url, headers, body)


def error(hub: Hub, fsp: str, bulk_id: str, info: Mapping[str, Any], trigger: Mapping[str, str] | None) -> None:
    """``PUT /bulkTransfers/{ID}/error`` from the hub to ``fsp`` with ``info`` as the errorInformation."""
    url = _url(hub, fsp, store.ERROR_ENDPOINT, bulk_id)
    if url is not None:
        headers = hub_headers(hub, fsp, "PUT", f"/{fsp}/{RESOURCE}/{bulk_id}/error", trigger)
        hub.outbox.send_made("PUT", url, headers, {"errorInformation": dict(info)})


def error_code(hub: Hub, fsp: str, bulk_id: str, code: str, detail: str | None,
               trigger: Mapping[str, str] | None) -> None:
    """A hub-made error: ``"<standard message> - <detail>"`` under ``code``."""
    error(hub, fsp, bulk_id, error_body(code, detail)["errorInformation"], trigger)


def prepare(hub: Hub, bulk: sqlite3.Row, payer_headers: Mapping[str, str]) -> None:
    """The payee's ``POST /bulkTransfers`` with the items that were reserved."""
    url = _url(hub, bulk["payee"], store.POST_ENDPOINT, bulk["id"])
    if url is None:
        return
    if hub.release.bulk_legacy:
        headers = relayed(payer_headers, "POST", destination=bulk["payee"])
        hub.outbox.send("POST", url, headers, dumps(store.prepare_body(hub, bulk)))
    else:
        headers = hub_headers(hub, bulk["payee"], "POST", f"/{RESOURCE}", payer_headers)
        hub.outbox.send_made("POST", url, headers, store.prepare_body(hub, bulk))


def final(hub: Hub, bulk_id: str, trigger: Mapping[str, str] | None, *, payee_answer: bool) -> None:
    """The end of a bulk: the results (COMPLETED) or the last abort's error (REJECTED) to payer and payee.

    ``payee_answer``: the payee's PUT finished it (before helm 14.1 the payer's result then kept the payee's
    headers); otherwise a timeout or an error did.
    """
    bulk = store.get(hub, bulk_id)
    assert bulk is not None
    if bulk["state"] == store.REJECTED:
        info = last_error(hub, bulk_id)
        for fsp in (bulk["payer"], bulk["payee"]):
            error(hub, fsp, bulk_id, info, trigger)
        return
    payer_body = store.state_body(hub, bulk, payee=False, state=bulk["state"])
    if hub.release.bulk_legacy and payee_answer and trigger is not None:
        url = _url(hub, bulk["payer"], store.PUT_ENDPOINT, bulk_id)
        if url is not None:
            hub.outbox.send("PUT", url, relayed(trigger, "PUT"), dumps(payer_body))
    else:
        put(hub, bulk["payer"], bulk_id, payer_body, trigger)
    put(hub, bulk["payee"], bulk_id, store.state_body(hub, bulk, payee=True, state=bulk["state"]), trigger)


def last_error(hub: Hub, bulk_id: str) -> dict[str, Any]:
    """The errorInformation a REJECTED bulk reports: that of the item aborted last (stored on the bulk row)."""
    bulk = store.get(hub, bulk_id)
    assert bulk is not None
    if bulk["reason"]:
        try:
            info = json.loads(bulk["reason"])
            if isinstance(info, dict):
                return info
        except ValueError:
            pass
    return error_body("2001", "bulk rejected without a recorded error")["errorInformation"]
