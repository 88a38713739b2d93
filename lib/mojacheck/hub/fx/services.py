"""``GET /services/FXP[/{SourceCurrency}/{TargetCurrency}]``: which participants offer currency conversion.

An extension, not Mojaloop behaviour: FSPIOP 2.0 defines the request and its ``PUT`` callback, but no Mojaloop v17
service answers it (mojaloop/project#3783, #4091; fx.md §2). The embedded hub answers it as the specification
describes so a notebook can show discovery; docs/internals.md names the deviation. A provider is an active
participant, other than the Hub and the requester, that can receive a conversion's prepare (it registered
``FSPIOP_CALLBACK_URL_FX_TRANSFER_POST``) and holds active POSITION accounts in both currencies (in the
currency-less form: in at least two). The answer goes to the requester's ``FSPIOP_CALLBACK_URL_FX_QUOTES`` base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from mojacheck.hub import ledger
from mojacheck.hub.als.parties import active
from mojacheck.hub.db import HUB_NAME
from mojacheck.hub.fx import store as fs
from mojacheck.hub.fx import syntax
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

MAX_PROVIDERS = 16  # ServicesFXPPutResponse.providers maxItems


def providers(hub: Hub, requester: str, pair: tuple[str, str] | None) -> list[str]:
    rows = hub.db.all(
        "SELECT p.id, p.name FROM participant p JOIN endpoint e ON e.participant_id = p.id "
        "WHERE e.type = ? AND p.is_active = 1 AND p.name NOT IN (?, ?) ORDER BY p.name",
        (fs.POST_ENDPOINT, HUB_NAME, requester),
    )
    found = []
    for row in rows:
        currencies = {a["currency"] for a in hub.db.all(
            "SELECT currency FROM account WHERE participant_id = ? AND ledger_account_type = ? AND is_active = 1",
            (row["id"], ledger.POSITION))}
        if (set(pair) <= currencies) if pair else len(currencies) >= 2:
            found.append(str(row["name"]))
    return found[:MAX_PROVIDERS]


async def get_services_fxp(hub: Hub, req: FspiopRequest) -> Response:
    pair = None
    if "SourceCurrency" in req.params:
        syntax.currency(req.params["SourceCurrency"], "SourceCurrency", "params")
        syntax.currency(req.params["TargetCurrency"], "TargetCurrency", "params")
        pair = (req.params["SourceCurrency"], req.params["TargetCurrency"])

    async def work() -> None:
        if not active(hub, req.source):
            log.warning("GET /services/FXP from unknown FSP %r dropped", req.source)
            return
        base = hub.outbox.endpoint(req.source, fs.QUOTES_ENDPOINT)
        if base is None:
            log.warning("no %s endpoint for %s: GET /services/FXP not answered", fs.QUOTES_ENDPOINT, req.source)
            return
        path = "/services/FXP" + (f"/{pair[0]}/{pair[1]}" if pair else "")
        body = {"providers": providers(hub, req.source, pair)}
        hub.outbox.hub_message("PUT", req.source, base.rstrip("/") + path, "services", body, trigger=req.headers)

    hub.outbox.spawn(work(), "GET /services/FXP")
    return Response(status_code=202)
