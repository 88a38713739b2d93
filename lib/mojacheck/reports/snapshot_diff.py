"""`mojacheck snapshot-diff A B`: what was lost (in A, not in B), what changed (values), what is new.

Lost is what an upgrade must never do; a changed balance or state is normal traffic. Two cases are not losses:
an API that did not answer in A and answers in B (changed: it became visible), and a transfer of A that B did
not look up (B read back a different newest-N set: listed as unchecked). A transfer B looked up and the hub no
longer knows (3208) is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mojacheck.fspiop.errors import MojacheckError

SECTIONS = ("participants", "oracles", "settlement_models", "settlement_windows", "settlements", "transfers")


class SnapshotError(MojacheckError):
    """A snapshot file that is missing, unreadable or not a snapshot."""


@dataclass
class SnapshotDiff:
    lost: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # transfer ids of A that B did not look up

    def to_dict(self) -> dict[str, Any]:
        return {"counts": {"lost": len(self.lost), "changed": len(self.changed), "new": len(self.new),
                           "unchecked": len(self.unchecked)},
                "lost": self.lost, "changed": self.changed, "new": self.new, "unchecked": self.unchecked}


def load(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such snapshot file") from None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: unreadable: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise SnapshotError(f"{path}: not a mojacheck snapshot (no 'meta')")
    return data


def _unavailable(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"unavailable"}


def _walk(path: str, a: Any, b: Any, out: SnapshotDiff) -> None:
    if isinstance(a, dict) and isinstance(b, dict) and not (_unavailable(a) or _unavailable(b)):
        for key, value in a.items():
            where = f"{path}/{key}" if path else str(key)
            if key in b:
                _walk(where, value, b[key], out)
            else:
                out.lost.append({"path": where, "value": value})
        for key, value in b.items():
            if key not in a:
                out.new.append({"path": f"{path}/{key}" if path else str(key), "value": value})
        return
    if _unavailable(b) and isinstance(a, dict) and not _unavailable(a) and a:
        # B could not see what A saw: everything A saw is unaccounted for
        out.lost.extend({"path": f"{path}/{k}", "value": v, "note": f"B: {b['unavailable']}"} for k, v in a.items())
        return
    if a != b:
        out.changed.append({"path": path, "before": a, "after": b})


def _transfers(a: Any, b: Any, out: SnapshotDiff) -> None:
    if not (isinstance(a, dict) and isinstance(b, dict)) or _unavailable(a) or _unavailable(b):
        _walk("transfers", a, b, out)
        return
    for tid, before in a.items():
        if tid not in b:
            out.unchecked.append(tid)
        elif (b[tid] or {}).get("error") == "3208" and (before or {}).get("error") != "3208":
            out.lost.append({"path": f"transfers/{tid}", "value": before, "note": "B: 3208 transfer not found"})
        elif isinstance(before, dict) and isinstance(b[tid], dict) and set(before) != set(b[tid]):
            # still known to the hub, answered in another shape (error 3303 before, state ABORTED after)
            out.changed.append({"path": f"transfers/{tid}", "before": before, "after": b[tid]})
        else:
            _walk(f"transfers/{tid}", before, b[tid], out)
    out.new.extend({"path": f"transfers/{tid}", "value": v} for tid, v in b.items() if tid not in a)


def diff(a: dict[str, Any], b: dict[str, Any]) -> SnapshotDiff:
    out = SnapshotDiff()
    for section in SECTIONS:
        if section == "transfers":
            _transfers(a.get(section, {}), b.get(section, {}), out)
        else:
            _walk(section, a.get(section, {}), b.get(section, {}), out)
    return out


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(result: SnapshotDiff, a_name: str, b_name: str) -> str:
    c = result.to_dict()["counts"]
    lines = [f"snapshot-diff {a_name} → {b_name}: {c['lost']} lost, {c['changed']} changed, {c['new']} new"
             + (f" ({c['unchecked']} transfers of A not looked up in B)" if c["unchecked"] else "")]
    lines += [f"LOST     {x['path']}  {_short(x['value'])}" + (f"  ({x['note']})" if x.get("note") else "")
              for x in result.lost]
    lines += [f"CHANGED  {x['path']}: {_short(x['before'], 60)} → {_short(x['after'], 60)}" for x in result.changed]
    lines += [f"NEW      {x['path']}  {_short(x['value'])}" for x in result.new]
    return "\n".join(lines)
