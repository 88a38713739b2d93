"""How `mojacheck bench` measures each figure, one function per figure, each returning the numbers of one run.

Every figure runs on this machine with only the project's own code: the notebook suite through the runner, minimal
notebooks through the runner and through a bare nbclient kernel (paired), P2P through the notebook library, and the
hub and the load generator through `mojacheck load`'s engine (Locust as a subprocess).
"""

from __future__ import annotations

import io
import shutil
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mojacheck.params import Params, params_from_dict

__all__ = ["ISSUE15_NOTEBOOKS", "Bed", "bare_notebooks", "bed", "hub_throughput", "minimal_bed", "minimal_notebooks",
           "notebook_subset", "null_hub_ceiling", "p2p_latency", "paced_latency", "quiet_bed", "runner_notebooks",
           "services_of", "suite_wall"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Bed:
    """A throwaway project for the bench: params (local.yaml on free ports, its own database) under ``root``."""

    root: Path
    project: Path  # the real project: notebooks, params/local.yaml
    env: str = "bench"

    @property
    def params_file(self) -> Path:
        return self.root / "params" / f"{self.env}.yaml"

    def params(self) -> Params:
        data = yaml.safe_load(self.params_file.read_text(encoding="utf-8"))
        return params_from_dict(data, root=self.root)


def bed(project: Path, root: Path) -> Bed:
    """params/local.yaml with free ports and a database under ``root`` (never the user's outputs/local)."""
    data = yaml.safe_load((project / "params" / "local.yaml").read_text(encoding="utf-8"))
    hub, sim = free_port(), free_port()
    base = f"http://127.0.0.1:{hub}"
    data["hub"].update(port=hub, db=str(root / "hub.sqlite3"))
    data["services"] = {k: v.replace("http://127.0.0.1:4040", base) for k, v in data["services"].items()}
    data["provisioning"]["oracle_endpoint"] = f"{base}/oracle"
    data["sim"].update(port=sim, url=f"http://127.0.0.1:{sim}", public_url=f"http://127.0.0.1:{sim}")
    (root / "params").mkdir(parents=True, exist_ok=True)
    result = Bed(root, project)
    result.params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return result


def minimal_bed(b: Bed) -> Bed:
    """The bed without embedded services: the minimal notebooks call nothing, so nothing is started for them."""
    data = yaml.safe_load(b.params_file.read_text(encoding="utf-8"))
    data["hub"]["embedded"] = False
    data["sim"]["embedded"] = False
    minimal = Bed(b.root, b.project, env="bench-minimal")
    minimal.params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return minimal


def quiet_bed(b: Bed) -> Bed:
    """The bed with the hub and simulator logging at warning (start line only): throughput figures measure the hub,
    not its request log (info logs a line per request and message, ~10% of the hub's CPU per payment)."""
    data = yaml.safe_load(b.params_file.read_text(encoding="utf-8"))
    data["hub"]["log_level"] = data["sim"]["log_level"] = "warning"
    quiet = Bed(b.root, b.project, env="bench-quiet")
    quiet.params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return quiet


@contextmanager
def services_of(b: Bed) -> Iterator[Params]:
    """The bed's embedded hub and simulator, running for the block."""
    from mojacheck.runner import services

    params = b.params()
    with services.embedded_services(params, b.root / "logs", cwd=b.project):
        yield params


# ------------------------------------------------------------------------------------------- the suite


# The notebooks issue 15's "947 checks in 33.6 s" ran; the suite has grown since (request to pay, bulk, FX, ...).
ISSUE15_NOTEBOOKS = ("00_environment", "10_provisioning", "20_p2p_golden_path", "21_error_scenarios",
                     "22_protocol_validation", "30_thirdparty", "40_settlement", "90_run_report", "91_trends")


def notebook_subset(b: Bed, folder: Path, names: tuple[str, ...]) -> Path:
    """A notebooks folder holding copies of the project's notebooks ``names`` (as they are today)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(b.project / "notebooks" / f"{name}.ipynb", folder / f"{name}.ipynb")
    return folder


def suite_wall(b: Bed, notebooks_dir: Path | None = None) -> dict[str, Any]:
    """One run of the default suite (`mojacheck run`, embedded hub and simulator), or of the notebooks in
    ``notebooks_dir``: wall seconds and checks."""
    from mojacheck.runner.core import RunOptions, run

    err = io.StringIO()
    started = time.perf_counter()
    result = run(RunOptions(env=b.env, root=b.root, notebooks_dir=notebooks_dir or b.project / "notebooks",
                            output_root=b.root / "outputs", stderr=err))
    wall = time.perf_counter() - started
    totals = (result.summary or {}).get("totals", {})
    return {"wall_s": round(wall, 2), "exit_code": result.exit_code, "checks": totals.get("checks"),
            "notebooks": totals.get("notebooks"), "failed": totals.get("failed")}


# ------------------------------------------------------------------------------------------- notebook overhead


MINIMAL = {
    "import": "import mojacheck as mc",
    "connect": "import mojacheck as mc\nrun = mc.connect(params, env=env_name)",
}


def minimal_notebooks(folder: Path, variant: str, count: int, params: dict[str, Any]) -> Path:
    """``count`` notebooks as small as a notebook of the suite can be: the parameters cell and one cell. The
    parameters cell already holds ``params``, so the bare kernel runs exactly what the runner runs after injecting."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        parameters = nbformat.v4.new_code_cell(f'params = {params!r}\nenv_name = "bench"\nrun_dir = None')
        parameters.metadata["tags"] = ["parameters"]
        nb.cells = [parameters, nbformat.v4.new_code_cell(MINIMAL[variant])]
        nbformat.write(nb, str(folder / f"{i + 10:02d}_minimal.ipynb"))
    return folder


def runner_notebooks(b: Bed, folder: Path) -> float:
    """Seconds per notebook when the runner runs the notebooks of ``folder`` (no services: they call none)."""
    from mojacheck.runner.core import RunOptions, run

    count = len(list(folder.glob("*.ipynb")))
    started = time.perf_counter()
    result = run(RunOptions(env=b.env, root=b.root, notebooks_dir=folder, output_root=b.root / "outputs-minimal",
                            check_services=False, prove_callbacks=False, stderr=io.StringIO()))
    wall = time.perf_counter() - started
    if result.exit_code != 0:
        raise RuntimeError(f"the minimal notebooks failed under the runner: {result.message or result.exit_code}")
    return wall / count


def bare_notebooks(folder: Path) -> float:
    """Seconds per notebook when a bare nbclient kernel runs the same notebooks, one kernel each, nothing else."""
    import nbformat
    from nbclient import NotebookClient

    paths = sorted(folder.glob("*.ipynb"))
    started = time.perf_counter()
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return (time.perf_counter() - started) / len(paths)


# ------------------------------------------------------------------------------------------- P2P through the library


def p2p_latency(params: Params, payments: int) -> dict[str, Any]:
    """``payments`` lookup → quote → transfer through the notebook library, one after another: p50/p99 ms."""
    from mojacheck.clients.session import connect
    from mojacheck.steps.p2p import lookup, quote, transfer
    from mojacheck.steps.parties import standard_parties
    from mojacheck.steps.provisioning import ensure_ready

    s = connect(params.public_dict())
    try:
        ensure_ready(s)
        parties = standard_parties(s.params)
        payer, payee, currency = parties["payer"], parties["accented"], s.params["currencies"][0]
        times = []
        for i in range(payments + 5):  # the first five warm connections and caches up
            started = time.perf_counter()
            lookup(s, payer.fsp, payee)
            q = quote(s, payer, payee, "1", currency)
            t = transfer(s, q)
            elapsed = (time.perf_counter() - started) * 1000
            if t.state != "COMMITTED":
                raise RuntimeError(f"P2P payment {i} ended {t.state or t.callback.error_code}")
            if i >= 5:
                times.append(elapsed)
    finally:
        s.close()
    times.sort()
    return {"payments": len(times), "p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2)}


# ------------------------------------------------------------------------------------------- the load engine


def _load(b: Bed, *, users: int, duration_s: float, rate: float | None, mix: str, null_hub: bool = False,
          reconcile: bool = True) -> dict[str, Any]:
    from mojacheck.runner.load import LoadOptions, load

    out = b.root / "loads" / f"{time.strftime('%H%M%S')}-{mix}-{users}-{'null' if null_hub else 'hub'}"
    result = load(LoadOptions(params_file=b.params_file, root=b.root, out=out, users=users, duration_s=duration_s,
                              ramp_s=1.0, rate=rate, mix=mix, null_hub=null_hub, reconcile=reconcile,
                              stderr=io.StringIO()))
    summary = result.summary
    if not summary:
        raise RuntimeError(f"the load could not be run (exit {result.exit_code}); see {out}")
    rec = summary["reconciliation"]
    e2e = summary.get("latency", {}).get("e2e", {})
    return {"per_s": summary["throughput"]["committed_per_s"], "p50_ms": e2e.get("p50"), "p95_ms": e2e.get("p95"),
            "unexpected": summary["unexpected"], "lost": None if rec.get("ok") is None else len(rec["lost"]),
            "reconciled": rec.get("ok"), "load_avg": summary["machine"]["load_avg_before"][0], "out": str(out)}


def hub_throughput(b: Bed, in_flight: int, duration_s: float) -> dict[str, Any]:
    """E2E transfers per second (POST /transfers to the payer's callback) with ``in_flight`` at once, unpaced."""
    return _load(b, users=in_flight, duration_s=duration_s, rate=None, mix="transfer")


def paced_latency(b: Bed, rate: float, duration_s: float) -> dict[str, Any]:
    """The e2e transfer latency at a paced ``rate`` per second."""
    return _load(b, users=16, duration_s=duration_s, rate=rate, mix="transfer")


def null_hub_ceiling(b: Bed, mix: str, duration_s: float) -> dict[str, Any]:
    """The generator's own ceiling: payments per second against a hub that answers at once."""
    return _load(b, users=64, duration_s=duration_s, rate=None, mix=mix, null_hub=True, reconcile=False)
