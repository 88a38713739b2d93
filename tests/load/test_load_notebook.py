"""notebooks/50_load.ipynb runs under papermill, briefly, against the embedded hub: its load passes, the
reconciliation is checked in the notebook, and its outputs hold the time series and the percentiles."""

from __future__ import annotations

import json
from pathlib import Path

from mojacheck.params import Params
from mojacheck.runner.execute import execute_notebook

ROOT = Path(__file__).resolve().parents[2]


def test_the_load_notebook_runs_briefly_and_reconciles(hub_params: tuple[Params, Path], tmp_path: Path) -> None:
    params, _ = hub_params
    parameters = {"params": params.public_dict(), "env_name": "test", "run_dir": str(tmp_path), "rate": 10,
                  "users": 2, "duration_s": 3, "ramp_s": 1, "mix": "p2p", "processes": 1}
    result = execute_notebook(ROOT / "notebooks" / "50_load.ipynb", tmp_path / "50_load.ipynb", parameters,
                              cwd=ROOT / "notebooks")
    assert result.error is None, result.error
    checks = result.checks
    assert len(checks) >= 8 and all(c["passed"] for c in checks), [c for c in checks if not c["passed"]]
    names = {c["name"] for c in checks}
    assert {"transfers the hub does not know (lost)",
            "ledger balanced after the load: Σ all USD accounts = 0"} <= names
    outputs = [o for c in json.loads(result.output.read_text(encoding="utf-8"))["cells"]
               for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the throughput time series
    assert any("p95" in "".join(o.get("data", {}).get("text/html", "")) for o in outputs)  # percentiles
    assert (tmp_path / "50_load" / "load.json").is_file()


def test_the_notebook_says_it_is_on_demand_and_is_committed_clean() -> None:
    nb = json.loads((ROOT / "notebooks" / "50_load.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["mojacheck"]["on_demand"] is True
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
