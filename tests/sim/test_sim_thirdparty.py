"""The simulator's 3PPI roles against the real embedded hub: linking (WEB, OTP), linking errors, a PISP-initiated
transaction with positions, a rejected authorization, unlinking and a refused transaction after it."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mojacheck.fspiop import request_headers
from mojacheck.fspiop.thirdparty import KeyPair, consent_challenge, derive_challenge, verify
from mojacheck.hub import HubConfig
from mojacheck.hub import create_app as create_hub
from mojacheck.server.serve import ServerThread
from mojacheck.sim import SimConfig
from mojacheck.sim import create_app as create_sim

WAIT_S = 10.0
CUR = "USD"
PISP, DFSP_A, DFSP_B, AUTH = "pispx", "dfspa", "dfspb", "centralAuth"
TP_ALL = (
    "TRANSACTION_REQUEST_POST", "TRANSACTION_REQUEST_PUT", "TRANSACTION_REQUEST_GET", "TRANSACTION_REQUEST_PUT_ERROR",
    "TRANSACTION_REQUEST_PATCH", "TRANSACTION_REQUEST_AUTH_PUT", "TRANSACTION_REQUEST_AUTH_PUT_ERROR",
    "TRANSACTION_REQUEST_VERIFY_PUT", "TRANSACTION_REQUEST_VERIFY_PUT_ERROR", "CONSENT_REQUEST_PUT",
    "CONSENT_REQUEST_PUT_ERROR", "CONSENT_REQUEST_PATCH", "CONSENT_POST", "CONSENT_PUT", "CONSENT_PATCH",
    "CONSENT_PUT_ERROR", "ACCOUNTS_GET", "ACCOUNTS_PUT", "ACCOUNTS_PUT_ERROR", "SERVICES_PUT", "SERVICES_PUT_ERROR",
)
FSPIOP = {
    "FSPIOP_CALLBACK_URL_PARTIES_GET": "/parties/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTIES_PUT": "/parties/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR": "/parties/{{partyIdType}}/{{partyIdentifier}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT": "/participants/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR": "/participants/{{partyIdType}}/{{partyIdentifier}}/error",
    "FSPIOP_CALLBACK_URL_QUOTES": "",
    "FSPIOP_CALLBACK_URL_TRANSFER_POST": "/transfers",
    "FSPIOP_CALLBACK_URL_TRANSFER_PUT": "/transfers/{{transferId}}",
    "FSPIOP_CALLBACK_URL_TRANSFER_ERROR": "/transfers/{{transferId}}/error",
}


@dataclass
class Net:
    hub: httpx.Client
    sim: httpx.Client
    sim_url: str

    def tp(self, method: str, path: str, source: str, destination: str | None, body: Any = None) -> None:
        resource = path.strip("/").split("/")[0]
        headers = request_headers(resource, source, destination, version="1.0",
                                  accept=method in ("GET", "POST", "DELETE"))
        r = self.hub.request(method, path, headers=headers, json=body)
        assert r.status_code in (200, 202), r.text

    def mark(self) -> int:
        return int(self.sim.get("/_sim/inbox", params={"fsp": "-"}).json()["last"])

    def wait(self, fsp: str, method: str, path: str, after: int) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            items = self.sim.get("/_sim/inbox", params={"fsp": fsp, "method": method, "after": after,
                                                        "direction": "in", "wait": 1}).json()["items"]
            for item in items:
                if item["path"] in (path, path + "/error"):
                    return item
            after = max([after, *(i["seq"] for i in items)])
        raise AssertionError(f"no {method} {path} to {fsp}")

    def position(self, fsp: str) -> str:
        return str(self.hub.get(f"/admin/participants/{fsp}/positions", params={"currency": CUR}).json()["value"])


def _provision(hub: httpx.Client, sim_url: str, hub_url: str) -> None:
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        hub.post("/admin/participants/Hub/accounts", json={"type": kind, "currency": CUR})
    hub.post("/admin/settlementModels", json={
        "name": "DEFERRED_NET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True})
    for kind in ("MSISDN", "CONSENT", "THIRD_PARTY_LINK"):
        hub.post("/als-admin/oracles", json={"oracleIdType": kind, "endpoint": {"value": "builtin",
                                                                               "endpointType": "URL"}})
    for name in (PISP, DFSP_A, DFSP_B, AUTH):
        assert hub.post("/admin/participants", json={"name": name, "currency": CUR}).status_code == 201
        base = f"{sim_url}/{name}"
        types = {f"TP_CB_URL_{t}": base for t in TP_ALL}
        types.update({k: base + v for k, v in FSPIOP.items()})
        if name == PISP:
            types["TP_CB_URL_TRANSACTION_REQUEST_AUTH_POST"] = base
        elif name == AUTH:
            types = {"TP_CB_URL_CONSENT_POST": f"{hub_url}/auth-service",
                     "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_POST": f"{hub_url}/auth-service"}
        else:
            types["TP_CB_URL_CONSENT_REQUEST_POST"] = base
        for kind, value in types.items():
            assert hub.post(f"/admin/participants/{name}/endpoints", json={"type": kind, "value": value}).is_success
        if name in (DFSP_A, DFSP_B):
            hub.post(f"/admin/participants/{name}/initialPositionAndLimits", json={
                "currency": CUR, "limit": {"type": "NET_DEBIT_CAP", "value": "10000"}, "initialPosition": 0})
            acct = next(a for a in hub.get(f"/admin/participants/{name}/accounts").json()
                        if a["ledgerAccountType"] == "SETTLEMENT")
            hub.post(f"/admin/participants/{name}/accounts/{acct['id']}", json={
                "transferId": str(uuid.uuid4()), "externalReference": "t", "action": "recordFundsIn",
                "reason": "t", "amount": {"amount": "10000", "currency": CUR}})


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    db = str(Path(tmp_path_factory.mktemp("tp")) / "hub.sqlite")
    with ServerThread(create_hub(HubConfig(db_path=db, expiry_interval_s=0.5))) as hub_server, \
            ServerThread(create_sim(SimConfig(hub_url=hub_server.url, bearer_token=""))) as sim_server, \
            httpx.Client(base_url=hub_server.url, timeout=WAIT_S) as hub, \
            httpx.Client(base_url=sim_server.url, timeout=WAIT_S + 5) as sim:
        del hub.headers["accept"]  # FSPIOP PUT/PATCH callbacks carry no Accept at all
        _provision(hub, sim_server.url, hub_server.url)
        sim.put(f"/_sim/parties/{DFSP_B}/MSISDN/123456789", json={"partyIdInfo": {"partyIdType": "MSISDN",
                                                                                   "partyIdentifier": "123456789"}})
        yield Net(hub, sim, sim_server.url)


def new_user(net: Net) -> tuple[str, str]:
    user, address = f"user-{uuid.uuid4().hex[:8]}", f"acc.{uuid.uuid4().hex[:10]}"
    r = net.sim.put(f"/_sim/thirdparty/{DFSP_A}/users/{user}", json={"accounts": [
        {"accountNickname": "Chequing", "address": address, "currency": CUR}]})
    assert r.status_code == 200, r.text
    return user, address


def request_consent(net: Net, user: str, address: str, channels: list[str]) -> tuple[str, dict[str, Any]]:
    cr_id = str(uuid.uuid4())
    mark = net.mark()
    net.tp("POST", "/consentRequests", PISP, DFSP_A, {
        "consentRequestId": cr_id, "userId": user, "scopes": [{"address": address, "actions": ["ACCOUNTS_TRANSFER"]}],
        "authChannels": channels, "callbackUri": "pisp-app://linked"})
    return cr_id, net.wait(PISP, "PUT", f"/consentRequests/{cr_id}", mark)


def link(net: Net, channel: str = "OTP") -> tuple[str, str]:
    user, address = new_user(net)
    cr_id, answer = request_consent(net, user, address, [channel])
    assert not answer["error"], answer["body"]
    if channel == "OTP":
        token = net.sim.get(f"/_sim/thirdparty/{DFSP_A}/otp/{cr_id}").json()["otp"]
    else:
        auth_uri = answer["body"]["authUri"]
        r = net.sim.get(urllib.parse.urlparse(auth_uri).path, follow_redirects=False)
        assert r.status_code == 302
        token = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["location"]).query)["secret"][0]
    mark = net.mark()
    net.tp("PATCH", f"/consentRequests/{cr_id}", PISP, DFSP_A, {"authToken": token})
    post = net.wait(PISP, "POST", "/consents", mark)
    consent_id = post["body"]["consentId"]
    final = net.wait(PISP, "PUT", f"/consents/{consent_id}", mark)
    assert not final["error"], final["body"]
    assert final["body"]["credential"]["status"] == "VERIFIED"
    return consent_id, address


def pay(net: Net, address: str, amount: str = "10") -> tuple[str, int]:
    tr_id = str(uuid.uuid4())
    mark = net.mark()
    net.tp("POST", "/thirdpartyRequests/transactions", PISP, DFSP_A, {
        "transactionRequestId": tr_id,
        "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123456789", "fspId": DFSP_B}},
        "payer": {"partyIdType": "THIRD_PARTY_LINK", "partyIdentifier": address, "fspId": DFSP_A},
        "amountType": "SEND", "amount": {"amount": amount, "currency": CUR},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
        "expiration": "2099-01-01T00:00:00.000Z"})
    return tr_id, mark


def test_crypto_signature_breaks_when_one_byte_of_the_challenge_changes() -> None:
    key = KeyPair()
    challenge = derive_challenge({"transferAmount": {"amount": "10", "currency": CUR}})
    signature = key.sign(challenge)
    assert verify(key.public_key, challenge, signature)
    changed = bytearray(challenge.encode())
    changed[5] ^= 0x01
    assert not verify(key.public_key, changed.decode(), signature)
    assert "PRIVATE" not in repr(key)


def test_consent_challenge_depends_on_scopes() -> None:
    scopes = [{"address": "a", "actions": ["ACCOUNTS_TRANSFER"]}]
    assert consent_challenge("c", scopes) != consent_challenge("c", [{**scopes[0], "address": "b"}])


@pytest.mark.parametrize("channel", ["OTP", "WEB"])
def test_linking(net: Net, channel: str) -> None:
    consent_id, address = link(net, channel)
    state = net.sim.get(f"/_sim/thirdparty/{DFSP_A}").json()
    assert state["consents"][consent_id] == "ACTIVE" and state["links"][address] == consent_id


def test_linking_errors(net: Net) -> None:
    user, address = new_user(net)
    net.sim.put(f"/_sim/thirdparty/{DFSP_A}/dfsp", json={"authChannels": ["OTP"]})
    try:
        _, answer = request_consent(net, user, address, ["WEB"])
    finally:
        net.sim.put(f"/_sim/thirdparty/{DFSP_A}/dfsp", json={"authChannels": ["WEB", "OTP"]})
    assert answer["error"] and answer["body"]["errorInformation"]["errorCode"] == "7203"
    cr_id, answer = request_consent(net, user, address, ["OTP"])
    mark = net.mark()
    net.tp("PATCH", f"/consentRequests/{cr_id}", PISP, DFSP_A, {"authToken": "000000x"})
    err = net.wait(PISP, "PUT", f"/consentRequests/{cr_id}", mark)
    assert err["error"] and err["body"]["errorInformation"]["errorCode"] == "7205"
    rule = net.sim.post("/_sim/rules", json={"resource": "consents", "behaviour": "bad_signature",
                                             "match": {"id": cr_id}}).json()["id"]
    try:
        otp = net.sim.get(f"/_sim/thirdparty/{DFSP_A}/otp/{cr_id}").json()["otp"]
        mark = net.mark()
        net.tp("PATCH", f"/consentRequests/{cr_id}", PISP, DFSP_A, {"authToken": otp})
        consent_id = net.wait(PISP, "POST", "/consents", mark)["body"]["consentId"]
        err = net.wait(PISP, "PUT", f"/consents/{consent_id}", mark)
    finally:
        net.sim.delete(f"/_sim/rules/{rule}")
    assert err["error"] and err["body"]["errorInformation"]["errorCode"] == "7213"


def test_transaction_rejection_unlinking(net: Net) -> None:
    consent_id, address = link(net)
    a_before, b_before = net.position(DFSP_A), net.position(DFSP_B)
    tr_id, mark = pay(net, address, "12.5")
    path = f"/thirdpartyRequests/transactions/{tr_id}"
    received = net.wait(PISP, "PUT", path, mark)
    assert received["body"]["transactionRequestState"] == "RECEIVED"
    auth = net.wait(PISP, "POST", "/thirdpartyRequests/authorizations", mark)
    assert auth["body"]["transactionRequestId"] == tr_id
    patch = net.wait(PISP, "PATCH", path, mark)
    assert patch["body"]["transactionState"] == "COMPLETED", patch
    from decimal import Decimal
    assert Decimal(net.position(DFSP_A)) == Decimal(a_before) + Decimal("12.5")
    assert Decimal(net.position(DFSP_B)) == Decimal(b_before) - Decimal("12.5")

    tr_id, mark = pay(net, address, "1")
    rule = net.sim.post("/_sim/rules", json={"resource": "authorizations", "behaviour": "reject",
                                             "match": {"id": tr_id}}).json()["id"]
    try:
        err = net.wait(PISP, "PUT", f"/thirdpartyRequests/transactions/{tr_id}/error", mark)
    finally:
        net.sim.delete(f"/_sim/rules/{rule}")
    assert err["body"]["errorInformation"]["errorCode"] == "7106"

    mark = net.mark()
    net.tp("DELETE", f"/consents/{consent_id}", PISP, DFSP_A)
    assert net.wait(PISP, "PATCH", f"/consents/{consent_id}", mark)["body"]["status"] == "REVOKED"
    tr_id, mark = pay(net, address, "1")
    err = net.wait(PISP, "PUT", f"/thirdpartyRequests/transactions/{tr_id}", mark)
    assert err["error"] and err["body"]["errorInformation"]["errorCode"] == "7213"
