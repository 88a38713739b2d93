"""A notebook's connection to one environment: clients, scenarios, checks and the evidence they leave.

`connect()` is the first call of every notebook. The session records every request, response and callback
into the scenario that is open, and at the end of the scenario shows them and glues them as a scrap.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from mojacheck.clients.admin import Admin
from mojacheck.clients.sim import Callback, SimControl
from mojacheck.evidence import render as evidence
from mojacheck.evidence.callback_headers import FSPIOP_RESOURCES, check_headers, header_check_name
from mojacheck.evidence.checks import Check, Record, Scenario, Totals, unique_name
from mojacheck.evidence.conformance import Conformance
from mojacheck.expectations import Expectations, from_params
from mojacheck.fspiop import Exchange, HttpClient, jws, request_headers
from mojacheck.fspiop.client import dump_json
from mojacheck.fspiop.errors import MojacheckError, ScenarioStopped, UnexpectedResponse

__all__ = ["Session", "connect"]


class Session:
    """A notebook's connection to one environment (made by `connect`): HTTP client, simulator (`sim`), operator
    APIs (`admin`), release expectations, and the scenarios with their checks and evidence."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.services: dict[str, str] = {k: v.rstrip("/") for k, v in params["services"].items()}
        self.release = str(params["hub"]["release"])
        # What this hub release (with the deployment flags) is expected to answer: lib/mojacheck/expectations.py.
        self.expectations: Expectations = from_params(params)
        self.api_version = str(params["api"]["version"])
        self.timeout = float(params["timeouts"]["callback_s"])
        # How long an absence is watched for (steps/silence.py); half the callback deadline unless the params say.
        self.silence = float(params["timeouts"].get("silence_s") or self.timeout / 2)
        # Callback bodies against the official FSPIOP OpenAPI files (api.spec_dir); off when null or absent.
        self.conformance = Conformance(params["api"].get("spec_dir"))
        self.http = HttpClient(token=_secret(params, "auth", "bearer_token_env"), verify=_verify(params),
                               cert=_cert(params), key_password=_secret(params, "tls", "client_key_password_env"),
                               timeout=float(params["timeouts"]["http_s"]))
        self.sim = SimControl(params["sim"]["url"], self._request)
        # The hub's JWS public key (jws.hub_public_key): with it, every hub-made callback's signature is checked.
        hub_key_file = (params.get("jws") or {}).get("hub_public_key")
        self.hub_key = jws.load_public_key(hub_key_file) if hub_key_file else None
        self.admin = Admin(self)
        self.scenarios: list[Scenario] = []
        self._scenario_names: set[str] = set()  # keys of the scenario names used, for unique_name
        self._last_sent: datetime | None = None  # when the newest recorded request went out
        self._current: Scenario | None = None

    # -- requests -----------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, *, headers: dict[str, str] | None = None, json: Any = None,
                 record: bool = True, content: bytes | None = None) -> Exchange:
        exchange = self.http.request(method, url, headers=headers, json=json, content=content)
        if record:
            self._last_sent = exchange.started
        if record and self._current is not None:
            self._current.records.append(Record(
                "request", method, url, exchange.status, exchange.elapsed_ms, exchange.request_headers,
                exchange.request_body, exchange.response_body))
        return exchange

    def call(self, service: str, method: str, path: str, *, json: Any = None,
             ok: tuple[int, ...] = (200, 201, 202, 204)) -> Exchange:
        """An operator (admin/settlement) API call; a status outside `ok` raises UnexpectedResponse."""
        exchange = self._request(method, f"{self.services[service]}{path}", json=json,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
        if exchange.status not in ok:
            raise UnexpectedResponse(f"{method} {service}{path} answered {exchange.status}: "
                                     f"{exchange.response_body}", response=exchange)
        return exchange

    def fspiop(self, method: str, service: str, path: str, *, source: str, destination: str | None = None,
               body: Any = None, version: str | None = None, headers: dict[str, str] | None = None) -> Exchange:
        """Send an FSPIOP request as FSP `source`; the answer is the synchronous one (202 or an error)."""
        resource = path.strip("/").split("/")[0]
        sent = request_headers(resource, source, destination, version=version or self.api_version,
                               accept=method in ("GET", "POST", "DELETE"))
        if method in ("PUT", "PATCH"):
            sent.pop("Accept", None)
        # As an FSP's connector (SDK, TTK) sends them; they are also what a JWS signature protects.
        sent.update({"FSPIOP-URI": path.split("?", 1)[0], "FSPIOP-HTTP-Method": method.upper()})
        sent.update(headers or {})
        raw = None if body is None else dump_json(body)
        key = self.fsp_signing_key(source)
        if key is not None and raw is not None:
            sent = jws.signed_headers(sent, raw, key)
        return self._request(method, f"{self.services[service]}{path}", headers=sent, content=raw)

    def fsp_signing_key(self, fsp: str) -> Any:
        """The JWS key the session signs with as `fsp` (``<fsp>.key`` in jws.fsp_keys_dir), None when it does not."""
        folder = (self.params.get("jws") or {}).get("fsp_keys_dir")
        file = Path(folder) / f"{fsp}.key" if folder else None
        return jws.load_private_key(file) if file is not None and file.is_file() else None

    def await_callback(self, fsp: str, resource: str, key: str, *, after: int, error: bool | None = None,
                       method: str | None = "PUT", timeout: float | None = None) -> Callback:
        """Wait (with the params' deadline) for the hub to deliver a callback to `fsp`; record it as evidence."""
        cb = self.sim.wait_for(fsp, resource, key, after=after, method=method, error=error,
                               timeout=timeout or self.timeout)
        if self._current is not None:
            # Latency of the asynchronous answer: from sending the request that caused it to the simulator
            # receiving the callback (the simulator's clock; clamped at 0 if the two clocks disagree).
            since = (cb.received - self._last_sent).total_seconds() * 1000 if self._last_sent else 0.0
            self._current.records.append(Record("callback", cb.method, cb.path, None, max(0.0, since), cb.headers,
                                                cb.body, note=f"to {cb.fsp}, after the request"))
            self._check_headers(cb)
            # The body's shape against the spec's operation (named by its path template, so the name is stable).
            outcome = self.conformance.check(cb.method, cb.path, cb.headers, cb.body)
            if outcome is not None:
                # A body in the version the hub itself originates names it in the check, and that version
                # changes with the release (1.1 at 13, 2.0 at 17): say so, so a run comparison pairs the two.
                own = "hub_content_version" if outcome.version == self.expectations.hub_content_version else None
                self._current.check(outcome.check_name, "no violations", outcome.actual, expectation=own)
        return cb

    def _check_headers(self, cb: Callback) -> None:
        """Mojaloop's callback header contract (evidence/callback_headers.py), one check per awaited callback,
        named by the callback's path template (the scenario numbers a repeat)."""
        assert self._current is not None
        exp = self.expectations
        resource = cb.path.strip("/").split("/")[0]
        if resource not in FSPIOP_RESOURCES:
            return
        verdict = check_headers(cb.method, cb.path, cb.fsp, cb.headers, cb.body, hub_name=exp.hub_name,
                                hub_version=exp.hub_version(resource), hub_key=self.hub_key)
        self._current.check(header_check_name(cb.method, cb.path), "as Mojaloop sends them",
                            verdict.actual, expectation="hub_name" if verdict.hub_made else None)

    # -- scenarios and checks -----------------------------------------------------------------------------
    @contextmanager
    def scenario(self, name: str, *, expectation: str | None = None, required: bool = False) -> Iterator[Scenario]:
        """Group checks and evidence. An error inside is a failed check, and the notebook goes on. A name this
        notebook already used gets the next ordinal (" #2"). `expectation` names the release-expectations entry its
        checks assert unless they name their own (a scenario that only some releases have, e.g. `fx_available`).
        `required`: the rest of the notebook builds on this scenario (its ids, its positions), so when it cannot
        run to the end the notebook stops after recording the failure, with one sentence (`ScenarioStopped`),
        instead of failing later cells on names it never set."""
        current = Scenario(unique_name(name, self._scenario_names), len(self.scenarios), expectation=expectation)
        self.scenarios.append(current)
        self._current = current
        stopped: Exception | None = None
        try:
            yield current
        except Exception as exc:
            detail = str(exc) if isinstance(exc, MojacheckError) else traceback.format_exc(limit=3)
            current.check("scenario ran to the end", "no error", f"{type(exc).__name__}: {detail}")
            stopped = exc if required else None
        finally:
            self._finish(current)
        if stopped is not None:
            raise ScenarioStopped(f"the rest of this notebook builds on the scenario \u201c{current.name}\u201d, which "
                                  f"stopped ({type(stopped).__name__}); its failed check says why") from stopped

    def _finish(self, scenario: Scenario) -> None:
        scenario.finished = time.monotonic()
        if not scenario.checks:
            scenario.check("scenario made at least one check", "≥ 1 check", "0 checks")
        self._current = None
        evidence.show_html(evidence.scenario_html(scenario), evidence.scenario_text(scenario))
        evidence.glue(f"mc_scenario_{scenario.index:03d}", scenario.to_scrap())

    def check(self, name: str, expected: Any, actual: Any, **kwargs: Any) -> Check:
        """Record a check in the open scenario (keywords as `Scenario.check`); MojacheckError outside a scenario."""
        if self._current is None:
            raise MojacheckError(f"check {name!r} made outside a scenario: open one with `with run.scenario(...)`")
        return self._current.check(name, expected, actual, **kwargs)

    def summary(self) -> Totals:
        """Counts so far (scenarios, checks, failed checks), shown as one readable line."""
        checks = [c for s in self.scenarios for c in s.checks]
        return Totals(scenarios=len(self.scenarios), checks=len(checks),
                      failed=sum(1 for c in checks if not c.passed),
                      failed_scenarios=sum(1 for s in self.scenarios if any(not c.passed for c in s.checks)))

    def close(self) -> None:
        """Close the session's HTTP client."""
        self.http.close()


def _secret(params: dict[str, Any], section: str, key: str) -> str | None:
    name = (params.get(section) or {}).get(key)
    return os.environ.get(name) if name else None


def _verify(params: dict[str, Any]) -> bool | str:
    tls = params.get("tls") or {}
    return tls.get("ca_file") or bool(tls.get("verify", True))


def _cert(params: dict[str, Any]) -> tuple[str, str] | None:
    tls = params.get("tls") or {}
    if tls.get("client_cert") and tls.get("client_key"):
        return (tls["client_cert"], tls["client_key"])
    return None


def connect(params: dict[str, Any] | None = None, *, env: str = "local") -> Session:
    """Open a session. Papermill passes `params`; in JupyterLab leave it None to load `params/{env}.yaml`."""
    if params is None:
        from mojacheck.params import load_params

        params = load_params(env).public_dict()
    return Session(params)
