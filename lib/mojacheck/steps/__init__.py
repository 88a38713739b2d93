"""The named steps notebooks call, one module per domain: ``p2p`` and ``golden`` (lookup, quote, transfer and
their checks), ``parties``, ``environment``, ``errors`` (error scenarios), ``settlement``, ``thirdparty`` (3PPI),
``fx`` and ``fx_flows`` (currency conversion through an FXP, release 17 on).
Each step sends through the ``Session`` so every request and callback is evidence.
"""
