"""`mojacheck compare` on two real small runs (runner + embedded hub and simulator on free ports), and
`mojacheck snapshot` against the same embedded hub (started for the snapshot, on the runs' database)."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest

from mojacheck.cli import main as cli_main
from mojacheck.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _overrides(tmp: Path) -> list[str]:
    hub, sim = _free_port(), _free_port()
    base = f"http://127.0.0.1:{hub}"
    services = {"als": base, "als_admin": f"{base}/als-admin", "quoting": base, "ml_api_adapter": base,
                "central_ledger_admin": f"{base}/admin", "central_settlement": f"{base}/settlement/v2",
                "thirdparty": base}
    return [f"hub.port={hub}", f"hub.db={tmp / 'hub.sqlite3'}", f"sim.port={sim}",
            f"sim.url=http://127.0.0.1:{sim}", f"sim.public_url=http://127.0.0.1:{sim}",
            f"provisioning.oracle_endpoint={base}/oracle",
            *(f"services.{k}={v}" for k, v in services.items())]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str], Path]:
    tmp = tmp_path_factory.mktemp("runs")
    overrides = _overrides(tmp)
    folders = []
    for _ in range(2):
        result = run(RunOptions(env="local", overrides=overrides, notebooks="0*", root=ROOT,
                                output_root=tmp / "out", stderr=io.StringIO()))
        assert result.run_dir is not None and (result.run_dir / "summary.json").is_file(), result.message
        folders.append(result.run_dir)
    return folders[0], folders[1], overrides, tmp


def test_compare_two_ordinary_runs_finds_no_outcome_change(two_runs: tuple[Path, Path, list[str], Path]) -> None:
    a, b, _, tmp = two_runs
    out = tmp / "cmp"
    assert cli_main(["compare", str(a), str(b), "--out", str(out), "--root", str(ROOT)]) == 0
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["counts"]["unexpected"] == 0
    assert not [d for d in comparison["differences"] if d["kind"] == "outcome"]
    assert comparison["a"]["run_id"] == a.name and comparison["b"]["release"] == "17"
    html = (out / "compare_runs.html").read_text()
    assert "Run comparison" in html and "cdnjs" not in html
    assert (out / "compare_runs.ipynb").is_file()


def test_snapshot_of_the_embedded_hub(two_runs: tuple[Path, Path, list[str], Path]) -> None:
    _, _, overrides, tmp = two_runs
    out = tmp / "snap.json"
    args = ["snapshot", "--env", "local", "--root", str(ROOT), "--out", str(out), "--output-root", str(tmp / "out")]
    assert cli_main([*args, *(x for o in overrides for x in ("--set", o))]) == 0
    snap = json.loads(out.read_text())
    assert snap["meta"]["hub"]["release"] == "17" and snap["meta"]["transfers_looked_up"] == 0
    assert "Hub" in snap["participants"] and snap["transfers"] == {}
    assert isinstance(snap["settlement_windows"], dict) and isinstance(snap["oracles"], dict)
    assert cli_main(["snapshot-diff", str(out), str(out)]) == 0
