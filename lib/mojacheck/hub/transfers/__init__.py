"""ml-api-adapter and central-ledger for ``/transfers``: prepare (position reserved), fulfil (commit, reject,
RESERVED → PATCH), the transfer store and the expiry sweep.
"""
