"""Kernels started ahead of their notebook, and HTML rendered in the background (issue 15 item 1)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import write_notebook

from mojacheck.runner.execute import execute_notebook
from mojacheck.runner.html import BackgroundExport
from mojacheck.runner.kernels import KernelPool

PROBE = '''
import os, sys
import scrapbook as sb
sb.glue("probe", {"preloaded": "json.decoder" in sys.modules and "mojacheck" in sys.modules, "cwd": os.getcwd()})
'''


def test_a_warm_kernel_runs_the_notebook_with_its_preload_done_and_counts_from_one(tmp_path: Path) -> None:
    source = write_notebook(tmp_path / "10_probe.ipynb", [PROBE])
    pool = KernelPool(tmp_path)
    try:
        pool.warm("import json.decoder\nimport mojacheck")
        km = pool.take(next_preload=None)
        try:
            result = execute_notebook(source, tmp_path / "out.ipynb", {"params": {}}, cwd=tmp_path, km=km)
        finally:
            pool.release(km)
    finally:
        pool.close()
    assert result.error is None
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))  # the preload left no count
    probe = next(o["data"] for c in code for o in c["outputs"] if "application/scrapbook.scrap.json+json" in
                 o.get("data", {}))["application/scrapbook.scrap.json+json"]["data"]
    assert probe == {"preloaded": True, "cwd": str(tmp_path)}


def test_closing_the_pool_stops_the_spare_kernel(tmp_path: Path) -> None:
    pool = KernelPool(tmp_path)
    pool.warm("")
    km = pool.take(next_preload="")  # one handed out, one spare starting
    pool.release(km)
    spare = pool._next
    pool.close()
    assert spare is not None and not spare.result().has_kernel


def test_html_is_rendered_in_the_background_and_a_failure_is_a_warning(tmp_path: Path) -> None:
    good = write_notebook(tmp_path / "10_good.ipynb", ["1 + 1"])
    (tmp_path / "20_bad.ipynb").write_text("not a notebook")
    out = io.StringIO()
    export = BackgroundExport(out)
    export.submit(good, tmp_path / "10_good.html")
    export.submit(tmp_path / "20_bad.ipynb", tmp_path / "20_bad.html")
    export.close()
    assert "<html" in (tmp_path / "10_good.html").read_text()
    assert "warning: no HTML for 20_bad.ipynb" in out.getvalue()


def test_papermill_saves_are_thinned_during_execution_but_the_last_one_is_whole(tmp_path: Path,
                                                                             monkeypatch) -> None:
    import papermill.engines

    writes: list[int] = []
    real = papermill.engines.write_ipynb

    def counting(nb, path):
        writes.append(sum(1 for c in nb.cells if c.get("outputs")))
        real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counting)
    cells = [f"print({i})" for i in range(8)]
    source = write_notebook(tmp_path / "00_many.ipynb", cells)
    result = execute_notebook(source, tmp_path / "out.ipynb", {}, cwd=tmp_path)
    assert result.error is None
    # papermill alone saves before and after every cell: 2 + 2 × 9 code cells; thinned, a quick notebook is saved at
    # its start, at its first cell and at its end
    assert len(writes) <= 4, writes
    assert writes[-1] == 8  # the last save holds every output
    outputs = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))["cells"]
    assert ["".join(c["outputs"][0]["text"]) for c in outputs[-8:]] == [f"{i}\n" for i in range(8)]
