"""Test support for the hub: a fake FSP receiver that records callbacks, an FSPIOP client, provisioning."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import condition_for, request_headers
from mojacheck.fspiop.endpoints import FSPIOP_ENDPOINTS
from mojacheck.hub import HubConfig, create_app
from mojacheck.server import ServerThread

WAIT_S = 5.0
CURRENCY = "USD"


@dataclass
class Received:
    fsp: str
    method: str
    path: str  # after the FSP prefix: /transfers/abc/error
    headers: dict[str, str]
    body: Any
    query: str = ""

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and "errorInformation" in self.body:
            return str(self.body["errorInformation"]["errorCode"])
        return None


@dataclass
class Receiver:
    """Every FSP's callback base is ``{url}/{fspId}``; what arrives is recorded and can be waited on."""

    items: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        fsp, _, rest = request.url.path.lstrip("/").partition("/")
        item = Received(fsp, request.method, "/" + rest, {k.lower(): v for k, v in request.headers.items()},
                        json.loads(raw) if raw else None, request.url.query)
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()
        return Response(status_code=200 if request.method in ("PUT", "PATCH") else 202)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])

    def wait(self, predicate: Callable[[Received], bool], timeout: float = WAIT_S) -> Received:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(i.fsp, i.method, i.path, i.error_code) for i in self.items[-10:]]
                    raise AssertionError(f"no matching callback within {timeout}s; last seen: {seen}")
                self.cond.wait(left)

    def get(self, fsp: str, method: str, path: str, timeout: float = WAIT_S) -> Received:
        return self.wait(lambda i: i.fsp == fsp and i.method == method and i.path == path, timeout)

    def find(self, fsp: str, method: str, path: str) -> list[Received]:
        with self.cond:
            return [i for i in self.items if i.fsp == fsp and i.method == method and i.path == path]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def fspiop_headers(resource: str, source: str, destination: str | None = None, *, version: str = "1.1",
                   accept: bool = True) -> dict[str, str]:
    return request_headers(resource, source, destination, version=version, accept=accept)


class HubClient:
    """Admin and FSPIOP calls against one running hub."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=WAIT_S, headers=headers)
        # httpx sends "Accept: */*" by default; FSPIOP callbacks must carry no Accept at all.
        del self.http.headers["accept"]

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, "/admin" + path, json=body)

    def fspiop(self, method: str, path: str, source: str, destination: str | None = None, body: Any = None, *,
               version: str = "1.1", headers: dict[str, str] | None = None) -> httpx.Response:
        resource = path.lstrip("/").split("/", 1)[0]
        hdrs = fspiop_headers(resource, source, destination, version=version,
                              accept=method in ("GET", "POST", "DELETE"))
        hdrs.update(headers or {})
        content = None if body is None else json.dumps(body).encode()
        return self.http.request(method, path, headers=hdrs, content=content)

    def position(self, fsp: str, currency: str = CURRENCY) -> str:
        r = self.admin("GET", f"/participants/{fsp}/positions?currency={currency}")
        assert r.status_code == 200, r.text
        return str(r.json()["value"])

    def account_value(self, fsp: str, ledger_type: str, currency: str = CURRENCY) -> str:
        r = self.admin("GET", f"/participants/{fsp}/accounts")
        for acct in r.json():
            if acct["ledgerAccountType"] == ledger_type and acct["currency"] == currency:
                return str(acct["value"])
        raise AssertionError(f"no {ledger_type} account for {fsp}")


def provision_hub(client: HubClient, currency: str = CURRENCY) -> None:
    """Hub accounts and a default settlement model; tolerant of a hub that already has them."""
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        r = client.admin("POST", "/participants/Hub/accounts", {"type": kind, "currency": currency})
        assert r.status_code == 201 or r.json()["errorInformation"]["errorCode"] == "3003", r.text
    r = client.admin("POST", "/settlementModels", {
        "name": "DEFERRED_NET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True})
    assert r.status_code == 201 or r.json()["errorInformation"]["errorCode"] == "3000", r.text
    r = client.http.post("/als-admin/oracles", json={
        "oracleIdType": "MSISDN", "endpoint": {"value": "builtin", "endpointType": "URL"}, "isDefault": True})
    assert r.status_code == 201, r.text


def provision_fsp(client: HubClient, receiver_url: str, name: str, *, ndc: str = "10000", funds: str | None = "10000",
                  currency: str = CURRENCY) -> None:
    r = client.admin("POST", "/participants", {"name": name, "currency": currency})
    assert r.status_code == 201, r.text
    r = client.admin("POST", f"/participants/{name}/initialPositionAndLimits",
                     {"currency": currency, "limit": {"type": "NET_DEBIT_CAP", "value": ndc}, "initialPosition": 0})
    assert r.status_code == 201, r.text
    base = f"{receiver_url}/{name}"
    for kind, template in FSPIOP_ENDPOINTS.items():
        r = client.admin("POST", f"/participants/{name}/endpoints", {"type": kind,
                                                                     "value": template.replace("{BASE}", base)})
        assert r.status_code == 201, r.text
    if funds is not None:
        fund(client, name, funds, currency)


def fund(client: HubClient, name: str, amount: str, currency: str = CURRENCY) -> None:
    accounts = client.admin("GET", f"/participants/{name}/accounts").json()
    settlement = next(a for a in accounts if a["ledgerAccountType"] == "SETTLEMENT" and a["currency"] == currency)
    r = client.admin("POST", f"/participants/{name}/accounts/{settlement['id']}", {
        "transferId": str(uuid.uuid4()), "externalReference": "test", "action": "recordFundsIn",
        "reason": "test funding", "amount": {"amount": amount, "currency": currency}})
    assert r.status_code == 202, r.text


def iso(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")


FULFILMENT = "WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"
# The hub never decodes the packet in FSPIOP mode; any base64url text will do.
ILP_PACKET = "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w"


def transfer_body(payer: str, payee: str, amount: str = "100", *, expires_in: float = 60.0,
                  fulfilment: str = FULFILMENT) -> dict[str, Any]:
    return {
        "transferId": str(uuid.uuid4()),
        "payerFsp": payer,
        "payeeFsp": payee,
        "amount": {"amount": amount, "currency": CURRENCY},
        "ilpPacket": ILP_PACKET,
        "condition": condition_for(fulfilment),
        "expiration": iso(timedelta(seconds=expires_in)),
    }


@contextmanager
def running_hub(db_path: str, *, release: str = "17", token: str | None = None,
                expiry_interval_s: float = 0.2, **options: Any) -> Iterator[HubClient]:
    """A hub on a free loopback port; ``options`` are further HubConfig fields (content_version, …)."""
    config = HubConfig(db_path=db_path, release=release, expiry_interval_s=expiry_interval_s, bearer_token=token,
                       **options)
    with ServerThread(create_app(config)) as server:
        client = HubClient(server.url, token)
        try:
            yield client
        finally:
            client.http.close()
