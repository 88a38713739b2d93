"""Tables of central-ledger's bulk handlers: one row per bulk, one association row per individual transfer.

The individual transfers themselves are rows of the ``transfer`` table (``hub/transfers``), so positions, settlement
windows and ``GET /transfers/{ID}`` treat them like any transfer. ``bulk_item.state`` is central-ledger's
``bulkProcessingState``; ``bulk_transfer.state`` its internal ``bulkTransferState`` (``store.py`` maps both).
"""

BULK_SCHEMA = """
CREATE TABLE IF NOT EXISTS bulk_transfer (
    id TEXT PRIMARY KEY, bulk_quote_id TEXT NOT NULL, payer TEXT NOT NULL, payee TEXT NOT NULL,
    expiration TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, prepare_hash TEXT NOT NULL,
    prepare_headers TEXT NOT NULL, extensions TEXT, fulfil_hash TEXT, fulfil_headers TEXT, completed_timestamp TEXT,
    fulfil_extensions TEXT, created TEXT NOT NULL, changed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_item (
    bulk_id TEXT NOT NULL REFERENCES bulk_transfer(id), seq INTEGER NOT NULL, transfer_id TEXT NOT NULL,
    state TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL, ilp_packet TEXT NOT NULL,
    condition TEXT NOT NULL, extensions TEXT, fulfilment TEXT, fulfil_extensions TEXT, error_code TEXT,
    error_description TEXT, PRIMARY KEY (bulk_id, seq));
CREATE INDEX IF NOT EXISTS bulk_item_transfer ON bulk_item (transfer_id);
"""
