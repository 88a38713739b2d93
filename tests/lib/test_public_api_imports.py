"""What a notebook kernel loads: the notebook API and every step namespace, never the embedded hub, the simulator,
the runner or the load engine's gevent world (issue 15: a kernel pays only for what its notebook uses)."""

import subprocess
import sys

import mojacheck

FORBIDDEN = ("mojacheck.hub", "mojacheck.sim", "mojacheck.runner", "gevent", "locust", "scrapbook", "nbformat")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])  # a printed list of module names


def test_import_mojacheck_loads_no_hub_sim_runner_or_gevent() -> None:
    assert _loaded_after("import mojacheck") == []


def test_every_step_namespace_and_public_name_loads_none_of_them_either() -> None:
    names = sorted(set(mojacheck.__all__) | set(mojacheck._LAZY_MODULES) | set(mojacheck._LAZY_NAMES))
    code = "import mojacheck\n" + "\n".join(f"getattr(mojacheck, {n!r})" for n in names)
    assert _loaded_after(code) == []
