"""One run: params → services → notebooks (papermill, one at a time) → outputs → exit code."""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mojacheck.evidence.specs import SpecStatus, spec_status
from mojacheck.fspiop.errors import MojacheckError, ParamsError, RunError
from mojacheck.params import Params, find_root, load_params
from mojacheck.runner import interrupt, report, services, verdict
from mojacheck.runner.execute import NotebookError, NotebookResult, execute_notebook, find_notebooks, read_scraps
from mojacheck.runner.html import BackgroundExport
from mojacheck.runner.kernels import KernelPool
from mojacheck.runner.verdict import RunContext

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
REPORTS_FROM = "9"  # 9N_ notebooks report on the run: they start once every earlier notebook's HTML exists


@dataclass
class RunOptions:
    env: str
    overrides: Sequence[str] = ()
    notebooks: str = "*"  # glob on the notebook file name or stem
    root: Path | None = None  # project root (params/ lives there); default: found from cwd
    notebooks_dir: Path | None = None  # default: <root>/notebooks
    output_root: Path | None = None  # default: <root>/outputs
    check_services: bool = True  # tests without a hub turn the reachability check off
    prove_callbacks: bool = True  # the pre-flight callback from the hub to sim.public_url (tests with a stub: off)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


@dataclass
class RunResult:
    exit_code: int
    run_dir: Path | None = None
    summary: dict[str, Any] | None = None
    message: str = ""


def run(options: RunOptions) -> RunResult:
    """Do one run. Never raises for an expected failure: bad params, unreachable services and crashed
    notebooks come back as exit code 2 with a message (already printed to `options.stderr`)."""
    out = options.stderr
    try:
        root = (options.root or find_root()).resolve()
        params = load_params(options.env, overrides=options.overrides, root=root)
    except ParamsError as exc:
        return _fail(out, str(exc))
    notebooks_dir = (options.notebooks_dir or root / "notebooks").resolve()
    notebooks = find_notebooks(notebooks_dir, options.notebooks)
    if not notebooks:
        return _fail(out, f"no notebooks match {options.notebooks!r} in {notebooks_dir}")
    run_dir = _make_run_dir((options.output_root or root / "outputs").resolve() / options.env)
    try:
        return _run_in(params, options, root, notebooks, run_dir)
    except MojacheckError as exc:
        return _fail(out, str(exc), run_dir)


def _fail(out: TextIO, message: str, run_dir: Path | None = None) -> RunResult:
    print(f"mojacheck: {message}", file=out)
    return RunResult(EXIT_ERROR, run_dir, message=message)


def _run_in(
    params: Params, options: RunOptions, root: Path, notebooks: list[Path], run_dir: Path
) -> RunResult:
    out = options.stderr
    started = datetime.now(UTC)
    # Read once here; 00_environment reads the same folder through the same function, so the two agree.
    api_spec = spec_status(params.api.spec_dir)
    print(f"mojacheck: env {options.env}, hub release {params.hub.release}, {api_spec.line()}, run {run_dir}",
          file=out)
    progress = _Progress()
    try:
        with interrupt.stopping_on_signals():
            if options.check_services:
                services.check_reachable(params)
            with services.embedded_services(params, run_dir, cwd=root) as running, \
                    interrupt.watching(running.dead) as check_alive, \
                    _Pipeline(notebooks, run_dir, out, api_spec) as pipe:
                pipe.kernels.warm(pipe.preload(notebooks[0]))  # the first kernel starts during the pre-flight
                for spec in running:
                    print(f"mojacheck: {spec.name} up ({spec.health_url}), log {spec.log_file.name}", file=out)
                if options.prove_callbacks:
                    _prove_callback_path(params, out)
                for i, nb in enumerate(notebooks, 1):
                    check_alive()
                    if nb.name[:1] == REPORTS_FROM:  # report notebooks read the run's artefacts: all of them
                        pipe.html.drain()
                    progress.start(nb)
                    after = notebooks[i] if i < len(notebooks) else None
                    result = _run_one(nb, after, params, options, run_dir, pipe, i, len(notebooks))
                    check_alive()  # a death during the notebook is the run's stop, whatever error it caused in it
                    progress.done.append(result)
                check_alive()
    except interrupt.Interrupted as exc:
        progress.stop(f"interrupted by {exc}", exc.exit_code, signal=str(exc))
    except interrupt.ServiceDied as exc:
        progress.stop(str(exc), EXIT_ERROR)
    return _finish(params, options, run_dir, started, notebooks, progress, api_spec)


@dataclass
class _Progress:
    """The notebooks done so far, the one running, and why the run stopped early (if it did)."""

    done: list[NotebookResult] = field(default_factory=list)
    current: Path | None = None
    current_started: float = 0.0
    stopped: dict[str, Any] | None = None
    exit_code: int | None = None

    def start(self, notebook: Path) -> None:
        self.current, self.current_started = notebook, time.monotonic()

    def stop(self, reason: str, exit_code: int, *, signal: str | None = None) -> None:
        self.stopped = {"reason": reason, "signal": signal}
        self.exit_code = exit_code


def _finish(params: Params, options: RunOptions, run_dir: Path, started: datetime, notebooks: list[Path],
            progress: _Progress, api_spec: SpecStatus) -> RunResult:
    """Write what the run has (all of it, or what it had when it stopped), then the verdict line."""
    out = options.stderr
    results = list(progress.done)
    if progress.stopped is not None:
        results += _partial(progress, run_dir)
        ran = {r.name for r in results}
        progress.stopped["not_run"] = [nb.stem for nb in notebooks if nb.stem not in ran]
        print(f"\nmojacheck: stopped early: {progress.stopped['reason']}", file=out)
    info = report.RunInfo(options.env, run_dir.name, started, datetime.now(UTC), params.hub.release,
                          api_spec.to_json())
    summary = report.build_summary(info, results, stopped=progress.stopped)
    report.write_summary(run_dir / "summary.json", summary)
    report.write_junit(run_dir / "junit.xml", report.build_junit(info, results))
    _redact(run_dir, params.secret_values(), out)
    _point_latest(run_dir)
    code = progress.exit_code if progress.exit_code is not None else _exit_code(results)
    _print_totals(out, summary, run_dir, code, api_spec)
    return RunResult(code, run_dir, summary)


def _partial(progress: _Progress, run_dir: Path) -> list[NotebookResult]:
    """The notebook that was running when the run stopped: what it glued so far, marked as stopped."""
    if progress.current is None or any(r.name == progress.current.stem for r in progress.done):
        return []
    output = run_dir / progress.current.name
    result = NotebookResult(progress.current.stem, output, time.monotonic() - progress.current_started,
                            error=NotebookError("Stopped", (progress.stopped or {}).get("reason", ""), ""))
    if output.is_file():
        read_scraps(result)
    return [result]


def _prove_callback_path(params: Params, out: TextIO) -> None:
    """Before any scenario: the hub can deliver a callback to `sim.public_url` (the commonest mistake against a
    real cluster), else stop in seconds with one line naming it."""
    from mojacheck.clients.session import connect
    from mojacheck.steps.provisioning import prove_callback_path

    session = connect(params.public_dict())
    try:
        took = prove_callback_path(session)
    except MojacheckError as exc:
        raise RunError(str(exc)) from exc
    finally:
        session.close()
    print(f"mojacheck: the hub delivers callbacks to {params.sim.public_url} ({took * 1000:.0f} ms)", file=out)


class _Pipeline:
    """What overlaps with a running notebook: the next kernel starting (runner/kernels.py) and the previous
    notebooks' HTML being rendered (runner/html.py). Closing waits for the HTML and stops the spare kernel."""

    def __init__(self, notebooks: list[Path], run_dir: Path, out: TextIO, api_spec: SpecStatus) -> None:
        self._stack = ExitStack()
        log = self._stack.enter_context((run_dir / "kernel.log").open("ab"))
        folders = {nb.parent for nb in notebooks}
        self._preload = "import mojacheck"
        if api_spec.validation:  # the FSPIOP definitions parsed before the notebook needs them (~0.5 s each kernel)
            self._preload += f"\nfrom mojacheck.evidence.conformance import preload\npreload({api_spec.folder!r})"
        self.kernels = KernelPool(notebooks[0].parent if len(folders) == 1 else run_dir, log)
        self._stack.callback(self.kernels.close)
        self.html = BackgroundExport(out)
        self._stack.callback(self.html.close)

    def __enter__(self) -> _Pipeline:
        return self

    def preload(self, notebook: Path) -> str:
        """What to import in the kernel that will run ``notebook``: the report notebooks read pandas and
        matplotlib through `mc.reports`, the others the FSPIOP definitions."""
        if notebook.name[:1] == REPORTS_FROM:
            return "import mojacheck\nimport mojacheck.reports"
        return self._preload

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _run_one(
    source: Path, after: Path | None, params: Params, options: RunOptions, run_dir: Path, pipe: _Pipeline,
    index: int, count: int,
) -> NotebookResult:
    out = options.stderr
    print(f"[{index}/{count}] {source.stem:<40} ", end="", file=out, flush=True)
    # The bearer token is NOT a parameter: the kernel inherits the env var and the library reads it there.
    parameters = {"params": params.public_dict(), "env_name": options.env, "run_dir": str(run_dir)}
    km = pipe.kernels.take(next_preload=None if after is None else pipe.preload(after))
    try:
        result = execute_notebook(source, run_dir / source.name, parameters, cwd=source.parent, km=km)
    finally:
        pipe.kernels.release(km)
    if result.output.is_file():
        verdict.stamp(result.output, result, RunContext(options.env, run_dir.name, params.hub.release))
        pipe.html.submit(result.output, run_dir / f"{source.stem}.html")
    r = result
    line = f"{r.status:<7} {r.duration_s:6.1f}s  checks: {r.passed} passed, {r.failed} failed"
    if result.error is not None:
        line += f"  ({result.error.ename}: {_first_line(result.error.evalue)})"
    print(line, file=out, flush=True)
    return result


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:120] if lines else ""


def _exit_code(results: list[NotebookResult]) -> int:
    if any(r.status == "error" for r in results):
        return EXIT_ERROR
    return EXIT_FAILED if any(r.failed for r in results) else EXIT_PASSED


def _print_totals(out: TextIO, summary: dict[str, Any], run_dir: Path, code: int, spec: SpecStatus) -> None:
    """The line a scheduler's log keeps: the verdict, the counts, and whether callback bodies were validated
    (a count without validation is not comparable with one with it)."""
    t = summary["totals"]
    verdict = {EXIT_PASSED: "PASSED", EXIT_FAILED: "FAILED", EXIT_ERROR: "ERROR"}.get(code, "INTERRUPTED")
    print(
        f"mojacheck: {verdict}: {t['notebooks']} notebooks, {t['scenarios']} scenarios, "
        f"{t['passed']}/{t['checks']} checks passed, {t['requests']} requests; {spec.line()}; outputs in {run_dir}",
        file=out,
    )


def _make_run_dir(env_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = env_dir / f"{stamp}-{secrets.token_hex(3)}"
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


def _point_latest(run_dir: Path) -> None:
    """`<env>/latest` → the run, relative (the outputs folder can be moved or archived) and replaced
    atomically (a reader never sees it missing)."""
    tmp = run_dir.parent / f".latest-{secrets.token_hex(4)}"
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, run_dir.parent / "latest")


def _redact(run_dir: Path, values: list[str], out: TextIO) -> None:
    """Last line of defence: no secret value may stay in a file under outputs (a notebook might print one)."""
    if not values:
        return
    for path in run_dir.iterdir():
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if any(v in text for v in values):
            for value in values:
                text = text.replace(value, "***")
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
            print(f"mojacheck: warning: a secret value was found in {path.name} and redacted", file=out)


__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_PASSED", "RunError", "RunOptions", "RunResult", "run"]
