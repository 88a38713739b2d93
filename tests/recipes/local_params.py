"""params/local.yaml as the recipe tests use it: the embedded hub and simulator on free loopback ports, so a
recipe run never meets the user's own hub (4040/4041) or another test's."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def on_free_ports(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a parsed local.yaml) with hub and simulator on free ports; services and the oracle follow the hub."""
    hub, sim = free_port(), free_port()
    url = f"http://127.0.0.1:{hub}"
    data["hub"].update(port=hub)
    data["sim"].update(port=sim, url=f"http://127.0.0.1:{sim}", public_url=f"http://127.0.0.1:{sim}")
    data["services"] = {"als": url, "als_admin": f"{url}/als-admin", "quoting": url, "ml_api_adapter": url,
                        "central_ledger_admin": f"{url}/admin", "central_settlement": f"{url}/settlement/v2",
                        "thirdparty": url}
    data["provisioning"]["oracle_endpoint"] = f"{url}/oracle"
    return data


def write_params(project: Path, env: str, **changes: Any) -> None:
    """``project/params/<env>.yaml``: local.yaml on free ports, its database under ``outputs/<env>/``, ``changes``
    on top (top-level keys)."""
    data = on_free_ports(yaml.safe_load((ROOT / "params" / "local.yaml").read_text()))
    data["hub"]["db"] = str(project / "outputs" / env / "hub.sqlite3")
    data.update(changes)
    (project / "params" / f"{env}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
