"""The load plan: what every Locust process of one load needs to know, written once as JSON by the orchestrator
(``runner/load.py``) and read by the master and each worker (``--mojacheck-plan FILE``).

A worker on another machine gets the same file; only its callback address (``--mojacheck-callback-host``) is its
own. Plain dataclasses and JSON: the runner imports this module, so it must never import gevent or locust.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "LoadPlan", "PayeeParty", "parse_mix"]

# What one iteration of a simulated user does (docs/internals.md, "Load"):
#   p2p            lookup → quote → transfer, expected to end COMMITTED
#   transfer       a transfer only, on the condition of a quote the user made once (hub throughput without ALS
#                  and quoting), expected COMMITTED
#   unknown_party  a lookup of a party nobody holds, expected an error callback (3204 in Mojaloop)
#   expired        a transfer whose expiration is already past, expected an error callback (3100) and no ledger
#                  effect
KINDS = ("p2p", "transfer", "unknown_party", "expired")


@dataclass(frozen=True)
class PayeeParty:
    """A party the load pays: held by ``fsp`` (a payee FSP) and registered in the hub's oracle."""

    fsp: str
    id_type: str
    identifier: str

    @property
    def key(self) -> str:
        return f"{self.id_type}/{self.identifier}"


@dataclass(frozen=True)
class LoadPlan:
    """One load: the hub's service URLs, the payer FSPs (one per worker process), the payee parties, the mix and
    the pacing. ``rate`` None means as fast as ``users`` concurrent payments go (closed loop, no pacing)."""

    services: dict[str, str]  # als, quoting, ml_api_adapter, central_ledger_admin (no trailing /)
    payers: list[str]  # worker with index i is payer FSP payers[i]
    payees: list[PayeeParty]
    currency: str
    amount: str
    mix: dict[str, float]
    users: int
    rate: float | None
    ramp_s: float
    duration_s: float
    callback_timeout_s: float = 10.0
    api_version: str = "1.1"
    callback_bind_host: str = "127.0.0.1"
    callback_host: str = "127.0.0.1"  # the address the hub reaches this worker at (its own machine's)
    callback_port_base: int = 0  # 0: any free port; else worker i listens on base + i
    token_env: str | None = None  # env var holding the hub's bearer token (never the token itself)
    verify_tls: bool = True
    out_dir: str = "."
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_user_rate(self) -> float | None:
        """Payments per second each user starts (Locust's constant_throughput), None when unpaced."""
        return None if not self.rate else self.rate / self.users

    def payer_for(self, worker_index: int) -> str:
        if not 0 <= worker_index < len(self.payers):
            raise ValueError(f"worker {worker_index} has no payer FSP: the plan provisions {len(self.payers)} "
                             "(one per worker process; give mojacheck load --expect-workers the real count)")
        return self.payers[worker_index]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadPlan:
        data = dict(data)
        data["payees"] = [PayeeParty(**p) for p in data["payees"]]
        return cls(**data)

    @classmethod
    def read(cls, path: Path | str) -> LoadPlan:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def parse_mix(text: str) -> dict[str, float]:
    """``"p2p=90,unknown_party=5,expired=5"`` (or one kind, ``"p2p"``) → weights; ValueError naming what is
    wrong."""
    mix: dict[str, float] = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        name, _, weight = item.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise ValueError(f"mix: unknown kind {name!r}; expected one of {', '.join(KINDS)}")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"mix: weight of {name} must be a number, got {weight!r}") from None
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"mix: weight of {name} must be a finite number ≥ 0, got {weight!r}")
        mix[name] = mix.get(name, 0.0) + value
    if not mix or sum(mix.values()) <= 0:
        raise ValueError(f"mix: no kind with a positive weight in {text!r}")
    return mix
