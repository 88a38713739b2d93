"""What `mojacheck load` establishes before the load and proves after it: the payer FSPs and payee parties, then
the reconciliation (every sent transfer read back from the hub, positions, the ledger) and ``load.json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mojacheck.evidence import loadstats
from mojacheck.fspiop.errors import RunError
from mojacheck.load.plan import LoadPlan, PayeeParty
from mojacheck.load.reconcile import ReadBack, read_back

if TYPE_CHECKING:
    from mojacheck.params import Params

__all__ = ["Reconciler", "finish"]

EXIT_PASSED, EXIT_FAILED = 0, 1


class Reconciler:
    """The operator's view of the hub for one load: provisioning before, reconciliation after."""

    def __init__(self, params: Params, currency: str, *, bind_host: str, callback_host: str) -> None:
        from mojacheck.clients.session import connect

        self.params, self.currency = params, currency
        self.bind_host, self.callback_host = bind_host, callback_host
        self.session = connect(params.public_dict())
        self.payers: list[str] = []
        self.before: dict[str, Decimal] = {}

    def provision(self, workers: int, users: int) -> tuple[list[str], list[PayeeParty]]:
        """Hub accounts and the params' FSPs (as ensure_ready), a payer FSP per worker, a payee party per user."""
        from mojacheck.steps import load as steps
        from mojacheck.steps.provisioning import ensure_ready

        ensure_ready(self.session, parties=False)
        self.payers = steps.payer_names(workers)
        steps.provision_payers(self.session, self.payers, self.currency)
        parties = steps.load_parties(self.session.params, users)
        steps.provision_parties(self.session, parties, self.currency)
        self.before = steps.positions(self.session, self.payers, self.currency)
        return self.payers, [PayeeParty(p.fsp, p.id_type, p.identifier) for p in parties]

    def reconcile(self, plan: LoadPlan, payments: list[dict[str, Any]], out: TextIO) -> dict[str, Any]:
        """Read back every transfer the hub accepted; compare with what the generator saw, the payers' positions
        with the amounts the hub holds committed (or still reserved), and sum each currency's ledger."""
        from mojacheck.steps import load as steps
        from mojacheck.steps.settlement import ledger_snapshot, ledger_total

        sent = {p["transferId"]: p for p in payments if p.get("sent") and p.get("transferId")}
        print(f"mojacheck: load: reading {len(sent)} transfers back from the hub", file=out, flush=True)
        cfg = ReadBack(services=plan.services, token_env=plan.token_env, bind_host=self.bind_host,
                       callback_host=self.callback_host, api_version=plan.api_version,
                       timeout_s=plan.callback_timeout_s)
        hub = read_back(cfg, [(p["payer"], tid) for tid, p in sent.items()])
        after = steps.positions(self.session, self.payers, self.currency)
        currencies = list(dict.fromkeys([self.currency, *self.params.currencies]))
        snapshot = ledger_snapshot(self.session, currencies)
        self.session.close()
        return _compare(sent, hub, self.before, after, {c: ledger_total(snapshot, c) for c in currencies})


def _compare(sent: dict[str, dict[str, Any]], hub: dict[str, str], before: dict[str, Decimal],
             after: dict[str, Decimal], ledger: dict[str, Decimal]) -> dict[str, Any]:
    lost, not_committed, unseen = [], [], []
    held = Decimal(0)
    states: dict[str, int] = {}
    for tid, payment in sent.items():
        said = hub.get(tid, "no answer")
        states[said] = states.get(said, 0) + 1
        if said.startswith("error 3208") or said == "no answer":
            lost.append({"transferId": tid, "hub": said})
        if payment["outcome"] == "COMMITTED" and said != "COMMITTED":
            not_committed.append({"transferId": tid, "hub": said})
        if said == "COMMITTED" and payment["outcome"] != "COMMITTED":
            unseen.append({"transferId": tid, "generator": payment["outcome"]})
        if said in ("COMMITTED", "RESERVED"):
            held += Decimal(str(payment["amount"]))
    change = sum((after[n] - before.get(n, Decimal(0)) for n in after), Decimal(0))
    ok = not lost and not not_committed and not unseen and change == held and all(v == 0 for v in ledger.values())
    return {
        "ok": ok, "transfers": len(sent), "hub_states": states, "lost": lost, "not_committed": not_committed,
        "committed_unseen": unseen, "committed_amount": str(held), "position_change": str(change),
        "ledger": {c: str(v) for c, v in ledger.items()},
        "positions": {n: {"before": str(before.get(n, 0)), "after": str(v)} for n, v in after.items()},
    }


def finish(plan: LoadPlan, options: dict[str, Any], out_dir: Path, started: datetime, machine: dict[str, Any],
           reconciler: Reconciler | None, out: TextIO) -> dict[str, Any]:
    """Figures and reconciliation into ``load.json``, the verdict on the console; returns the summary."""
    payments = loadstats.read_payments(out_dir / "payments.jsonl")
    if not payments:
        raise RunError(f"Locust recorded no payment; see {out_dir / 'locust.log'}")
    figures = loadstats.summarize(payments, ramp_s=plan.ramp_s, duration_s=plan.duration_s)
    if reconciler is None:
        rec: dict[str, Any] = {"ok": None, "skipped": "the null hub keeps no ledger"}
    elif not options.get("reconcile", True):
        rec = {"ok": None, "skipped": "--no-reconcile"}
    else:
        rec = reconciler.reconcile(plan, payments, out)
    code = EXIT_PASSED if figures["unexpected"] == 0 and rec.get("ok") is not False else EXIT_FAILED
    plan_json = {**plan.to_json(), "payees": len(plan.payees)}
    summary = {"started": started.isoformat(), "finished": datetime.now(UTC).isoformat(),
               "started_epoch": min(float(p["start"]) for p in payments), "options": options,
               "plan": plan_json, "machine": machine, **figures, "reconciliation": rec, "exit_code": code}
    summary["headline"] = headline(summary)
    (out_dir / "load.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in report_lines(summary):
        print(f"mojacheck: load: {line}", file=out)
    return summary


def headline(summary: dict[str, Any]) -> str:
    """One sentence: the verdict, throughput, e2e p95 and the reconciliation."""
    t, rec = summary["throughput"], summary["reconciliation"]
    e2e = (summary.get("latency") or {}).get("e2e", {})
    verdict = "PASSED" if summary["exit_code"] == EXIT_PASSED else "FAILED"
    if rec.get("ok") is None:
        reconciled = f"not reconciled ({rec.get('skipped')})"
    else:
        reconciled = (f"{rec['transfers']} transfers read back, {len(rec['lost'])} lost, "
                      f"ledger {'balanced' if all(v == '0' for v in rec['ledger'].values()) else 'UNBALANCED'}")
    return (f"{verdict}: {summary['payments']} payments, {summary['unexpected']} not as expected; "
            f"{t['committed_per_s']:.1f} committed/s over the steady {t['window_s']:.0f} s; "
            f"e2e p50 {e2e.get('p50', float('nan')):.1f} ms, p95 {e2e.get('p95', float('nan')):.1f} ms; {reconciled}")


def report_lines(summary: dict[str, Any]) -> list[str]:
    lines = [summary["headline"]]
    for phase, f in (summary.get("latency") or {}).items():
        lines.append(f"  {phase:<9} n={f['count']:<7} p50 {f['p50']:8.1f}  p95 {f['p95']:8.1f}  p99 {f['p99']:8.1f}"
                     f"  max {f['max']:8.1f} ms")
    for row in summary.get("errors", [])[:8]:
        mark = "expected" if row["expected"] else "UNEXPECTED"
        lines.append(f"  {row['count']:>6} × {row['kind']} ended {row['outcome']} {row['errorCode'] or ''} at "
                     f"{row['phase']} ({mark})")
    machine = summary["machine"]
    lines.append(f"  machine: {machine['cpus']} cores, load average {machine['load_avg_before'][0]:.2f} before, "
                 f"{machine['load_avg_after'][0]:.2f} after")
    return lines
