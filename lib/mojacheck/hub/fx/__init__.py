"""Currency conversion (FSPIOP 2.0, Mojaloop from helm v17): the ``/fxQuotes`` relay (quoting-service), the
``/fxTransfers`` lifecycle and the FXP's positions (ml-api-adapter + central-ledger), the transfer that depends on a
conversion, and ``GET /services/FXP`` (an extension: no Mojaloop v17 service answers it, see docs/internals.md).

An FXP is an ordinary participant with POSITION accounts in both currencies of a conversion, as in central-ledger;
there is no FXP flag. Mounted only at releases that have FX (``Release.fx``).
"""
