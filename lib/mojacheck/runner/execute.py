"""Execute one notebook with papermill and read what it glued (docs/internals.md, "Scraps").

papermill, scrapbook and nbformat are imported lazily: importing them costs seconds (jupyterlab's
rfc3987-syntax), and `mojacheck --help` or `mojacheck hub` should not pay that.
"""

from __future__ import annotations

import functools
import json
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, Any

STOPPED_AFTER_FAILURE = "ScenarioStopped"  # fspiop.errors.ScenarioStopped, as papermill names it
NOTEBOOK_NAME = re.compile(r"^\d\d_.+\.ipynb$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# papermill writes the whole executed notebook before and after every cell: 40-60 ms a time for the larger notebooks,
# ~3.7 s of a 14-notebook run, on the runner's critical path. In between, at most one write a second; the write at
# the end (or when a signal or a dead service stops the notebook) is never skipped, so a stopped run still reads
# everything the notebook glued.
SAVE_EVERY_S = 1.0
ENGINE = "mojacheck"


@dataclass
class NotebookError:
    """Why a notebook crashed (outside a check): what junit.xml reports as an error testcase."""

    ename: str
    evalue: str
    traceback: str


@dataclass
class NotebookResult:
    name: str  # "20_p2p_golden_path"
    output: Path  # the executed notebook (may be missing if papermill failed before writing it)
    duration_s: float
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    hub: dict[str, Any] | None = None
    error: NotebookError | None = None

    @property
    def checks(self) -> list[dict[str, Any]]:
        return [c for s in self.scenarios for c in s.get("checks", [])]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.get("passed") is True)

    @property
    def failed(self) -> int:
        return len(self.checks) - self.passed

    @property
    def requests(self) -> int:
        return sum(len(s.get("requests", [])) for s in self.scenarios)

    @property
    def status(self) -> str:
        """passed, failed (a check failed; also a notebook that stopped after a failed `required` scenario), or
        error (it crashed outside a check)."""
        if self.error is not None and not (self.error.ename == STOPPED_AFTER_FAILURE and self.failed):
            return "error"
        return "failed" if self.failed else "passed"


def find_notebooks(notebooks_dir: Path, pattern: str = "*") -> list[Path]:
    """`NN_*.ipynb` in run order; `pattern` matches the file name or its stem (`20_*`, `*golden*`).

    A notebook whose metadata says ``"mojacheck": {"on_demand": true}`` (the load test: minutes of load, not a
    regression check) runs only when the pattern names on-demand notebooks alone (`--notebooks '50*'`,
    `'*load*'`); a pattern that also matches regression notebooks (`*`, the default, or `'[0-9]*'`) is a suite run
    and leaves it out."""
    found = [
        p.resolve() for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb")
        if NOTEBOOK_NAME.match(p.name) and (fnmatch(p.name, pattern) or fnmatch(p.stem, pattern))
    ]
    demanded = [p for p in found if on_demand(p)]
    chosen = found if len(demanded) == len(found) else [p for p in found if p not in demanded]
    return sorted(chosen, key=lambda p: p.name)


def on_demand(notebook: Path) -> bool:
    """Whether the notebook runs only when asked for by name (its metadata ``mojacheck.on_demand``)."""
    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False  # unreadable: let the run try it and report the error on it
    return bool((metadata.get("mojacheck") or {}).get("on_demand"))


def execute_notebook(
    source: Path, output: Path, parameters: dict[str, Any], *, cwd: Path, kernel_log: Path | None = None,
    km: Any = None,
) -> NotebookResult:
    """Run one notebook; a crashed cell becomes `error` (the partial output and its scraps are still read).
    The kernel's own stdout/stderr (ipykernel warnings) go to `kernel_log` instead of our progress lines.
    ``km``: an already started kernel (runner/kernels.py) to run on; the caller shuts it down afterwards."""
    import papermill

    started = time.monotonic()
    error: NotebookError | None = None
    try:
        with ExitStack() as stack:
            extra: dict[str, Any] = {}
            if km is not None:
                extra["km"] = km
            elif kernel_log is not None:
                log = stack.enter_context(kernel_log.open("ab"))
                extra["kernel_manager_class"] = _kernel_manager_logging_to(log)
            papermill.execute_notebook(
                str(source), str(output), parameters=parameters, kernel_name="python3", cwd=str(cwd),
                progress_bar=False, log_output=False, engine_name=_engine(), **extra,
            )
    except papermill.PapermillExecutionError as exc:
        error = NotebookError(exc.ename, exc.evalue, _clean("\n".join(exc.traceback)))
    except Exception as exc:  # kernel died, bad notebook JSON, timeout: still a crashed notebook, not the run
        error = NotebookError(type(exc).__name__, str(exc), "")
    result = NotebookResult(source.stem, output, time.monotonic() - started, error=error)
    if output.is_file():
        read_scraps(result)
    return result


@functools.cache
def _engine() -> str:
    """papermill's nbclient engine with its saves during execution thinned to one per ``SAVE_EVERY_S``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ThinnedSaves(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            save, last = nb_man.save, [float("-inf")]

            def thinned(**kw: Any) -> None:
                if time.monotonic() - last[0] >= SAVE_EVERY_S:
                    last[0] = time.monotonic()
                    save(**kw)

            nb_man.save = thinned
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                nb_man.save = save  # papermill's notebook_complete() saves right after this, whatever happened

    papermill_engines.register(ENGINE, ThinnedSaves)
    return ENGINE


def _kernel_manager_logging_to(log: IO[bytes]) -> type:
    from jupyter_client.manager import AsyncKernelManager

    class LoggingKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            await super().start_kernel(**kw)

    return LoggingKernelManager


def read_scraps(result: NotebookResult) -> None:
    """Fill ``result`` with what its executed notebook glued (scenarios, hub versions)."""
    import scrapbook

    try:
        scraps = scrapbook.read_notebook(str(result.output)).scraps
    except Exception as exc:  # an unreadable output is a crash of this notebook, not of the run
        if result.error is None:
            result.error = NotebookError(type(exc).__name__, f"cannot read scraps: {exc}", "")
        return
    names = sorted(n for n in scraps if n.startswith("mc_scenario_"))
    for name in names:
        data = scraps[name].data
        if not isinstance(data, dict):  # out of contract: report it on this notebook, keep the others
            result.error = result.error or NotebookError("ScrapError", f"scrap {name} is not a mapping", "")
            continue
        result.scenarios.append(data)
    if "mc_hub" in scraps and isinstance(scraps["mc_hub"].data, dict):
        result.hub = scraps["mc_hub"].data


def _clean(text: str) -> str:
    return _ANSI.sub("", text)
