"""central-settlement v2 (mounted at ``/settlement/v2``): windows, settlements through every state, and the
ledger entries each state change books.
"""
