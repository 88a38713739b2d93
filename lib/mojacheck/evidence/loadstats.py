"""Figures of a load from its payment records (``payments.jsonl``, docs/internals.md "Load"): throughput over
time, latency percentiles per phase, outcomes and errors by code.

Pure Python on plain dicts, so the runner prints them without pandas and the notebook tabulates the same numbers.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PHASES", "errors_by_code", "latency", "percentile", "read_payments", "series", "summarize"]

# (record field, the name a report shows): the three FSPIOP phases and the whole payment.
PHASES = (("lookupMs", "lookup"), ("quoteMs", "quote"), ("transferMs", "transfer"), ("e2eMs", "e2e"))
QUANTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))


def read_payments(path: Path) -> list[dict[str, Any]]:
    """Every record of a ``payments.jsonl`` (a half-written last line, from a crash, is skipped)."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values`` with linear interpolation (numpy's default); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _end(p: dict[str, Any]) -> float:
    return float(p["start"]) + (p.get("e2eMs") or 0.0) / 1000.0


def latency(payments: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per phase, over the payments that went through it: count, p50, p95, p99, max (milliseconds)."""
    rows = list(payments)
    out: dict[str, dict[str, float]] = {}
    for field, name in PHASES:
        values = [float(p[field]) for p in rows if p.get(field) is not None]
        if not values:
            continue
        figures: dict[str, float] = {"count": len(values)}
        figures.update({label: round(percentile(values, q), 2) for label, q in QUANTILES})
        figures["max"] = round(max(values), 2)
        out[name] = figures
    return out


def errors_by_code(payments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Payments that did not commit, grouped by (kind, phase, outcome, error code, expected), most frequent first."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for p in payments:
        if p.get("outcome") != "COMMITTED":
            counts[(p["kind"], p.get("phase"), p.get("outcome"), p.get("errorCode"), bool(p.get("expected")))] += 1
    return [{"kind": k, "phase": ph, "outcome": o, "errorCode": c, "expected": e, "count": n}
            for (k, ph, o, c, e), n in counts.most_common()]


def series(payments: Iterable[dict[str, Any]], *, origin: float | None = None, bucket_s: float = 1.0
           ) -> list[dict[str, Any]]:
    """Per ``bucket_s`` by completion time from ``origin`` (default: the first start): payments finished,
    committed, ended as expected, ended otherwise, and the e2e p50/p95 of those finished in the bucket."""
    rows = list(payments)
    if not rows:
        return []
    zero = min(float(p["start"]) for p in rows) if origin is None else origin
    buckets: dict[int, list[dict[str, Any]]] = {}
    for p in rows:
        buckets.setdefault(int((_end(p) - zero) // bucket_s), []).append(p)
    out = []
    for i in range(min(buckets), max(buckets) + 1):
        group = buckets.get(i, [])
        e2e = [float(p["e2eMs"]) for p in group if p.get("e2eMs") is not None]
        out.append({
            "t": round(i * bucket_s, 3), "finished": len(group) / bucket_s,
            "committed": sum(p.get("outcome") == "COMMITTED" for p in group) / bucket_s,
            "expected": sum(bool(p.get("expected")) for p in group) / bucket_s,
            "unexpected": sum(not p.get("expected") for p in group) / bucket_s,
            "e2e_p50": round(percentile(e2e, 50), 2) if e2e else None,
            "e2e_p95": round(percentile(e2e, 95), 2) if e2e else None,
        })
    return out


def summarize(payments: Sequence[dict[str, Any]], *, ramp_s: float = 0.0, duration_s: float | None = None
              ) -> dict[str, Any]:
    """The load's figures: counts by outcome, throughput (over the whole load and over the steady window that
    starts after the ramp and ends at the duration), latency per phase over the steady window, errors by code."""
    if not payments:
        return {"payments": 0, "outcomes": {}, "expected": 0, "unexpected": 0, "throughput": {},
                "latency": {}, "latency_all": {}, "errors": []}
    first = min(float(p["start"]) for p in payments)
    last = max(_end(p) for p in payments)
    end = first + duration_s if duration_s else last
    steady = [p for p in payments if first + ramp_s <= _end(p) <= end]
    window = max(end - first - ramp_s, 1e-9)
    committed_steady = sum(p.get("outcome") == "COMMITTED" for p in steady)
    return {
        "payments": len(payments),
        "outcomes": dict(Counter(str(p.get("outcome")) for p in payments)),
        "kinds": dict(Counter(str(p.get("kind")) for p in payments)),
        "expected": sum(bool(p.get("expected")) for p in payments),
        "unexpected": sum(not p.get("expected") for p in payments),
        "throughput": {
            "window_s": round(window, 2),
            "committed_per_s": round(committed_steady / window, 2),
            "finished_per_s": round(len(steady) / window, 2),
            "overall_committed_per_s": round(sum(p.get("outcome") == "COMMITTED" for p in payments)
                                             / max(last - first, 1e-9), 2),
        },
        "latency": latency(steady),
        "latency_all": latency(payments),
        "errors": errors_by_code(payments),
    }
