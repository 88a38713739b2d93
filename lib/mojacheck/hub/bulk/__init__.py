"""bulk-api-adapter with central-ledger's bulk handlers (``/bulkTransfers``) and quoting-service's bulk relay
(``/bulkQuotes``). Each individual transfer of a bulk is an ordinary transfer row, prepared, reserved, committed,
aborted and expired by the same code as a single transfer (``hub/transfers``, ``hub/ledger.py``)."""
