"""The simulator as payee: parties, quotes with ILP, transfers with fulfilments, against a fake hub."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sim_support import PAYEE, PAYER, FakeHub, deliver, quote, transfer_body

from mojacheck.fspiop import jws, new_id
from mojacheck.server.serve import ServerThread
from mojacheck.sim import SimConfig, create_app


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256_b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def put_party(sim: httpx.Client, path: str, name: str) -> None:
    resp = sim.put(f"/_sim/parties/{PAYEE}/{path}", json={"name": name, "personalInfo": {}})
    assert resp.status_code == 200, resp.text


def test_party_found_with_sub_id(sim: httpx.Client, hub: FakeHub) -> None:
    put_party(sim, "MSISDN/27710000001/savings", "Savings")
    put_party(sim, "MSISDN/27710000001", "Main")
    assert deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/27710000001/savings").status_code == 202
    got = hub.wait_path("PUT", "/parties/MSISDN/27710000001/savings")
    info = got.body["party"]["partyIdInfo"]
    assert got.body["party"]["name"] == "Savings"
    assert info == {
        "partyIdType": "MSISDN",
        "partyIdentifier": "27710000001",
        "partySubIdOrType": "savings",
        "fspId": PAYEE,
    }
    assert got.headers["fspiop-source"] == PAYEE
    assert got.headers["fspiop-destination"] == PAYER
    assert got.headers["content-type"] == "application/vnd.interoperability.parties+json;version=1.1"
    assert "accept" not in got.headers


def test_party_not_found_3204(sim: httpx.Client, hub: FakeHub) -> None:
    put_party(sim, "MSISDN/27710000002", "Main")
    deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/27710000002/other")
    got = hub.wait_path("PUT", "/parties/MSISDN/27710000002/other/error")
    assert got.body["errorInformation"]["errorCode"] == "3204"


def test_quote_answer_has_ilp(sim: httpx.Client, hub: FakeHub) -> None:
    _, got = quote(sim, hub)
    answer = got.body
    assert answer["transferAmount"] == {"amount": "10.5", "currency": "USD"}
    assert answer["payeeReceiveAmount"] == answer["transferAmount"]
    assert answer["expiration"].endswith("Z") and "." in answer["expiration"]
    assert len(answer["condition"]) == 43
    assert answer["ilpPacket"].startswith("AY")  # ILP v1 payment, type byte 0x01
    assert got.headers["content-type"].endswith("quotes+json;version=1.1")
    assert got.headers["fspiop-destination"] == PAYER


def test_transfer_fulfilment_matches_condition(sim: httpx.Client, hub: FakeHub) -> None:
    _, got = quote(sim, hub)
    body = transfer_body(got.body)
    deliver(sim, "POST", f"/{PAYEE}/transfers", body)
    put = hub.wait_path("PUT", f"/transfers/{body['transferId']}")
    assert put.body["transferState"] == "COMMITTED"
    fulfilment = b64url_decode(put.body["fulfilment"])
    assert len(fulfilment) == 32
    assert sha256_b64url(fulfilment) == body["condition"]
    assert put.body["completedTimestamp"].endswith("Z")


def test_transfer_with_foreign_packet_is_rejected(sim: httpx.Client, hub: FakeHub) -> None:
    _, got = quote(sim, hub)
    body = transfer_body(got.body)
    body["amount"] = {"amount": "11", "currency": "USD"}
    deliver(sim, "POST", f"/{PAYEE}/transfers", body)
    err = hub.wait_path("PUT", f"/transfers/{body['transferId']}/error")
    assert err.body["errorInformation"]["errorCode"] == "5105"
    assert "amount" in err.body["errorInformation"]["errorDescription"]


def test_attribution_by_destination_header(sim: httpx.Client, hub: FakeHub) -> None:
    _, got = quote(sim, hub)
    body = transfer_body(got.body)
    assert deliver(sim, "POST", "/transfers", body).status_code == 202
    hub.wait_path("PUT", f"/transfers/{body['transferId']}")
    items = sim.get("/_sim/inbox", params={"key": body["transferId"], "direction": "in"}).json()["items"]
    assert [(i["fsp"], i["method"], i["path"]) for i in items] == [(PAYEE, "POST", "/transfers")]


def test_payer_callbacks_are_recorded_not_answered(sim: httpx.Client, hub: FakeHub) -> None:
    tid = new_id()
    resp = deliver(sim, "PUT", f"/{PAYER}/transfers/{tid}", {"transferState": "COMMITTED"}, source=PAYEE)
    assert resp.status_code == 200
    items = sim.get("/_sim/inbox", params={"fsp": PAYER, "key": tid}).json()["items"]
    assert len(items) == 1 and items[0]["body"] == {"transferState": "COMMITTED"}
    assert hub.paths() == []


def test_get_quote_resends_answer_or_3205(sim: httpx.Client, hub: FakeHub) -> None:
    request, got = quote(sim, hub)
    deliver(sim, "GET", f"/{PAYEE}/quotes/{request['quoteId']}")
    again = hub.wait_for(lambda r: r.path == f"/quotes/{request['quoteId']}" and r is not got)
    assert again.body == got.body
    unknown = new_id()
    deliver(sim, "GET", f"/{PAYEE}/quotes/{unknown}")
    err = hub.wait_path("PUT", f"/quotes/{unknown}/error")
    assert err.body["errorInformation"]["errorCode"] == "3205"


def test_answers_carry_uri_and_method_and_are_signed_with_the_fsps_key(hub: FakeHub, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / f"{PAYEE}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / f"{PAYEE}.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    config = SimConfig(hub_url=hub.url, bearer_token="", jws_keys_dir=str(tmp_path))
    with ServerThread(create_app(config)) as server, httpx.Client(base_url=server.url, timeout=30) as sim:
        _, got = quote(sim, hub)
    assert got.headers["fspiop-uri"] == got.path and got.headers["fspiop-http-method"] == "PUT"
    protected = jws.verify(got.headers, got.body, jws.load_public_key(tmp_path / f"{PAYEE}.pem"))
    assert protected["FSPIOP-Source"] == PAYEE and protected["FSPIOP-Destination"] == PAYER
