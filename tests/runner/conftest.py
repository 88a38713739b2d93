"""A throwaway project (params/ + notebooks/) and a stub HTTP service, so runner tests never touch the real
notebooks or outputs and need no hub."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import yaml

SECRET = "s3cr3t-token-do-not-leak-42"

PARAMETERS_CELL = 'params = {}\nenv_name = ""\nrun_dir = ""'

# One passing and one failing check; also glues what the tests want to know about the kernel.
GOOD_CELL = '''
import os, sys
import scrapbook as sb
checks = [
    {"name": "status is 200", "expected": "200", "actual": "200", "passed": True, "error_code": None},
    {"name": "amount", "expected": "10", "actual": "11", "passed": False, "error_code": "3106"},
]
requests = [{"method": "GET", "url": "http://x/health", "status": 200, "elapsed_ms": 1.5, "kind": "request"}]
sb.glue("mc_scenario_000", {"name": "demo", "checks": checks, "requests": requests, "duration_s": 0.5})
sb.glue("mc_hub", {"release": params["hub"]["release"], "versions": {"transfers": ["1.1"]}})
sb.glue("probe", {"prefix": sys.prefix, "cwd": os.getcwd(), "run_dir": run_dir, "env_name": env_name,
                  "has_token": bool(os.environ.get(params["auth"]["bearer_token_env"]))})
print("$x^2$ and some output")
'''

PASS_CELL = '''
import scrapbook as sb
sb.glue("mc_scenario_000", {"name": "ok", "duration_s": 0.1, "requests": [], "checks": [
    {"name": "fine", "expected": "1", "actual": "1", "passed": True, "error_code": None}]})
'''

CRASH_CELLS = [
    '''
import scrapbook as sb
sb.glue("mc_scenario_000", {"name": "before crash", "duration_s": 0.1, "requests": [], "checks": [
    {"name": "fine", "expected": "1", "actual": "1", "passed": True, "error_code": None}]})
''',
    'raise RuntimeError("boom: the hub said no")',
]


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Fixture\nmath: $a+b$"), params]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, str(path))
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "OK"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="session")
def stub_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def params_doc(base: str) -> dict:
    """A valid non-embedded params document whose services all live at `base`."""
    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / "params" / "local.yaml").read_text())
    doc["hub"]["embedded"] = False
    doc["sim"]["embedded"] = False
    doc["services"] = {k: f"{base}{v.removeprefix('http://127.0.0.1:4040')}" for k, v in doc["services"].items()}
    doc["sim"]["url"] = doc["sim"]["public_url"] = base
    return doc


def make_project(root: Path, base: str, notebooks: dict[str, list[str]]) -> Path:
    (root / "params").mkdir(parents=True)
    (root / "params" / "test.yaml").write_text(yaml.safe_dump(params_doc(base)))
    nb_dir = root / "notebooks"
    nb_dir.mkdir()
    for name, cells in notebooks.items():
        write_notebook(nb_dir / name, cells)
    return root
