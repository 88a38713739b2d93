"""nox sessions: `run` (the suite against params/local.yaml by default), `upgrade`, `tests`, `lint`.

    nox -s run                              # embedded hub + simulator, every notebook
    nox -s run -- --set hub.release=13      # anything after -- goes to `mojacheck run`
    nox -s run -- --env my-cluster --notebooks '2*'
    nox -s upgrade                          # upgrade rehearsal 13 → 14 → 17, writes outputs/upgrade/<id>/
    nox -s upgrade -- --releases 14,17      # anything after -- goes to `mojacheck upgrade`
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.reuse_existing_virtualenvs = True  # a second `nox -s run` starts in seconds
nox.options.sessions = ["tests", "lint"]


def _install(session: nox.Session, target: str) -> None:
    """Install the project editable (code changes need no reinstall) and skip pip entirely while
    pyproject.toml is unchanged since the last install into this venv."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + target.encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".mojacheck-installed"
    if stamp.is_file() and stamp.read_text() == digest:
        return
    session.install("--upgrade", "pip")
    session.install("-e", target)
    stamp.write_text(digest)


@nox.session
def run(session: nox.Session) -> None:
    """Run the notebook suite (default --env local) and write outputs/<env>/<run-id>/."""
    _install(session, ".")
    args = list(session.posargs)
    if "--env" not in args and not any(a.startswith("--env=") for a in args):
        args = ["--env", "local", *args]
    # The venv's ipykernel provides the "python3" kernelspec, so notebooks run on this venv's interpreter.
    session.run("mojacheck", "run", *args, env={"JUPYTER_PREFER_ENV_PATH": "1"})


@nox.session
def upgrade(session: nox.Session) -> None:
    """Rehearse an upgrade on the embedded hub (13 → 14 → 17 on one database) and write the upgrade guide."""
    _install(session, ".")
    session.run("mojacheck", "upgrade", *session.posargs, env={"JUPYTER_PREFER_ENV_PATH": "1"})


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (hub and simulator run for real on loopback; notebooks run under papermill), then ruff:
    CI runs this session, so style stays enforced, notebooks included."""
    _install(session, ".[dev]")
    session.run("pytest", "-q", *session.posargs, env={"JUPYTER_PREFER_ENV_PATH": "1"})
    if not session.posargs:  # a narrowed run (`nox -s tests -- tests/hub`) is for quick feedback only
        session.run("ruff", "check", ".")


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
