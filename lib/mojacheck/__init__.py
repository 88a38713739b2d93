"""mojacheck: regression and upgrade testing for Mojaloop hubs, as parameterized notebooks.

What notebooks may import. Everything else is internal and may change.
"""

from __future__ import annotations

from mojacheck.clients.admin import EMAIL_ENDPOINTS, FSPIOP_ENDPOINTS, Admin
from mojacheck.clients.admin import endpoint_values as admin_endpoint_values
from mojacheck.clients.session import Session, connect
from mojacheck.clients.sim import Callback
from mojacheck.clients.wait import wait_until
from mojacheck.evidence.checks import Check, Scenario
from mojacheck.evidence.render import glue
from mojacheck.fspiop import new_id
from mojacheck.fspiop.errors import (
    CallbackTimeout,
    HubUnreachable,
    MojacheckError,
    NotReady,
    ParamsError,
    ScenarioStopped,
    ServiceError,
    UnexpectedResponse,
    WaitTimeout,
)
from mojacheck.steps.environment import check_all as check_services
from mojacheck.steps.environment import show_params, show_spec_validation
from mojacheck.steps.golden import Payment, check_lookup, check_positions, check_quote, check_transfer, pay
from mojacheck.steps.p2p import (
    Party,
    Quote,
    Transfer,
    get_transfer,
    lookup,
    owner_of,
    participant_of,
    quote,
    quote_body,
    register_party,
    send_transfer,
    transfer,
)
from mojacheck.steps.parties import standard_parties
from mojacheck.steps.provisioning import Readiness, ensure_ready

__all__ = [
    "EMAIL_ENDPOINTS",
    "FSPIOP_ENDPOINTS",
    "Admin",
    "Callback",
    "CallbackTimeout",
    "Check",
    "HubUnreachable",
    "MojacheckError",
    "NotReady",
    "ParamsError",
    "Party",
    "Payment",
    "Quote",
    "Readiness",
    "Scenario",
    "ScenarioStopped",
    "ServiceError",
    "Session",
    "Tally",
    "Transfer",
    "UnexpectedResponse",
    "WaitTimeout",
    "admin_endpoint_values",
    "als_steps",
    "bulk",
    "check_ledger_balanced",
    "check_lookup",
    "check_positions",
    "check_quote",
    "check_services",
    "check_transfer",
    "connect",
    "ensure_ready",
    "errors_steps",
    "fx",
    "fx_flows",
    "get_transfer",
    "glue",
    "load",
    "lookup",
    "new_id",
    "operator_steps",
    "owner_of",
    "participant_of",
    "pay",
    "payee_side",
    "quote",
    "quote_body",
    "register_party",
    "reports",
    "request_to_pay",
    "send_transfer",
    "settle_pending",
    "settlement",
    "show_params",
    "show_spec_validation",
    "standard_parties",
    "thirdparty",
    "transfer",
    "upgrade_guide",
    "wait_until",
]


# Loaded on first use, so a kernel imports only what its notebook needs: the report namespaces bring pandas and
# matplotlib, 3PPI brings cryptography, the settlement, error, FX, request-to-pay and bulk steps serve a few notebooks
# each.
_LAZY_MODULES = {
    "reports": ".reports",
    "upgrade_guide": ".reports.upgrade_guide",  # the guide's reading of rehearsal artefacts (80_upgrade_rehearsal)
    "thirdparty": ".steps.thirdparty",
    "settlement": ".steps.settlement",
    "errors_steps": ".steps.errors",
    "fx": ".steps.fx",  # FX steps (25_fx, 40_settlement)
    "fx_flows": ".steps.fx_flows",
    "payee_side": ".steps.payee",
    "als_steps": ".steps.als",
    "operator_steps": ".steps.operator",
    "request_to_pay": ".steps.request_to_pay",
    "bulk": ".steps.bulk",
    "load": ".steps.load",  # load tests (50_load): runs `mojacheck load` as a subprocess, reads and shows its results
}
_LAZY_NAMES = {"Tally": ".steps.settlement", "check_ledger_balanced": ".steps.settlement",
               "settle_pending": ".steps.settlement"}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name], __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
