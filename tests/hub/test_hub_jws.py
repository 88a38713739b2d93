"""JWS as Mojaloop deployments use it: the hub signs what it originates and relays FSPs' signatures unchanged;
with validation on (releases that have it) a request whose signature does not verify is refused with 3105."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import P2P, make_p2p
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hub_support import FULFILMENT, HubClient, Receiver, fspiop_headers, iso, running_hub, transfer_body

from mojacheck.fspiop import jws
from mojacheck.fspiop.errors import JwsError

PASSWORD_ENV = "MOJACHECK_TEST_JWS_KEY_PASSWORD"


def write_key(folder: Path, name: str, password: bytes | None = None) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8, encryption))
    (folder / f"{name}.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


@dataclass
class Keys:
    folder: Path

    def signed(self, fsp: str, method: str, path: str, body: dict, destination: str | None,
               *, tamper: bool = False) -> tuple[dict[str, str], bytes]:
        """Headers and compact body of a request signed as ``fsp`` (``tamper``: the body changed afterwards)."""
        headers = fspiop_headers(path.strip("/").split("/")[0], fsp, destination,
                                 accept=method in ("GET", "POST", "DELETE"))
        headers.update({"FSPIOP-URI": path, "FSPIOP-HTTP-Method": method})
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers["FSPIOP-Signature"] = jws.sign(headers, raw, jws.load_private_key(self.folder / f"{fsp}.key"))
        if tamper:
            raw = json.dumps({**body, "note": "changed"}, separators=(",", ":")).encode()
        return headers, raw


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keys:
    folder = tmp_path / "keys"
    folder.mkdir()
    write_key(folder, "hub", b"hub-secret")
    monkeypatch.setenv(PASSWORD_ENV, "hub-secret")
    return Keys(folder)


def _hub(tmp_path: Path, keys: Keys, release: str) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / f"jws{release}.sqlite"), release=release,
                     jws_signing_key=str(keys.folder / "hub.key"), jws_signing_key_password_env=PASSWORD_ENV,
                     jws_validate=True, jws_keys_dir=str(keys.folder)) as client:
        yield client


@pytest.fixture
def signing_hub(tmp_path: Path, keys: Keys) -> Iterator[HubClient]:
    yield from _hub(tmp_path, keys, "17")


def _send(hub: HubClient, keys: Keys, fsp: str, method: str, path: str, body: dict, destination: str | None,
          *, tamper: bool = False) -> int:
    headers, raw = keys.signed(fsp, method, path, body, destination, tamper=tamper)
    return hub.http.request(method, path, headers=headers, content=raw).status_code


def test_hub_signs_its_own_messages_and_relays_signatures(signing_hub: HubClient, receiver: Receiver,
                                                         keys: Keys) -> None:
    p2p = make_p2p(signing_hub, receiver)
    for fsp in (p2p.payer, p2p.payee):
        write_key(keys.folder, fsp)
    body = transfer_body(p2p.payer, p2p.payee, "10")
    tid = body["transferId"]
    assert _send(signing_hub, keys, p2p.payer, "POST", "/transfers", body, p2p.payee) == 202
    forwarded = receiver.get(p2p.payee, "POST", "/transfers")
    jws.verify(forwarded.headers, forwarded.body, jws.load_public_key(keys.folder / f"{p2p.payer}.pem"))
    fulfil = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    assert _send(signing_hub, keys, p2p.payee, "PUT", f"/transfers/{tid}", fulfil, p2p.payer) == 200
    relayed = receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    # The payee's signature travels unchanged (the hub rewrites nothing it protects).
    jws.verify(relayed.headers, relayed.body, jws.load_public_key(keys.folder / f"{p2p.payee}.pem"))
    signing_hub.http.request("GET", f"/transfers/{tid}", headers=keys.signed(p2p.payer, "GET", f"/transfers/{tid}",
                                                                              {}, None)[0])
    answer = receiver.wait(lambda i: i.fsp == p2p.payer and i.path == f"/transfers/{tid}"
                           and i.headers.get("fspiop-source") == "Hub")
    protected = jws.verify(answer.headers, answer.body, jws.load_public_key(keys.folder / "hub.pem"))
    assert list(protected) == ["alg", "FSPIOP-URI", "FSPIOP-HTTP-Method", "FSPIOP-Source", "FSPIOP-Destination",
                               "Date"]
    with pytest.raises(JwsError):  # the payer's key does not verify the hub's signature
        jws.verify(answer.headers, answer.body, jws.load_public_key(keys.folder / f"{p2p.payer}.pem"))


def test_validation_refuses_a_bad_or_missing_signature(signing_hub: HubClient, receiver: Receiver,
                                                       keys: Keys) -> None:
    p2p = make_p2p(signing_hub, receiver)
    write_key(keys.folder, p2p.payer)
    body = transfer_body(p2p.payer, p2p.payee, "1")
    r = signing_hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)  # unsigned
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3105"
    headers, raw = keys.signed(p2p.payer, "POST", "/transfers", body, p2p.payee, tamper=True)
    r = signing_hub.http.post("/transfers", headers=headers, content=raw)
    assert r.status_code == 400 and r.json()["errorInformation"] == {
        "errorCode": "3105", "errorDescription": "Invalid signature - invalid signature"}
    write_key(keys.folder, p2p.payee)  # a new key for the payee: the hub reads keys at each request
    error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}}
    assert _send(signing_hub, keys, p2p.payee, "PUT", f"/transfers/{body['transferId']}/error", error,
                 p2p.payer) == 200


def test_releases_before_17_do_not_validate(tmp_path: Path, keys: Keys, receiver: Receiver) -> None:
    for hub in _hub(tmp_path, keys, "14"):
        p2p: P2P = make_p2p(hub, receiver)
        r = hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=transfer_body(p2p.payer, p2p.payee, "1"))
        assert r.status_code == 202
