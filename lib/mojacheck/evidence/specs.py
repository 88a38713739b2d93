"""Which official FSPIOP API definitions a run validates callback bodies against, and whether it can.

The definitions are the ones Mojaloop publishes in the npm package `@mojaloop/api-snippets` (folder `docs/`). The
project pins one version of it, checked by its npm integrity hash, and keeps it in a cache outside the repository
(the FSPIOP API definition is CC BY-ND: nothing of it is copied into the project). `mojacheck specs` fills the
cache (lib/mojacheck/runner/specs.py); this module only knows the pin, where the cache is, and reads it.

`spec_status` is the one answer to "is spec validation on, with which files, and if not, why": 00_environment
prints it and the runner writes it into summary.json and its console summary line, so the two never disagree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV", "INTEGRITY", "MANIFEST", "PACKAGE", "SPEC_FILES", "VERSION", "SpecStatus", "available_versions",
    "cache_root", "is_cached", "pinned_dir", "pinned_spec_dir", "read_manifest", "spec_status",
]

PACKAGE = "@mojaloop/api-snippets"
# The version the conformance tests and the suite are verified with. Older ones differ in ways checks notice:
# 17.10.2's FSPIOP 2.0 file still lets callback bodies carry additional properties, which 18.x forbids.
VERSION = "18.4.1"
INTEGRITY = "sha512-FLfLntawZkBYXmji4InebSMN4IAm227QXjlDIVNg9aWZYhTdJWH5DZSuzWKx9E9/JmgJGQC4MPnpLHPa4MPJSg=="
MANIFEST = "manifest.json"  # written last by the fetcher: a folder without it is not a finished fetch

# FSPIOP version → the file name published in @mojaloop/api-snippets docs/.
SPEC_FILES = {
    "1.0": "fspiop-rest-v1.0-openapi3-snippets.yaml",
    "1.1": "fspiop-rest-v1.1-openapi3-snippets.yaml",
    "2.0": "fspiop-rest-v2.0-openapi3-snippets.yaml",
}

CACHE_ENV = "MOJACHECK_CACHE_DIR"


def cache_root() -> Path:
    """$MOJACHECK_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/mojacheck: outside any checkout, shared by all."""
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "mojacheck").resolve()


def pinned_dir(root: Path | None = None) -> Path:
    """The cache folder of the pinned package version (manifest.json, package.json, LICENSE.md, docs/)."""
    return (root or cache_root()) / f"{PACKAGE.rsplit('/', 1)[-1]}-{VERSION}"


def pinned_spec_dir(root: Path | None = None) -> Path:
    """Where `api.spec_dir` points when params leave it out: the pinned package's docs/ in the cache."""
    return pinned_dir(root) / "docs"


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The fetcher's manifest in `folder` (package, version, integrity, fetched), None when absent or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def available_versions(spec_dir: Path) -> list[str]:
    """The FSPIOP versions whose definition file is in `spec_dir`."""
    return [v for v, name in SPEC_FILES.items() if (spec_dir / name).is_file()]


def is_cached(root: Path | None = None) -> bool:
    """Whether the cache holds a finished fetch of the pinned version: its manifest names this package, version
    and integrity, and every FSPIOP definition file is there."""
    folder = pinned_dir(root)
    manifest = read_manifest(folder)
    if manifest is None:
        return False
    pinned = {"package": PACKAGE, "version": VERSION, "integrity": INTEGRITY}
    if any(manifest.get(k) != v for k, v in pinned.items()):
        return False
    return available_versions(folder / "docs") == list(SPEC_FILES)


@dataclass(frozen=True)
class SpecStatus:
    """Whether callback bodies are validated, against which package (when known), and why not when off."""

    validation: bool
    folder: str | None
    package: str | None = None
    version: str | None = None
    versions: tuple[str, ...] = ()  # FSPIOP versions with a definition file
    reason: str | None = None  # why validation is off (None when on)

    def to_json(self) -> dict[str, Any]:
        """summary.json's `api_spec` block."""
        return {"validation": self.validation, "package": self.package, "version": self.version,
                "folder": self.folder, "fspiop_versions": list(self.versions), "reason": self.reason}

    def line(self) -> str:
        """A few words for the run's console summary line."""
        if not self.validation:
            return f"spec validation OFF: {self.reason}"
        if self.version:
            return f"spec validation on ({(self.package or '').rsplit('/', 1)[-1]} {self.version})"
        return f"spec validation on ({self.folder})"

    def note(self) -> str:
        """One plain paragraph for 00_environment: on or off, what with, and why not."""
        if not self.validation:
            return (f"FSPIOP spec validation is OFF: {self.reason}. Callback bodies are not checked against the "
                    "OpenAPI definition (no check is made, nothing is counted as passed).")
        source = f"npm {self.package} {self.version}, " if self.version else ""
        text = (f"FSPIOP spec validation is ON: every callback body is checked against the official OpenAPI files "
                f"({source}{self.folder}); versions available: {', '.join(self.versions)}.")
        missing = [v for v in SPEC_FILES if v not in self.versions]
        if missing:
            text += (f" Missing: {', '.join(SPEC_FILES[v] for v in missing)}; callbacks in FSPIOP "
                     f"{', '.join(missing)} are not validated.")
        if self.version and self.package == PACKAGE and self.version != VERSION:
            text += f" The project is verified with {PACKAGE} {VERSION}; this folder holds {self.version}."
        return text


def spec_status(spec_dir: str | Path | None) -> SpecStatus:
    """The status for `api.spec_dir` as params resolved it (None: switched off; params put the pinned cache
    folder there when the key is absent)."""
    if spec_dir is None:
        return SpecStatus(False, None, reason="api.spec_dir is null (switched off in the params)")
    folder = Path(spec_dir)
    if folder.resolve() == pinned_spec_dir().resolve() and not is_cached():
        return SpecStatus(False, str(folder), PACKAGE, VERSION, reason=(
            f"npm {PACKAGE} {VERSION} is not in the cache {folder.parent}; `mojacheck specs` fetches it"))
    if not folder.is_dir():
        return SpecStatus(False, str(folder), reason=f"api.spec_dir {folder} does not exist")
    versions = tuple(available_versions(folder))
    package, version = _provenance(folder)
    if not versions:
        return SpecStatus(False, str(folder), package, version, reason=(
            f"no FSPIOP definition file ({', '.join(SPEC_FILES.values())}) in api.spec_dir {folder}"))
    return SpecStatus(True, str(folder), package, version, versions)


def _provenance(folder: Path) -> tuple[str | None, str | None]:
    """Package and version of a spec folder: our fetcher's manifest beside it, else the package.json of an
    `npm pack` extraction (package/docs → package/package.json); (None, None) when neither says."""
    manifest = read_manifest(folder.parent)
    if manifest is None:
        try:
            manifest = json.loads((folder.parent / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None, None
    if not isinstance(manifest, dict):
        return None, None
    name = manifest.get("package") or manifest.get("name")
    version = manifest.get("version")
    return (str(name) if name else None), (str(version) if version else None)
