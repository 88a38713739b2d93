"""Clients of the system under test, as notebooks use them: the ``Session`` (one environment: FSPIOP requests,
awaited callbacks, scenarios and checks), the operator ``Admin`` (central-ledger, ALS admin, settlement), the
simulator's control API, and the hub-state ``snapshot``. They reach the hub and simulator over HTTP only.
"""
