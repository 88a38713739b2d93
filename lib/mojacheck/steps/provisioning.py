"""What a scenario notebook needs before its first scenario, established the way ``10_provisioning`` does it:
hub accounts, the settlement models, the MSISDN oracle, the FSPs (accounts, active, NDC, funds, callback endpoints
at the simulator) and the standard test parties (held by the simulator, registered in the oracle).

Every step reads first and writes only what is missing, so on a provisioned hub it writes nothing. It makes no
checks (``10_provisioning`` is where provisioning is checked), so a notebook's check count is the same whether it
runs alone or in the suite. When something cannot be established the notebook stops with one sentence
(``NotReady``) instead of a cascade of failed checks.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from mojacheck.evidence.prose import counted
from mojacheck.fspiop import new_id
from mojacheck.fspiop.errors import CallbackTimeout, MojacheckError, NotReady
from mojacheck.steps.bank import scheme_models
from mojacheck.steps.p2p import expect_accepted, participant_of, register_party
from mojacheck.steps.parties import standard_parties

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["HUB_ACCOUNTS", "Readiness", "ensure_ready", "prove_callback_path"]

HUB_ACCOUNTS = ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT")


@dataclass
class Readiness:
    """What ``ensure_ready`` had to establish, counted by kind (empty: everything was in place), and how long it
    took."""

    established: Counter[str] = field(default_factory=Counter)
    duration_s: float = 0.0

    def add(self, kind: str, n: int = 1) -> None:
        """Count ``n`` things of ``kind`` (a singular noun) established."""
        self.established[kind] += n

    def __str__(self) -> str:
        if not self.established:
            return f"Ready: the hub and simulator were already provisioned (checked in {self.duration_s:.1f} s)."
        made = ", ".join(counted(n, kind) for kind, n in self.established.items())
        return (f"Ready: established what was missing in {self.duration_s:.1f} s ({made}); "
                "10_provisioning does the same with its checks.")

    def _repr_markdown_(self) -> str:
        return str(self)


def ensure_ready(s: Session, *, parties: bool = True) -> Readiness:
    """Establish what the P2P, error and settlement notebooks need; NotReady (one sentence) when it cannot."""
    started = time.monotonic()
    ready = Readiness()
    try:
        _hub(s, ready)
        for fsp in [s.params["fsps"]["payer"], *s.params["fsps"]["payees"]]:
            _fsp(s, fsp, ready)
        if parties:
            _parties(s, ready)
    except MojacheckError as exc:
        raise NotReady(f"this notebook needs a provisioned hub and a reachable simulator, and could not establish "
                       f"them: {exc} (run 10_provisioning first and check the params' service URLs)") from exc
    ready.duration_s = time.monotonic() - started
    return ready


def _hub(s: Session, ready: Readiness) -> None:
    prov = s.params["provisioning"]
    for currency in s.params["currencies"]:
        for kind in HUB_ACCOUNTS:
            if s.admin.ensure_hub_account(kind, currency) != "existed":
                ready.add("hub account")
    for name, currency in scheme_models(s.params):
        if s.admin.ensure_settlement_model(name, currency=currency) != "existed":
            ready.add("settlement model")
    if s.admin.ensure_oracle("MSISDN", prov["oracle_endpoint"]) != "existed":
        ready.add("oracle")


def _fsp(s: Session, fsp: str, ready: Readiness) -> None:
    prov = s.params["provisioning"]
    for currency in s.params["currencies"]:
        if s.admin.ensure_participant(fsp, currency) != "existed":
            ready.add("FSP currency account")
        if s.admin.ensure_ndc(fsp, currency, Decimal(prov["ndc"])) != "existed":
            ready.add("net debit cap")
        if s.admin.ensure_funds(fsp, currency, Decimal(prov["funds_in"])):
            ready.add("funds deposit")
    s.admin.ensure_active(fsp)
    written = s.admin.ensure_endpoints(fsp, f"{s.params['sim']['public_url'].rstrip('/')}/{fsp}")
    if written:
        ready.add("callback endpoint", written)


def _parties(s: Session, ready: Readiness) -> None:
    currency = s.params["currencies"][0]
    for party in standard_parties(s.params).values():
        s.sim.add_party(party.fsp, party.fspiop_party())  # the simulator forgets its parties when it restarts
        if participant_of(s, party.fsp, party).error:
            owner = register_party(s, party, currency)
            if owner.error:
                raise MojacheckError(f"the oracle refused party {party.key} of {party.fsp}: {owner.error_code}")
            ready.add("party registration")


def prove_callback_path(s: Session, *, timeout: float | None = None) -> float:
    """Prove, before any scenario, that the hub can deliver a callback to the simulator at ``sim.public_url``:
    make sure the payer FSP exists with its callback endpoints there (as 10_provisioning does, with the hub
    accounts, settlement model and oracle central-ledger and ALS need first), look up a party
    nobody holds, and wait for the hub's answer (``PUT /parties`` or its error) at the simulator. Returns the
    seconds the answer took; NotReady naming ``sim.public_url`` when none comes by the deadline."""
    payer, currency = s.params["fsps"]["payer"], s.params["currencies"][0]
    public = s.params["sim"]["public_url"].rstrip("/")
    wait = timeout or s.timeout
    started = time.monotonic()
    try:
        _hub(s, Readiness())  # hub accounts, settlement model, oracle: what central-ledger needs for a participant
        s.admin.ensure_participant(payer, currency)
        s.admin.ensure_active(payer)
        s.admin.ensure_endpoints(payer, f"{public}/{payer}")
        key = f"MSISDN/{int(new_id().replace('-', '')[:12], 16) % 10**12:012d}"  # a number nobody holds
        mark = s.sim.mark()
        expect_accepted(s.fspiop("GET", "als", f"/parties/{key}", source=payer), f"GET /parties/{key}")
        s.await_callback(payer, "parties", key, after=mark, method="PUT", timeout=wait)
    except CallbackTimeout:
        raise NotReady(f"the hub did not deliver a callback to the simulator at sim.public_url = {public} within "
                       f"{wait:g} s: make sure the hub can reach that address (it is what the FSPs' callback "
                       "endpoints are registered with)") from None
    except MojacheckError as exc:
        raise NotReady(f"the callback path could not be tried: {exc}") from exc
    return time.monotonic() - started
