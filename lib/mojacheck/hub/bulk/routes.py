"""The bulk routes: ``/bulkTransfers`` (bulk-api-adapter) and ``/bulkQuotes`` (quoting-service)."""

from __future__ import annotations

from starlette.routing import Route

from mojacheck.hub.bulk import quotes
from mojacheck.hub.bulk.fulfil import get_bulk_transfer, put_bulk_transfer, put_bulk_transfer_error
from mojacheck.hub.bulk.prepare import post_bulk_transfer
from mojacheck.hub.validation import fspiop

routes = [
    Route("/bulkTransfers", fspiop(post_bulk_transfer), methods=["POST"]),
    Route("/bulkTransfers/{ID}", fspiop(get_bulk_transfer), methods=["GET"]),
    Route("/bulkTransfers/{ID}", fspiop(put_bulk_transfer), methods=["PUT"]),
    Route("/bulkTransfers/{ID}/error", fspiop(put_bulk_transfer_error), methods=["PUT"]),
    *quotes.routes,
]
