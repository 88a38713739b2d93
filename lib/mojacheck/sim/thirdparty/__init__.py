"""The simulator's 3PPI side: DFSPs that link accounts and run PISP-initiated transactions (``dfsp.py``), PISPs
that hold real credentials (``pisp.py``), the role player that sends and waits (``service.py``), what they remember
(``state.py``) and the control API (``control.py``).
"""
