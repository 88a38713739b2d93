"""`mojacheck snapshot-diff A B`: what was lost (in A, not in B), what changed (values), what is new.

Lost is what an upgrade must never do; a changed balance or state is normal traffic. Two cases are not losses:
an API that did not answer in A and answers in B (changed: it became visible), and a transfer of A that B did
not look up (B read back a different newest-N set: listed as unchecked). A transfer B looked up and the hub no
longer knows (3208) is lost.

A changed entity can be the release's doing: `explaining_entry` names the release-table entry
(mojacheck/expectations.py) whose change across the upgrade is exactly what the snapshots show, e.g. a transfer
that expired while RESERVED, read back as error 3303 before and as ABORTED after the upgrade to 17
(expired_transfer_get).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mojacheck.evidence.prose import change, prose
from mojacheck.expectations import DESCRIPTIONS
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


# ---------------------------------------------------------------- changes a release explains


def transfer_answer(path: str, value: Any) -> str | None:
    """What `GET /transfers/{id}` answered, as a snapshot records it under `path`: the error code, else the
    transfer state; None when `path` is not a transfer's answer."""
    parts = path.split("/")
    if parts[0] != "transfers" or len(parts) not in (2, 3):
        return None
    if len(parts) == 2:
        return (value.get("error") or value.get("transferState")) if isinstance(value, dict) else None
    return value if parts[2] in ("error", "transferState") and isinstance(value, str) else None


# Release-table entries that show in hub state, and how a snapshot shows each: entry → what a changed item reads
# as (None when the item is not about that entry).
SHOWN_IN_STATE: dict[str, Callable[[str, Any], str | None]] = {"expired_transfer_get": transfer_answer}


def explaining_entry(item: Mapping[str, Any], differences: Mapping[str, Sequence[Any]]) -> str | None:
    """The release-table entry that explains a changed item: one of `differences` (entry → [before, after] across
    the upgrade) whose before and after values are what the item reads as before and after. None when no entry
    does: a change the release table does not account for."""
    for entry, (before, after) in differences.items():
        read = SHOWN_IN_STATE.get(entry)
        if read and None not in (before, after) and read(item["path"], item["before"]) == before \
                and read(item["path"], item["after"]) == after:
            return entry
    return None


def partition(changed: list[dict[str, Any]], differences: Mapping[str, Sequence[Any]]
              ) -> tuple[list[tuple[dict[str, Any], str]], list[dict[str, Any]]]:
    """The changed items a release change explains (each with its entry), and the others, in diff order."""
    explained, unexplained = [], []
    for item in changed:
        entry = explaining_entry(item, differences)
        if entry:
            explained.append((item, entry))
        else:
            unexplained.append(item)
    return explained, unexplained


# ---------------------------------------------------------------- tables for the upgrade guide

FRAME_KINDS = ("lost", "explained", "unexplained", "new")


def frame(result: SnapshotDiff, kind: str, differences: Mapping[str, Sequence[Any]] | None = None) -> Any:
    """One part of a diff as a pandas table, values in words: `lost` or `new` entries, or the changed ones
    `explained` by a release change in `differences` (entry → [before, after]) or left `unexplained`."""
    import pandas as pd

    differences = differences or {}
    if kind in ("lost", "new"):
        return pd.DataFrame([{"entity": x["path"], "value": _words(x["value"]), "note": x.get("note", "")}
                             for x in getattr(result, kind)], columns=["entity", "value", "note"])
    explained, unexplained = partition(result.changed, differences)
    if kind == "unexplained":
        return pd.DataFrame([_changed_row(x) for x in unexplained], columns=["entity", "before", "after"])
    if kind != "explained":
        raise ValueError(f"kind: expected one of {', '.join(FRAME_KINDS)}, got {kind!r}")
    rows = [{**_changed_row(x), "explained by": entry,
             "the release change": f"{DESCRIPTIONS.get(entry, entry)}: {change(entry, *differences[entry])}"}
            for x, entry in explained]
    return pd.DataFrame(rows, columns=["entity", "before", "after", "explained by", "the release change"])


def _changed_row(item: dict[str, Any]) -> dict[str, str]:
    return {"entity": item["path"], "before": _words(item["before"]), "after": _words(item["after"])}


def _words(value: Any, limit: int = 120) -> str:
    text = prose(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
