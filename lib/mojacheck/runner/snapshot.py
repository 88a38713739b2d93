"""`mojacheck snapshot` and `snapshot-diff`: save a hub's state (starting an embedded hub on its database when
nothing answers), and say what was lost, changed and new between two snapshots."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mojacheck.clients import snapshot
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.params import Params, find_root, load_params
from mojacheck.reports import snapshot_diff
from mojacheck.reports.runs import transfer_ids_of_runs
from mojacheck.runner import services

EXIT_CANNOT = 2


def capture(params: Params, *, env: str, runs_dir: Path, transfers: int | None, log_dir: Path, root: Path,
            start: bool = False) -> dict[str, Any]:
    """The hub's state through its public APIs. ``start``: run the embedded hub and simulator for the snapshot
    (always); otherwise only when the params' embedded hub does not answer."""
    from mojacheck.clients.session import connect

    limit = snapshot.TRANSFER_LIMIT if transfers is None else max(transfers, 0)
    ids = transfer_ids_of_runs(runs_dir, limit) if limit else []
    with ExitStack() as stack:
        if start or (params.hub.embedded and not _answers(f"http://127.0.0.1:{params.hub.port}/health")):
            stack.enter_context(services.embedded_services(params, log_dir, cwd=root))
        session = connect(params.public_dict())
        stack.callback(session.close)
        return snapshot.take(session, env=env, transfer_ids=ids, limit=limit)


def write(snap: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snap, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def describe(snap: dict[str, Any]) -> str:
    t = snap["transfers"]
    return (f"{len(snap['participants'])} participants, {0 if 'unavailable' in t else len(t)} transfers read back "
            f"(hub release {snap['meta']['hub']['release']})")


def take_snapshot(env: str, *, overrides: list[str], out: Path | None, transfers: int | None,
                  output_root: Path | None, root: Path | None, stderr: TextIO | None = None) -> int:
    """The `mojacheck snapshot` command: 0 saved, 2 could not be taken."""
    err = stderr or sys.stderr
    try:
        root = (root or find_root()).resolve()
        params = load_params(env, overrides=overrides, root=root)
    except MojacheckError as exc:
        print(f"mojacheck: {exc}", file=err)
        return EXIT_CANNOT
    env_dir = (output_root or root / "outputs").resolve() / env
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = (out or env_dir / "snapshots" / f"{stamp}.json").resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        snap = capture(params, env=env, runs_dir=env_dir, transfers=transfers, log_dir=target.parent, root=root)
    except MojacheckError as exc:
        print(f"mojacheck: snapshot of {env} failed: {exc}", file=err)
        return EXIT_CANNOT
    write(snap, target)
    print(f"mojacheck: snapshot of {env}: {describe(snap)}; {target}", file=err)
    for note in snap["meta"]["notes"]:
        print(f"mojacheck: note: {note}", file=err)
    return 0


def diff_snapshots(a: Path, b: Path, *, json_out: Path | None = None, stderr: TextIO | None = None) -> int:
    """The `mojacheck snapshot-diff` command: 0 nothing lost, 1 something lost, 2 bad input."""
    try:
        before, after = snapshot_diff.load(a), snapshot_diff.load(b)
    except MojacheckError as exc:
        print(f"mojacheck: {exc}", file=stderr or sys.stderr)
        return EXIT_CANNOT
    result = snapshot_diff.diff(before, after)
    print(snapshot_diff.render(result, a.name, b.name))
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if result.lost else 0


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
