"""An embedded hub and simulator on free loopback ports with a throwaway database, for the load engine's tests
(Locust itself always runs as a subprocess: importing it here would monkey-patch pytest's interpreter)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mojacheck.params import Params, params_from_dict
from mojacheck.runner import services

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_params(tmp: Path) -> dict:
    """params/local.yaml on free ports with a database of its own."""
    data = yaml.safe_load((ROOT / "params" / "local.yaml").read_text(encoding="utf-8"))
    hub, sim = free_port(), free_port()
    base = f"http://127.0.0.1:{hub}"
    data["hub"].update(port=hub, db=str(tmp / "hub.sqlite3"))
    data["services"] = {k: v.replace("http://127.0.0.1:4040", base) for k, v in data["services"].items()}
    data["provisioning"]["oracle_endpoint"] = f"{base}/oracle"
    data["sim"].update(port=sim, url=f"http://127.0.0.1:{sim}", public_url=f"http://127.0.0.1:{sim}")
    return data


@pytest.fixture(scope="package")
def hub_params(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Params, Path]]:
    """Params of a running embedded hub and simulator, and a params file holding them."""
    tmp = tmp_path_factory.mktemp("load")
    data = local_params(tmp)
    params = params_from_dict(data, root=ROOT)
    params_file = tmp / "params.yaml"
    params_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    with services.embedded_services(params, tmp, cwd=ROOT):
        yield params, params_file
