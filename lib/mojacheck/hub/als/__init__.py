"""The account-lookup service: ``/parties`` and ``/participants`` lookups through the built-in oracle, and the
ALS admin API (``/als-admin/oracles``).
"""
