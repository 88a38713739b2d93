"""`mojacheck load`: a load test on Locust against the hub of a params file, then its reconciliation.

1. the hub: the params' (starting the embedded hub and simulator when they do not answer), or the null hub;
2. provision one payer FSP per worker process and a payee party per user (operator APIs, as 10_provisioning);
3. write the plan and run Locust headless as a subprocess (``--processes``, or a master that workers on other
   machines join); each worker points its payer's callback endpoints at its own receiver;
4. read every sent transfer back from the hub (``GET /transfers/{ID}``), compare positions and the ledger;
5. write ``load.json`` (figures, reconciliation, machine load) beside Locust's CSV/HTML and ``payments.jsonl``.

Exit codes: 0 every payment ended as its kind expects and the reconciliation holds; 1 otherwise; 2 the load could
not be run. Never imports gevent or Locust: they run in the subprocess only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mojacheck.fspiop.errors import MojacheckError, RunError
from mojacheck.load.plan import LoadPlan, PayeeParty, parse_mix
from mojacheck.params import Params, find_root, load_params, params_from_dict
from mojacheck.runner import services
from mojacheck.runner.load_check import Reconciler, finish

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass
class LoadOptions:
    """Everything `mojacheck load` is told (cli.py builds it); ``rate`` None or 0 means unpaced."""

    env: str | None = "local"
    params_file: Path | None = None
    overrides: Sequence[str] = ()
    rate: float | None = 100.0
    users: int = 64
    duration_s: float = 30.0
    ramp_s: float = 5.0
    mix: str = "p2p"
    amount: str = "1"
    currency: str | None = None
    processes: int | None = None  # worker processes on this machine (default: one per core)
    expect_workers: int | None = None  # a master only: this many workers join from elsewhere
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    callback_host: str = "127.0.0.1"
    callback_bind_host: str = "127.0.0.1"
    callback_port_base: int = 0
    null_hub: bool = False
    reconcile: bool = True
    out: Path | None = None
    root: Path | None = None
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


@dataclass
class LoadResult:
    exit_code: int
    out_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def load(options: LoadOptions) -> LoadResult:
    """Run one load; an expected failure (bad params, unreachable hub, Locust did not run) is exit 2 with one
    line, never a traceback."""
    out = options.stderr
    try:
        root = (options.root or find_root()).resolve()
        params = _params(options, root)
        mix = parse_mix(options.mix)
        _check_options(options)
    except (MojacheckError, ValueError) as exc:
        print(f"mojacheck: {exc}", file=out)
        return LoadResult(EXIT_ERROR)
    out_dir = (options.out or root / "outputs" / "load" / _stamp()).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with ExitStack() as stack:
            target = stack.enter_context(_hub(params, options, out_dir, root))
            summary = _run(params, options, mix, out_dir, target)
    except (MojacheckError, OSError) as exc:
        print(f"mojacheck: load could not be run: {exc}", file=out)
        return LoadResult(EXIT_ERROR, out_dir)
    return LoadResult(summary["exit_code"], out_dir, summary)


def _params(options: LoadOptions, root: Path) -> Params:
    if options.params_file is not None:
        import yaml

        try:
            data = yaml.safe_load(options.params_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RunError(f"{options.params_file}: cannot be read: {exc}") from None
        return params_from_dict(data or {}, source=str(options.params_file), root=root)
    return load_params(options.env or "local", overrides=options.overrides, root=root)


def _check_options(o: LoadOptions) -> None:
    if o.users < 1:
        raise ValueError(f"--users must be at least 1, got {o.users}")
    if o.duration_s <= 0 or o.ramp_s < 0:
        raise ValueError(f"--duration must be > 0 and --ramp ≥ 0, got {o.duration_s:g} and {o.ramp_s:g}")
    if o.rate is not None and o.rate < 0:
        raise ValueError(f"--rate must be ≥ 0 (0: unpaced), got {o.rate:g}")
    if o.processes is not None and o.processes < 1:
        raise ValueError(f"--processes must be at least 1, got {o.processes}")


def _stamp() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass
class _Target:
    """The hub the load goes to: its service URLs, and whether it keeps a ledger worth reconciling."""

    services: dict[str, str]
    null: bool


@contextmanager
def _hub(params: Params, options: LoadOptions, out_dir: Path, root: Path) -> Iterator[_Target]:
    keys = ("als", "quoting", "ml_api_adapter", "central_ledger_admin")
    if options.null_hub:
        port = _free_port()
        spec = services.ServiceSpec("null hub", [sys.executable, "-m", "mojacheck", "null-hub", "--port", str(port)],
                                    f"http://127.0.0.1:{port}/health", out_dir / "nullhub.log")
        with services.running(spec, cwd=root):
            base = f"http://127.0.0.1:{port}"
            yield _Target({**dict.fromkeys(keys, base), "central_ledger_admin": f"{base}/admin"}, True)
        return
    with ExitStack() as stack:
        if params.hub.embedded and not _answers(f"http://127.0.0.1:{params.hub.port}/health"):
            stack.enter_context(services.embedded_services(params, out_dir, cwd=root))
        else:
            services.check_reachable(params)
        urls = params.public_dict()["services"]
        yield _Target({k: str(urls[k]).rstrip("/") for k in keys}, False)


def _answers(url: str) -> bool:
    status, _ = services._probe(url, timeout=1.0)
    return status is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(params: Params, options: LoadOptions, mix: dict[str, float], out_dir: Path, target: _Target
         ) -> dict[str, Any]:
    out = options.stderr
    workers = options.expect_workers or options.processes or os.cpu_count() or 1  # one payer FSP each
    currency = options.currency or params.currency
    reconciler = None if target.null else Reconciler(params, currency, bind_host=options.callback_bind_host,
                                                     callback_host=options.callback_host)
    if reconciler is not None:
        payers, parties = reconciler.provision(workers, options.users)
    else:
        from mojacheck.steps.load import payer_names

        payers = payer_names(workers)
        parties = [PayeeParty("nullpayee", "MSISDN", f"2778{i + 1:08d}") for i in range(options.users)]
    plan = LoadPlan(
        services=target.services, payers=payers, payees=parties, currency=currency, amount=options.amount,
        mix=mix, users=options.users, rate=options.rate or None, ramp_s=options.ramp_s,
        duration_s=options.duration_s, callback_timeout_s=float(params.timeouts.callback_s),
        api_version=params.api.version, callback_bind_host=options.callback_bind_host,
        callback_host=options.callback_host, callback_port_base=options.callback_port_base,
        token_env=params.auth.bearer_token_env, verify_tls=bool(params.tls.verify), out_dir=str(out_dir))
    plan_file = plan.write(out_dir / "plan.json")
    pace = f"{options.rate:g}/s" if options.rate else "unpaced"
    print(f"mojacheck: load: {options.users} users ({pace}, ramp {options.ramp_s:g} s) for {options.duration_s:g} s, "
          f"mix {options.mix}, {workers} payer FSP worker(s), against {target.services['ml_api_adapter']}"
          f"{' (null hub)' if target.null else ''}; outputs in {out_dir}", file=out, flush=True)
    machine = {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in os.getloadavg()]}
    started = datetime.now(UTC)
    run_locust(plan, plan_file, options, out_dir, out)
    machine["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    shown = {f.name: _jsonable(getattr(options, f.name)) for f in fields(options) if f.name != "stderr"}
    return finish(plan, shown, out_dir, started, machine, reconciler, out)


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value


# ------------------------------------------------------------------------------------------- Locust


LOCUSTFILE = Path(__file__).resolve().parents[1] / "load" / "locustfile.py"
STARTUP_S = 60.0  # Locust's start, the workers' endpoint registration, and its shutdown
PROGRESS_S = 5.0


def locust_argv(plan: LoadPlan, plan_file: Path, options: LoadOptions, out_dir: Path) -> list[str]:
    """The Locust command of one load: headless, our users and pacing, CSV/HTML stats into ``out_dir``; the
    duration is the locustfile's (it stops gently and waits for the workers' last records)."""
    stop_timeout = plan.callback_timeout_s * 3 + 2  # a user in its payment finishes all three phases
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "-u", str(plan.users), "-r", f"{plan.users / plan.ramp_s if plan.ramp_s else plan.users:g}",
            "--csv", str(out_dir / "locust"), "--csv-full-history", "--html", str(out_dir / "locust.html"),
            "--only-summary", "--exit-code-on-error", "0", "--stop-timeout", f"{stop_timeout:g}",
            "--loglevel", "WARNING", "--mojacheck-plan", str(plan_file)]
    if options.expect_workers:
        argv += ["--master", "--expect-workers", str(options.expect_workers), "--master-bind-host",
                 options.master_bind_host, "--master-bind-port", str(options.master_port),
                 "--expect-workers-max-wait", "600"]
    elif len(plan.payers) > 1:
        # A port of our own: workers left over from another Locust on this machine must never join this load.
        port = str(_free_port())
        argv += ["--processes", str(len(plan.payers)), "--expect-workers-max-wait", "60",
                 "--master-bind-port", port, "--master-port", port]
    return argv


def run_locust(plan: LoadPlan, plan_file: Path, options: LoadOptions, out_dir: Path, out: TextIO) -> int:
    """Run Locust to the end of the load (printing progress every few seconds); RunError when it could not."""
    argv = locust_argv(plan, plan_file, options, out_dir)
    if options.expect_workers:
        print(f"mojacheck: waiting for {options.expect_workers} worker process(es); on each worker machine run: "
              f"mojacheck load --worker --master-host <this machine> --master-port {options.master_port} "
              f"--plan {plan_file} --processes <n> --callback-host <that machine's address>", file=out, flush=True)
    deadline_s = plan.duration_s + plan.callback_timeout_s * 3 + 2 + STARTUP_S + (600 if options.expect_workers else 0)
    log_file = out_dir / "locust.log"
    payments = out_dir / "payments.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_file.open("wb") as log:
        # A session of its own: at the end the whole group goes (the master's forked workers too), by its id.
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=out_dir, start_new_session=True)
        started = time.monotonic()
        try:
            while True:
                try:
                    code = proc.wait(timeout=PROGRESS_S)
                    break
                except subprocess.TimeoutExpired:
                    pass
                elapsed = time.monotonic() - started
                if elapsed > deadline_s:
                    services.stop(proc)
                    raise RunError(f"Locust did not finish within {deadline_s:.0f} s; see {log_file}")
                done = _count_lines(payments)
                print(f"mojacheck: load: {elapsed:5.0f} s, {done} payments recorded", file=out, flush=True)
        finally:
            _stop_group(proc)
    if code != 0 or not payments.is_file():
        tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-8:]
        raise RunError(f"Locust exited with code {code} ({'; '.join(tail) or 'no output'}); see {log_file}")
    return code


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop Locust's master and every worker it forked (its process group), gently first."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return  # the master and its workers are gone
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the master: a zombie would keep its group alive
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))
    except OSError:
        return 0


def run_worker(plan_file: Path, master_host: str, master_port: int, processes: int | None,
               callback_host: str | None) -> int:
    """``mojacheck load --worker``: this machine's Locust workers join a master elsewhere (blocks until it
    quits). Each worker becomes the payer FSP the plan gives its index and listens at ``callback_host``."""
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", master_host,
            "--master-port", str(master_port), "--mojacheck-plan", str(plan_file), "--loglevel", "WARNING"]
    if processes and processes > 1:
        argv += ["--processes", str(processes)]
    if callback_host:
        argv += ["--mojacheck-callback-host", callback_host]
    return subprocess.call(argv)
