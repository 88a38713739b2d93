"""The floors of the house (DESIGN.md "Floors"), read from the code's own imports:

* ``fspiop`` (with the exception tree) imports nothing of ours but itself;
* ``server`` stands on ``fspiop``; ``hub`` and ``sim`` stand on ``fspiop`` and ``server`` only, never on each other
  nor on anything above (the hub must behave the same for any FSP; the simulator must work against any hub);
* ``load`` (the load engine) stands on ``fspiop`` and ``server`` only, like the simulator: it must work against any
  hub; the runner may import it (it starts Locust as a process), the face never does;
* the face (``steps``, ``clients``, ``evidence``, ``params``, ``expectations``, the package itself) reaches the hub
  and simulator over HTTP: it imports neither, nor the runner;
* ``reports`` only reads artefacts: never the runner, hub or simulator;
* the ``runner`` starts hub and simulator as processes: it never imports their code;
* ``cli`` is the top floor; nothing imports it but ``__main__``;
* no import cycle among modules at module level, ``if TYPE_CHECKING:`` blocks included (a type-only circle becomes
  a real one the day someone needs the name at run time). Imports inside functions run later and break no circle.

Every import is held to the floors, lazy and type-only ones too: a lazy import of the hub from the face is still a
breach.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"

FLOORS: dict[str, set[str]] = {  # floor → the floors it may import (itself included)
    "fspiop": {"fspiop"},
    "server": {"fspiop", "server"},
    "hub": {"fspiop", "server", "hub"},
    "sim": {"fspiop", "server", "sim"},
    "load": {"fspiop", "server", "load"},  # the load engine: Locust workers, null hub, reconciler (as processes)
    "face": {"fspiop", "face"},
    "reports": {"fspiop", "face", "reports"},
    "runner": {"fspiop", "face", "reports", "load", "runner"},
    "cli": {"fspiop", "server", "hub", "sim", "load", "face", "reports", "runner", "cli"},
    "main": {"cli", "main"},
}
_FACE = ("steps", "clients", "evidence", "params", "expectations")


def floor_of(module: str) -> str:
    parts = module.split(".")
    if parts == ["mojacheck"]:
        return "face"  # the public surface notebooks import
    second = parts[1]
    if second in _FACE:
        return "face"
    if second == "__main__":
        return "main"
    if second in FLOORS:
        return second
    raise AssertionError(f"{module}: not on any floor; give it one in tests/test_layers.py")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    module_level: bool  # at module level (not inside a function), ``if TYPE_CHECKING:`` blocks included


def module_name(path: Path, lib: Path = LIB) -> str:
    parts = list(path.relative_to(lib).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _known(lib: Path) -> set[str]:
    return {module_name(p, lib) for p in (lib / "mojacheck").rglob("*.py")}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(source: str, module: str, known: set[str], *, is_package: bool = False) -> list[Import]:
    """Every import of one of our modules in ``source``, each resolved to the module it loads."""
    found: list[Import] = []

    def targets(node: ast.Import | ast.ImportFrom) -> Iterable[str]:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
            return
        base = _resolve(node, module, is_package)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            yield full if full in known else base  # `from pkg import submodule` loads the submodule

    def walk(nodes: list[ast.stmt], module_level: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in targets(node):
                    if target.split(".")[0] == "mojacheck" and target in known:
                        found.append(Import(module, target, node.lineno, module_level))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(node.body, False)
            elif isinstance(node, ast.ClassDef):
                walk(node.body, module_level)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        walk([n for n in inner if isinstance(n, ast.stmt | ast.ExceptHandler)], module_level)
            if isinstance(node, ast.ExceptHandler):
                walk(node.body, module_level)

    walk(ast.parse(source).body, True)
    return found


def all_imports(lib: Path = LIB) -> list[Import]:
    known = _known(lib)
    out: list[Import] = []
    for path in sorted((lib / "mojacheck").rglob("*.py")):
        module = module_name(path, lib)
        out.extend(imports_of(path.read_text(encoding="utf-8"), module, known, is_package=path.name == "__init__.py"))
    return out


def breaches(imports: Iterable[Import]) -> list[str]:
    """Imports that go to a floor their module may not stand on."""
    bad = []
    for imp in imports:
        src, dst = floor_of(imp.source), floor_of(imp.target)
        if dst not in FLOORS[src]:
            bad.append(f"{imp.source}:{imp.line} imports {imp.target} ({src} may not import {dst})")
    return bad


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module over module-level imports (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module_level and imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


# ---------------------------------------------------------------- the house as it stands


def test_every_module_is_on_a_floor() -> None:
    for module in _known(LIB):
        floor_of(module)


def test_no_import_breaks_a_floor() -> None:
    assert breaches(all_imports()) == []


def test_no_module_level_import_cycle() -> None:
    assert cycles(all_imports()) == []


def test_the_face_imports_neither_hub_nor_simulator_even_lazily() -> None:
    lazy = [i for i in all_imports() if floor_of(i.source) in ("face", "reports", "runner")
            and floor_of(i.target) in ("hub", "sim")]
    assert lazy == []


# ---------------------------------------------------------------- the test bites


_TYPED = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {}\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"mojacheck/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("files", "expected"), [
    ({"mojacheck/hub/__init__.py": "", "mojacheck/hub/app.py": "from mojacheck.sim.app import x\n",
      "mojacheck/sim/__init__.py": "", "mojacheck/sim/app.py": "x = 1\n"},
     "mojacheck.hub.app:1 imports mojacheck.sim.app (hub may not import sim)"),
    ({"mojacheck/fspiop/__init__.py": "", "mojacheck/fspiop/ilp.py": "def f():\n    from mojacheck import params\n",
      "mojacheck/params.py": ""},
     "mojacheck.fspiop.ilp:2 imports mojacheck.params (fspiop may not import face)"),
    ({"mojacheck/reports/__init__.py": "", "mojacheck/reports/a.py": "from ..runner import core\n",
      "mojacheck/runner/__init__.py": "", "mojacheck/runner/core.py": ""},
     "mojacheck.reports.a:1 imports mojacheck.runner.core (reports may not import runner)"),
    ({"mojacheck/steps/__init__.py": "", "mojacheck/hub/__init__.py": "", "mojacheck/hub/ledger.py": "",
      "mojacheck/steps/p2p.py": _TYPED.format("from mojacheck.hub import ledger")},
     "mojacheck.steps.p2p:3 imports mojacheck.hub.ledger (face may not import hub)"),
])
def test_a_deliberate_breach_is_caught(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    lib = _tree(tmp_path, files)
    assert expected in breaches(all_imports(lib))


def test_a_deliberate_cycle_is_caught_and_lazy_imports_break_none(tmp_path: Path) -> None:
    lib = _tree(tmp_path, {
        "mojacheck/hub/__init__.py": "",
        "mojacheck/hub/app.py": "from mojacheck.hub import routes\n",
        "mojacheck/hub/routes.py": "from mojacheck.hub.app import Hub\n",
        "mojacheck/hub/context.py": "from mojacheck.hub import typed\n",
        "mojacheck/hub/typed.py": _TYPED.format("from mojacheck.hub import context"),
    })
    imports = all_imports(lib)
    assert cycles(imports) == [["mojacheck.hub.app", "mojacheck.hub.routes"],
                               ["mojacheck.hub.context", "mojacheck.hub.typed"]]
    lib2 = _tree(tmp_path / "two", {
        "mojacheck/hub/__init__.py": "",
        "mojacheck/hub/app.py": "from mojacheck.hub import lazy\n",
        "mojacheck/hub/lazy.py": "def f():\n    from mojacheck.hub import app\n",
    })
    assert cycles(all_imports(lib2)) == []
