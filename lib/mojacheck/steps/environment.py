"""What `00_environment` shows: the params in force (no secrets) and each service's health and version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mojacheck.evidence import render as evidence
from mojacheck.fspiop.errors import HubUnreachable

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["check_all", "flatten", "health", "show_params", "show_spec_validation"]


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict as one level, keys joined with dots ("hub.release"), each prefixed with `prefix`."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def show_params(params: dict[str, Any]) -> None:
    """Params as a table. They hold env-var names for secrets, never the secrets themselves."""
    rows = "".join(f"<tr><td><code>{k}</code></td><td>{evidence.html.escape(str(v))}</td></tr>"
                   for k, v in flatten(params).items())
    text = "\n".join(f"{k} = {v}" for k, v in flatten(params).items())
    evidence.show_html(f"<table><tr><th>param</th><th>value</th></tr>{rows}</table>", text)


def show_spec_validation(s: Session) -> str:
    """Print whether callback bodies are validated against the FSPIOP OpenAPI files (api.spec_dir), and why not.
    A note only: it makes no check, so a run without the spec files counts nothing as passed for it."""
    note = s.conformance.note()
    print(note)
    return note


# What each Mojaloop service's health lists (central-services-shared HealthCheck; TTK bug fix #1009): ml-api-adapter
# and central-ledger their Kafka broker, account-lookup-service and central-settlement their datastore. The
# quoting-service in simple routing mode (helm's default) lists nothing, the thirdparty service its own.
HEALTH_DEPENDENCIES = {"ml_api_adapter": "broker", "central_ledger_admin": "broker", "als": "datastore",
                       "als_admin": "datastore", "central_settlement": "datastore"}


def health(s: Session, name: str, url: str) -> dict[str, Any]:
    """GET {url}/health, checked: answers 200 with status OK, and (for a Mojaloop service that has one) lists its
    broker or datastore as OK, in Mojaloop's health shape. Returns the body ({} when unreachable)."""
    try:
        ex = s._request("GET", f"{url.rstrip('/')}/health")
    except HubUnreachable as exc:
        s.check(f"{name} answers /health", "200 OK", str(exc))
        return {}
    body = ex.response_body if isinstance(ex.response_body, dict) else {}
    s.check(f"{name} answers /health", "200 OK", f"{ex.status} {body.get('status', '')}".strip())
    if (dependency := HEALTH_DEPENDENCIES.get(name)) is not None:
        listed = {str(i.get("name")): str(i.get("status")) for i in body.get("services") or [] if isinstance(i, dict)}
        s.check(f"{name} health lists its {dependency} as OK", "OK", listed.get(dependency, "not listed"))
        s.check(f"{name} health gives uptime, startTime, versionNumber", True,
                all(key in body for key in ("uptime", "startTime", "versionNumber")))
    return body


def check_all(s: Session) -> dict[str, Any]:
    """Health of every configured service and the simulator; returns {service: version or release}."""
    versions: dict[str, Any] = {}
    seen: dict[str, dict[str, Any]] = {}
    for name, url in s.services.items():
        body = health(s, name, url)
        seen[name] = body
        versions[name] = body.get("versionNumber") or body.get("version") or body.get("release")
    health(s, "simulator", s.params["sim"]["url"])
    reported = {str(b["release"]) for b in seen.values() if b.get("release") is not None}
    if reported:  # the embedded hub says which release it plays; a real Mojaloop only gives versions
        s.check("hub plays the release the params expect", s.release, ", ".join(sorted(reported)))
        for b in seen.values():
            versions.update({f"component:{k}": v for k, v in (b.get("versions") or {}).items()})
    return versions
