"""`mojacheck publish`: gather run folders into a static site and write its index (reports/publish.py renders it).

The site has the layout outputs have, `<site>/<env>/<run-id>/`, so one rule serves both ways of publishing:
* into another folder (`--out public`): each run's notebooks' HTML, executed notebooks, summary.json and junit.xml
  are copied there (not the services' logs nor the hub database); runs already in the site stay, so a site restored
  from a CI cache or an earlier upload keeps its history and gains the new runs;
* in place (`--out` is the outputs folder itself): nothing is copied, index.html sits beside the env folders.
Either way every link in the index is relative, so the folder can be uploaded anywhere or opened from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mojacheck.fspiop.errors import MojacheckError, RunError
from mojacheck.params import find_root

EXIT_PUBLISHED, EXIT_CANNOT = 0, 2


@dataclass
class PublishOptions:
    out: Path
    envs: Sequence[str] = ()  # empty: every environment (of the outputs and of the site)
    output_root: Path | None = None  # default: <root>/outputs
    root: Path | None = None
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


@dataclass
class Published:
    exit_code: int
    index: Path | None = None
    envs: list[str] = field(default_factory=list)
    runs: int = 0
    copied: int = 0  # files copied into the site (0 in place)


def publish(options: PublishOptions) -> Published:
    """Copy the chosen environments' runs into the site (unless it is the outputs folder) and write index.html and
    index.json. Exit code 0 when written, 2 when there is nothing to publish or the site cannot be written."""
    err = options.stderr
    try:
        source = (options.output_root or (options.root or find_root()) / "outputs").resolve()
        out = options.out.resolve()
        envs = _choose_envs(source, out, options.envs)
        copied = 0 if out == source else sum(_copy_env(source / env, out / env) for env in envs if
                                             (source / env).is_dir())
        result = _write_index(out, envs)
    except (MojacheckError, OSError) as exc:
        print(f"mojacheck: cannot publish: {exc}", file=err)
        return Published(EXIT_CANNOT)
    result.copied = copied
    where = "in place" if out == source else f"{copied} files copied from {source}"
    print(f"mojacheck: published {result.runs} runs of {len(envs)} environments ({', '.join(envs)}), {where}: "
          f"{result.index}", file=err)
    return result


def _choose_envs(source: Path, out: Path, asked: Sequence[str]) -> list[str]:
    from mojacheck.reports.publish import is_env_dir

    for env in asked:
        if not env or env in (".", "..") or "/" in env or os.sep in env:
            raise RunError(f"--env {env!r}: expected an environment name (a folder of the outputs)")
        if not is_env_dir(source / env) and not is_env_dir(out / env):
            raise RunError(f"no runs of environment {env!r} in {source} or {out} "
                           f"(environments with runs: {', '.join(_envs_in(source, out)) or 'none'})")
    if asked:
        return list(dict.fromkeys(asked))
    found = sorted(set(_envs_in(source, out)) | set(_envs_in(out, source)))
    if not found:
        raise RunError(f"no environment with runs in {source}" + ("" if out == source else f" or {out}"))
    return found


def _envs_in(folder: Path, skip: Path) -> list[str]:
    """Environment folders directly under `folder`; `skip` (the site, when it lies inside the outputs) is not one."""
    from mojacheck.reports.publish import is_env_dir

    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.resolve() != skip and is_env_dir(p))


def _copy_env(source: Path, target: Path) -> int:
    """Copy every run folder's published files that the site lacks or holds in another version; returns how many."""
    from mojacheck.reports.publish import is_run_file, run_folders

    copied = 0
    for run in run_folders(source):
        (target / run.name).mkdir(parents=True, exist_ok=True)  # an empty one too: a run that could not start
        for path in sorted(run.iterdir()):
            if not path.is_file() or path.is_symlink() or not is_run_file(path):
                continue
            dest = target / run.name / path.name
            stat = path.stat()
            if dest.is_file() and dest.stat().st_size == stat.st_size and dest.stat().st_mtime == stat.st_mtime:
                continue
            shutil.copy2(path, dest)
            copied += 1
    return copied


def _write_index(out: Path, envs: list[str]) -> Published:
    os.environ.setdefault("MPLBACKEND", "Agg")  # a scheduler has no display; never try to open a window
    from mojacheck.reports.publish import index_data, read_env, render_index

    generated = datetime.now(UTC)
    indexes = [read_env(out, env) for env in envs]
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    _write_atomically(index, render_index(indexes, generated=generated))
    data = index_data(indexes, generated=generated)
    _write_atomically(out / "index.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return Published(EXIT_PUBLISHED, index, envs, sum(len(i.runs) for i in indexes))


def _write_atomically(path: Path, text: str) -> None:
    """A web server serving the site while a nightly job republishes it never sends half a page."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
