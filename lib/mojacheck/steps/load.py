"""Load tests from a notebook: provision the load's payer FSPs and payee parties, run ``mojacheck load`` as a
subprocess (Locust must never enter the kernel: it monkey-patches the interpreter with gevent), read what it
wrote, show it, and check the reconciliation.

``mojacheck load`` (``runner/load.py``) calls the provisioning steps here too, so the command and the notebook
establish the same FSPs and parties. The files a load writes are listed in docs/internals.md, "Load".
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mojacheck.evidence import loadstats
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.steps.p2p import Party, participant_of, register_party

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["LoadRun", "check_reconciliation", "load_parties", "payer_names", "positions", "provision_parties",
           "provision_payers", "run"]

PAYER_PREFIX = "mcload"
LOAD_FUNDS = Decimal("1000000000")  # a load's payers move many small amounts: neither NDC nor liquidity may stop it


def payer_names(count: int, prefix: str = PAYER_PREFIX) -> list[str]:
    """The payer FSPs of a load, one per worker process: ``mcload1`` … (stable, so a hub is provisioned once)."""
    return [f"{prefix}{i + 1}" for i in range(count)]


def provision_payers(s: Session, names: Iterable[str], currency: str, funds: Decimal = LOAD_FUNDS) -> None:
    """Each payer FSP with a position account in ``currency``, an NDC of ``funds``, that much deposited, active.
    Their callback endpoints are not set here: each worker points them at its own receiver when it starts."""
    for name in names:
        s.admin.ensure_participant(name, currency)
        s.admin.ensure_ndc(name, currency, funds)
        s.admin.ensure_funds(name, currency, funds)
        s.admin.ensure_active(name)


def load_parties(params: dict[str, Any], count: int) -> list[Party]:
    """``count`` payee parties spread over the params' payee FSPs (each user of a worker pays its own, so the
    answers to two lookups in flight at once never mix)."""
    payees = params["fsps"]["payees"]
    return [Party(payees[i % len(payees)], "MSISDN", f"2778{i + 1:08d}", name=f"Load Payee {i + 1}",
                  first_name="Load", last_name=f"Payee {i + 1}") for i in range(count)]


def provision_parties(s: Session, parties: Sequence[Party], currency: str) -> int:
    """The simulator holds each party and the oracle knows its FSP; returns how many had to be registered."""
    registered = 0
    for party in parties:
        s.sim.add_party(party.fsp, party.fspiop_party())
        if participant_of(s, party.fsp, party).error:
            owner = register_party(s, party, currency)
            if owner.error:
                raise MojacheckError(f"the oracle refused load party {party.key} of {party.fsp}: {owner.error_code}")
            registered += 1
    return registered


def positions(s: Session, names: Iterable[str], currency: str) -> dict[str, Decimal]:
    """Each FSP's position in ``currency`` (central-ledger admin)."""
    return {name: s.admin.position(name, currency) for name in names}


# ------------------------------------------------------------------------------------------- from a notebook


@dataclass
class LoadRun:
    """What one ``mojacheck load`` wrote to ``out_dir``: ``summary`` (load.json), the payment records, the exit
    code and the command's last lines."""

    out_dir: Path
    exit_code: int
    summary: dict[str, Any] = field(default_factory=dict)
    payments: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""

    @classmethod
    def read(cls, out_dir: Path | str, exit_code: int = 0, output: str = "") -> LoadRun:
        """Read a load's folder (also one a nightly job left behind)."""
        folder = Path(out_dir)
        summary_file, payments_file = folder / "load.json", folder / "payments.jsonl"
        summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() else {}
        payments = loadstats.read_payments(payments_file) if payments_file.is_file() else []
        return cls(folder, exit_code, summary, payments, output)

    @property
    def reconciliation(self) -> dict[str, Any]:
        return dict(self.summary.get("reconciliation") or {})

    def _repr_markdown_(self) -> str:
        return self.summary.get("headline") or f"load in {self.out_dir}: exit {self.exit_code}\n\n{self.output}"

    def series(self) -> Any:
        """A DataFrame per second of the load: payments finished, committed, ended as expected or not, e2e p50/p95."""
        import pandas as pd

        origin = self.summary.get("started_epoch")
        return pd.DataFrame(loadstats.series(self.payments, origin=origin)).set_index("t")

    def percentiles(self) -> Any:
        """Latency per phase over the steady window (after the ramp): count, p50, p95, p99, max in milliseconds."""
        import pandas as pd

        table = pd.DataFrame(self.summary.get("latency") or {}).T
        if "count" in table:
            table["count"] = table["count"].astype(int)
        table.index.name = "phase (ms)"
        return table

    def errors(self) -> Any:
        """Payments that did not commit, by kind, phase, outcome and error code."""
        import pandas as pd

        columns = ["kind", "phase", "outcome", "errorCode", "expected", "count"]
        return pd.DataFrame(self.summary.get("errors") or [], columns=columns)

    def plot(self) -> Any:
        """Throughput over time (payments/s by completion) and the e2e p50/p95 per second, one figure."""
        import matplotlib.pyplot as plt

        frame = self.series()
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
        top.plot(frame.index, frame["committed"], label="committed / s")
        provoked = frame["expected"] - frame["committed"]
        if provoked.any():  # the error kinds of the mix, ending as they should
            top.plot(frame.index, provoked, label="provoked errors / s", linestyle="--")
        top.plot(frame.index, frame["unexpected"], label="ended otherwise / s", color="tab:red")
        top.set_ylabel("payments per second")
        top.legend(loc="lower right")
        top.grid(alpha=0.3)
        bottom.plot(frame.index, frame["e2e_p50"], label="e2e p50")
        bottom.plot(frame.index, frame["e2e_p95"], label="e2e p95")
        bottom.set_ylabel("ms")
        bottom.set_xlabel("seconds since the load started")
        bottom.legend(loc="upper right")
        bottom.grid(alpha=0.3)
        fig.tight_layout()
        return fig


def run(params: dict[str, Any], *, out_dir: Path | str | None = None, rate: float | None = 100,
        users: int = 64, duration_s: float = 30, ramp_s: float = 5, mix: str = "p2p", processes: int | None = None,
        amount: str = "1", null_hub: bool = False, echo: bool = True) -> LoadRun:
    """Run ``mojacheck load`` against the hub of ``params`` as a subprocess and read its folder. ``rate`` None
    runs ``users`` payments at once without pacing; ``mix`` is ``p2p=90,unknown_party=5,expired=5`` style."""
    folder = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="mojacheck-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    params_file = folder / "params.json"
    params_file.write_text(json.dumps(params, indent=1), encoding="utf-8")
    argv = [sys.executable, "-m", "mojacheck", "load", "--params-file", str(params_file), "--out", str(folder),
            "--users", str(users), "--duration", str(duration_s), "--ramp", str(ramp_s), "--mix", mix,
            "--amount", amount, "--rate", "0" if rate is None else str(rate)]
    if processes:
        argv += ["--processes", str(processes)]
    if null_hub:
        argv.append("--null-hub")
    lines = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if echo:
                print(line, end="", flush=True)
        code = proc.wait()
    return LoadRun.read(folder, code, "\n".join(lines[-20:]))


def check_reconciliation(s: Session, load: LoadRun, currencies: Sequence[str]) -> None:
    """The load's checks, in the open scenario: it ran, every payment ended as its kind expects, nothing is lost,
    every transfer the generator saw COMMITTED is COMMITTED in the hub, the payers' positions moved by exactly the
    committed amounts, and each currency's ledger sums to zero."""
    from mojacheck.steps.settlement import check_ledger_balanced

    rec = load.reconciliation
    s.check("the load ran (payments recorded)", "more than 0", "more than 0" if load.payments else "0")
    s.check("payments that did not end as their kind expects", 0, sum(not p.get("expected") for p in load.payments))
    s.check("transfers the hub does not know (lost)", 0, len(rec.get("lost", [])))
    s.check("transfers the generator saw COMMITTED that the hub does not say COMMITTED", 0,
            len(rec.get("not_committed", [])))
    s.check("transfers the hub COMMITTED that the generator did not see COMMITTED", 0,
            len(rec.get("committed_unseen", [])))
    s.check("payers' position change equals the amounts the hub committed",
            rec.get("committed_amount"), rec.get("position_change"))
    check_ledger_balanced(s, currencies, "the load")
