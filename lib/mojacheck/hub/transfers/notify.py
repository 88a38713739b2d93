"""What ml-api-adapter's notification handler tells payer and payee once central-ledger decided (behaviour ref §5.3).

* commit of a ``COMMITTED`` fulfil: the payee's PUT relayed to the payer as it came; with
  ``SEND_TRANSFER_CONFIRMATION_TO_PAYEE`` a copy of it from the hub to the payee;
* commit of a ``RESERVED`` fulfil (FSPIOP 1.1 commit notification): the payer gets ``PUT`` from the hub with the
  ledger's view (``completedTimestamp``, ``COMMITTED``, ``fulfilment``), then the payee ``PATCH`` with the same minus
  the fulfilment, in that order (the PATCH is not sent when the PUT could not be delivered);
* a ``RESERVED`` fulfil that aborted the transfer: ``PATCH`` ``ABORTED`` with the error as ``cause`` extension;
* a validation abort: ``PUT …/error`` 3100 from the hub to the payer;
* the payee's ``PUT …/error``: relayed to the payer, and copied from the hub to the payee with the confirmation flag.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mojacheck.hub.headers import relayed, uri_of
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


def _url(hub: Hub, fsp: str, endpoint_type: str, transfer_id: str) -> str | None:
    url = hub.outbox.url(fsp, endpoint_type, ts.params(transfer_id))
    if url is None:
        log.warning("no %s endpoint for %s: notification of %s not delivered", endpoint_type, fsp, transfer_id)
    return url


def relay_fulfil(hub: Hub, req: FspiopRequest, row: sqlite3.Row) -> None:
    """``COMMITTED`` fulfil succeeded: the payee's PUT to the payer, unchanged (its signature kept)."""
    payer_url = _url(hub, row["payer"], ts.PUT_ENDPOINT, row["id"])
    if payer_url is None:
        return
    headers = relayed(req.headers, "PUT", uri=uri_of(payer_url, "transfers"))

    def confirm() -> None:
        payee_url = hub.outbox.url(row["payee"], ts.PUT_ENDPOINT, ts.params(row["id"]))
        if hub.config.transfer_confirmation_to_payee and payee_url and row["payer"] != row["payee"]:
            hub.outbox.hub_message("PUT", row["payee"], payee_url, "transfers", req.body, trigger=req.headers)

    hub.outbox.relay("PUT", payer_url, headers, req.raw, then=confirm)


def committed_reserved(hub: Hub, req: FspiopRequest, row: sqlite3.Row) -> None:
    """``RESERVED`` fulfil succeeded: PUT COMMITTED from the hub to the payer, then PATCH to the payee."""
    body = ts.state_body(row, ledger_view=True)
    patch = {k: v for k, v in body.items() if k != "fulfilment"}
    patch_to_payee(hub, row, patch, req.headers, after=body)


def patch_to_payee(hub: Hub, row: sqlite3.Row, patch: dict[str, Any], trigger: Mapping[str, str],
                   *, after: dict[str, Any] | None = None) -> None:
    """``PATCH /transfers/{ID}`` from the hub to the payee; with ``after``, first that PUT to the payer."""
    payee_url = _url(hub, row["payee"], ts.PUT_ENDPOINT, row["id"])

    def send_patch() -> None:
        if payee_url is not None:
            hub.outbox.hub_message("PATCH", row["payee"], payee_url, "transfers", patch, trigger=trigger)

    if after is None:
        send_patch()
        return
    payer_url = _url(hub, row["payer"], ts.PUT_ENDPOINT, row["id"])
    if payer_url is not None:
        hub.outbox.hub_message("PUT", row["payer"], payer_url, "transfers", after, trigger=trigger, then=send_patch)


def reserved_aborted(hub: Hub, row: sqlite3.Row, code: str, description: str, trigger: Mapping[str, str]) -> None:
    """A RESERVED fulfil that aborted the transfer: PATCH ABORTED with the cause. ml-api-adapter skips it when the
    hub speaks FSPIOP 1.0 (no PATCH in that version)."""
    if _version(hub.outbox.voice.version_for("transfers")) < (1, 1):
        log.info("RESERVED_ABORTED PATCH for %s skipped: the hub speaks transfers 1.0", row["id"])
        return
    current = ts.get(hub, row["id"]) or row
    patch = {"completedTimestamp": current["changed"], "transferState": "ABORTED",
             "extensionList": {"extension": [{"key": "cause", "value": f"{code}: {description}"}]}}
    patch_to_payee(hub, row, patch, trigger)


def validation_error_to_payer(hub: Hub, row: sqlite3.Row, description: str, trigger: Mapping[str, str]) -> None:
    """ABORT_VALIDATION: ``PUT …/error`` 3100 from the hub to the payer."""
    hub.outbox.error_to(row["payer"], "transfers", ts.params(row["id"]), "3100", description=description,
                        trigger=trigger)


def payee_error(hub: Hub, req: FspiopRequest, row: sqlite3.Row, code: str, description: str, known: bool) -> None:
    """The payee's ``PUT …/error`` aborted the transfer: relayed to the payer (the hub's own 3100 when the payee's
    code was not a specified one), and with the confirmation flag copied from the hub to the payee."""
    payer_url = _url(hub, row["payer"], ts.ERROR_ENDPOINT, row["id"])
    if payer_url is not None and known:
        hub.outbox.relay("PUT", payer_url, relayed(req.headers, "PUT", uri=uri_of(payer_url, "transfers")), req.raw)
    elif payer_url is not None:
        hub.outbox.error_to(row["payer"], "transfers", ts.params(row["id"]), code, description=description,
                            trigger=req.headers)
    payee_url = hub.outbox.url(row["payee"], ts.ERROR_ENDPOINT, ts.params(row["id"]))
    if hub.config.transfer_confirmation_to_payee and payee_url and row["payer"] != row["payee"]:
        body = req.body if known else {"errorInformation": {"errorCode": code, "errorDescription": description}}
        hub.outbox.hub_message("PUT", row["payee"], payee_url, "transfers", body, trigger=req.headers)


def _version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)
