"""central-ledger's admin API (mounted at ``/admin``): participants, accounts, limits, positions, callback
endpoints, funds in/out and settlement models.
"""
