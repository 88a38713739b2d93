"""Reading one run folder: its executed notebooks' scraps (docs/internals.md, "Scraps") and its summary.json.

Executed notebooks are read as plain JSON, not with scrapbook/nbformat: the scrap format is ours and fixed, and
a trends or snapshot pass over hundreds of runs should not pay nbformat's validation per file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mojacheck.evidence.checks import name_key

SCRAP_MIME = "application/scrapbook.scrap.json+json"
NOTEBOOK_FILE = re.compile(r"^\d\d_.+\.ipynb$")


@dataclass
class NotebookRun:
    """What one executed notebook left: its scenario scraps, its hub scrap, whether it crashed."""

    name: str  # "20_p2p_golden_path"
    path: Path
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    hub: dict[str, Any] | None = None
    crashed: str | None = None  # "ename: evalue" of the first error output; None when it ran to the end
    unreadable: str | None = None  # why the file could not be read at all

    @property
    def html(self) -> str:
        """The notebook's HTML report, relative to the run folder (what a link from another report uses)."""
        return f"{self.name}.html"

    @property
    def checks(self) -> list[dict[str, Any]]:
        """Every check of every scenario scrap, in notebook order."""
        return [c for s in self.scenarios for c in s.get("checks", [])]


@dataclass
class Run:
    """One run folder: its executed notebooks, read from their scraps, and its summary.json."""

    folder: Path
    notebooks: list[NotebookRun]
    summary: dict[str, Any] | None  # None while the run is still going (or if it crashed before the end)

    @property
    def run_id(self) -> str:
        """The run's id: its folder's name."""
        return self.folder.name


_UUID_IN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEXISH = re.compile(r"[0-9a-fA-F]{6,}")


def _id_like(match: re.Match[str]) -> str:
    return "{id}" if any(ch.isdigit() for ch in match.group()) else match.group()


def check_identity(name: str) -> str:
    """What pairs a check (or scenario) across runs: its name without a trailing remark and with generated ids
    masked, its ordinal kept (evidence/checks.name_key). `Hub account USD (created)` and `… (existed)` are one
    check on a fresh and on a provisioned hub; `quote to mcghost4fe6f574` and `quote to mcghoste9aefd0d` are one
    check with a fresh FSP id per run; `party is held by the payee FSP` and `… #2` are two checks."""
    text = _UUID_IN.sub("{id}", name_key(name))
    return _HEXISH.sub(_id_like, text)


def notebook_outputs(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """Every output of every code cell, in notebook order."""
    return [o for cell in nb.get("cells", []) if cell.get("cell_type") == "code" for o in cell.get("outputs", [])]


def scrap_of(output: dict[str, Any]) -> tuple[str, Any] | None:
    """(name, data) when `output` is a scrapbook scrap, else None."""
    payload = (output.get("data") or {}).get(SCRAP_MIME)
    if isinstance(payload, dict) and isinstance(payload.get("name"), str):
        return payload["name"], payload.get("data")
    return None


def read_notebook(path: Path) -> NotebookRun:
    """Read one executed notebook's scraps; a file that cannot be read gives a NotebookRun with `unreadable` set."""
    result = NotebookRun(path.stem, path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        result.unreadable = f"{type(exc).__name__}: {exc}"
        return result
    scraps: dict[str, Any] = {}
    for output in notebook_outputs(nb):
        if (found := scrap_of(output)) is not None:
            scraps[found[0]] = found[1]  # a re-glued name replaces the earlier one, as scrapbook does
        elif output.get("output_type") == "error" and result.crashed is None:
            result.crashed = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    result.scenarios = [scraps[n] for n in sorted(scraps) if n.startswith("mc_scenario_")
                        and isinstance(scraps[n], dict)]
    if isinstance(scraps.get("mc_hub"), dict):
        result.hub = scraps["mc_hub"]
    return result


def executed_notebooks(folder: Path, *, before: str | None = None) -> list[Path]:
    """The run's `NN_name.ipynb` files in run order; with `before`, only those that ran before that name."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if NOTEBOOK_FILE.match(p.name))
    return [p for p in found if before is None or p.stem < before]


def read_summary(folder: Path) -> dict[str, Any] | None:
    path = folder / "summary.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def load_run(folder: Path | str, *, before: str | None = None) -> Run:
    """Read a run folder (symlinks such as `latest` resolved); with `before`, only the notebooks that ran before
    that name."""
    folder = Path(folder).resolve()  # `latest` → the run's own folder name
    notebooks = [read_notebook(p) for p in executed_notebooks(folder, before=before)]
    return Run(folder, notebooks, read_summary(folder))


def resolve_run_dir(run_dir: str | Path | None, env: str, *, root: Path | None = None) -> Path:
    """The runner injects `run_dir`; in JupyterLab it is None and the newest run of `env` is meant."""
    if run_dir:
        return Path(run_dir).resolve()
    from mojacheck.params import find_root

    return ((root or find_root()) / "outputs" / env / "latest").resolve()


# ---------------------------------------------------------------- request types

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_NUMBER = re.compile(r"^\d+$")
_HEX = re.compile(r"^[0-9a-fA-F]{16,}$")
# Collections whose next path segment names one member (FSPIOP resources and the operator APIs).
_COLLECTIONS = {
    "participants", "transfers", "quotes", "bulkTransfers", "bulkQuotes", "transactionRequests",
    "authorizations", "fxQuotes", "fxTransfers", "oracles", "accounts", "settlementWindows", "settlements",
    "settlementModels", "consents", "consentRequests", "thirdpartyRequests", "services", "transactions",
}
# Sub-resource words that follow a collection without being a member id.
_WORDS = {"limits", "error", "positions", "endpoints", "initialPositionAndLimits", "accounts", "health"}
_FSPIOP_RESOURCES = {"parties", "participants", "quotes", "transfers", "bulkQuotes", "bulkTransfers",
                     "transactionRequests", "authorizations", "fxQuotes", "fxTransfers"}


def _is_id(segment: str) -> bool:
    return bool(_UUID.match(segment) or _ULID.match(segment) or _NUMBER.match(segment) or _HEX.match(segment))


def request_type(method: str, url: str, kind: str = "request") -> str:
    """`PUT /mcpayerfsp/transfers/0191…/error` (a callback) → `PUT /{fsp}/transfers/{id}/error`, so requests
    of one kind group whatever the ids, FSPs and query strings."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    out: list[str] = []
    for i, seg in enumerate(segments):
        prev = segments[i - 1] if i else ""
        if i == 0 and kind == "callback" and len(segments) > 1 and segments[1] in _FSPIOP_RESOURCES:
            out.append("{fsp}")  # the simulator's callback paths start with the FSP they were delivered to
        elif _is_id(seg) or (prev in _COLLECTIONS and seg not in _WORDS and not seg.isupper()):
            out.append("{id}")
        elif (prev.isupper() and prev.replace("_", "").isalpha() and seg != "error") or (
                i >= 2 and segments[i - 2].isupper() and out[-1] == "{id}" and seg != "error"):
            out.append("{id}")  # /parties/MSISDN/{id}[/{subId}]: party identifiers follow their type
        else:
            out.append(seg)
    return f"{method.upper()} /{'/'.join(out)}"


def transfer_ids_of_runs(env_dir: Path, limit: int) -> list[str]:
    """Ids from the scraps' optional `transfers` field, newest run first, at most `limit`."""
    ids: list[str] = []
    runs = sorted((p for p in env_dir.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit()),
                  reverse=True) if env_dir.is_dir() else []
    for run in runs:
        for path in executed_notebooks(run):
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for output in notebook_outputs(nb):
                scrap = scrap_of(output)
                if scrap and scrap[0].startswith("mc_scenario_") and isinstance(scrap[1], dict):
                    ids.extend(i for i in scrap[1].get("transfers") or [] if isinstance(i, str) and i not in ids)
                    if len(ids) >= limit:
                        return ids[:limit]
    return ids
