"""3PPI through the embedded hub: relay, sync validation, participant list, auth-service, unlinking."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hub_support import HubClient, Receiver, fspiop_headers, provision_hub, unique

from mojacheck.fspiop.thirdparty import canonical_json, consent_challenge, derive_challenge, verify

TP_TYPES = (
    "TP_CB_URL_TRANSACTION_REQUEST_POST", "TP_CB_URL_TRANSACTION_REQUEST_PUT", "TP_CB_URL_TRANSACTION_REQUEST_GET",
    "TP_CB_URL_TRANSACTION_REQUEST_PUT_ERROR", "TP_CB_URL_TRANSACTION_REQUEST_PATCH",
    "TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT", "TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT_ERROR",
    "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT", "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT_ERROR",
    "TP_CB_URL_CONSENT_REQUEST_PUT", "TP_CB_URL_CONSENT_REQUEST_PUT_ERROR", "TP_CB_URL_CONSENT_REQUEST_PATCH",
    "TP_CB_URL_CONSENT_POST", "TP_CB_URL_CONSENT_PUT", "TP_CB_URL_CONSENT_PATCH", "TP_CB_URL_CONSENT_PUT_ERROR",
    "TP_CB_URL_ACCOUNTS_GET", "TP_CB_URL_ACCOUNTS_PUT", "TP_CB_URL_ACCOUNTS_PUT_ERROR",
    "TP_CB_URL_SERVICES_PUT", "TP_CB_URL_SERVICES_PUT_ERROR",
)
ROLE = {"dfsp": "TP_CB_URL_CONSENT_REQUEST_POST", "pisp": "TP_CB_URL_TRANSACTION_REQUEST_AUTH_POST"}


def participant(hub: HubClient, name: str, endpoints: dict[str, str]) -> None:
    r = hub.admin("POST", "/participants", {"name": name, "currency": "USD"})
    assert r.status_code == 201, r.text
    for kind, value in endpoints.items():
        r = hub.admin("POST", f"/participants/{name}/endpoints", {"type": kind, "value": value})
        assert r.status_code == 201, r.text


def tp_participant(hub: HubClient, receiver: Receiver, name: str, role: str) -> None:
    base = f"{receiver.url}/{name}"
    participant(hub, name, {**dict.fromkeys(TP_TYPES, base), ROLE[role]: base})


def auth_participant(hub: HubClient, name: str) -> None:
    base = f"{hub.url}/auth-service"
    participant(hub, name, {"TP_CB_URL_CONSENT_POST": base, "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_POST": base})


def oracles(hub: HubClient) -> None:
    for kind in ("CONSENT", "THIRD_PARTY_LINK"):
        r = hub.http.post("/als-admin/oracles", json={
            "oracleIdType": kind, "endpoint": {"value": "builtin", "endpointType": "URL"}, "isDefault": True})
        assert r.status_code == 201, r.text


def tp(hub: HubClient, method: str, path: str, source: str, destination: str | None = None,
       body: Any = None) -> Any:
    return hub.fspiop(method, path, source, destination, body, version="1.0")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Credential:
    """A PISP key pair (EC P-256) as a test plays it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public = b64url(der)

    def sign(self, challenge: str) -> str:
        return b64url(self.key.sign(challenge.encode(), ec.ECDSA(hashes.SHA256())))

    def generic(self, consent_id: str, scopes: list[dict[str, Any]], status: str = "PENDING") -> dict[str, Any]:
        return {"credentialType": "GENERIC", "status": status,
                "genericPayload": {"publicKey": self.public, "signature": self.sign(consent_challenge(consent_id,
                                                                                                      scopes))}}


@pytest.fixture
def tpn(hub: HubClient, receiver: Receiver) -> dict[str, str]:
    provision_hub(hub)
    oracles(hub)
    names = {"pisp": unique("pisp"), "dfsp": unique("dfsp"), "auth": unique("auth")}
    tp_participant(hub, receiver, names["pisp"], "pisp")
    tp_participant(hub, receiver, names["dfsp"], "dfsp")
    auth_participant(hub, names["auth"])
    return names


def consent_request(user: str = "alice") -> dict[str, Any]:
    return {"consentRequestId": str(uuid.uuid4()), "userId": user,
            "scopes": [{"address": "acc-1234", "actions": ["ACCOUNTS_TRANSFER"]}],
            "authChannels": ["WEB"], "callbackUri": "pisp-app://callback"}


# ---------------------------------------------------------------- crypto


def test_canonical_json_sorts_keys_and_has_no_spaces() -> None:
    assert canonical_json({"b": [1, "é"], "a": {"d": None, "c": True}}) == '{"a":{"c":true,"d":null},"b":[1,"é"]}'


def test_challenge_is_base64_of_the_hex_sha256_of_the_canonical_json() -> None:
    raw = {"scopes": [{"address": "x", "actions": ["ACCOUNTS_TRANSFER"]}], "consentId": "c"}
    digest = hashlib.sha256(b'{"consentId":"c","scopes":[{"actions":["ACCOUNTS_TRANSFER"],"address":"x"}]}')
    assert derive_challenge(raw) == base64.b64encode(digest.hexdigest().encode()).decode()


def test_signature_fails_when_one_byte_of_the_signed_payload_changes() -> None:
    cred = Credential()
    challenge = consent_challenge(str(uuid.uuid4()), [{"address": "acc-1", "actions": ["ACCOUNTS_TRANSFER"]}])
    signature = cred.sign(challenge)
    assert verify(cred.public, challenge, signature)
    for i in (0, len(challenge) // 2, len(challenge) - 1):
        changed = bytearray(challenge.encode())
        changed[i] ^= 0x01
        assert not verify(cred.public, changed.decode(), signature), f"byte {i} changed, still verified"


# ---------------------------------------------------------------- relay and validation


def test_consent_request_is_relayed_unchanged_to_the_dfsp(hub: HubClient, receiver: Receiver,
                                                         tpn: dict[str, str]) -> None:
    body = consent_request()
    r = tp(hub, "POST", "/consentRequests", tpn["pisp"], tpn["dfsp"], body)
    assert r.status_code == 202, r.text
    got = receiver.get(tpn["dfsp"], "POST", "/consentRequests")
    assert got.body == body
    assert got.headers["fspiop-source"] == tpn["pisp"]
    put = {"scopes": body["scopes"], "authChannels": ["WEB"], "callbackUri": body["callbackUri"],
           "authUri": "https://dfsp.example/authorize"}
    r = tp(hub, "PUT", f"/consentRequests/{body['consentRequestId']}", tpn["dfsp"], tpn["pisp"], put)
    assert r.status_code == 202, r.text  # thirdparty-api-svc answers 202 to this PUT
    assert receiver.get(tpn["pisp"], "PUT", f"/consentRequests/{body['consentRequestId']}").body == put


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda b: b.pop("userId"), "3102"),
    (lambda b: b.update(authChannels=["SMS"]), "3101"),
    (lambda b: b.update(consentRequestId="not-a-uuid"), "3101"),
    (lambda b: b["scopes"][0].update(actions=["ACCOUNTS_STEAL"]), "3101"),
])
def test_malformed_consent_request_is_refused_synchronously(hub: HubClient, tpn: dict[str, str], mutate: Any,
                                                            code: str) -> None:
    body = consent_request()
    mutate(body)
    r = tp(hub, "POST", "/consentRequests", tpn["pisp"], tpn["dfsp"], body)
    assert r.status_code == 400, r.text
    assert r.json()["errorInformation"]["errorCode"] == code


def test_body_that_is_not_json_is_3101_not_500(hub: HubClient, tpn: dict[str, str]) -> None:
    headers = fspiop_headers("thirdpartyRequests", tpn["pisp"], tpn["dfsp"], version="1.0")
    r = hub.http.post("/thirdpartyRequests/transactions", content=b"{x}", headers=headers)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"


def test_sdk_style_thirdparty_media_type_is_accepted(hub: HubClient, receiver: Receiver, tpn: dict[str, str]) -> None:
    body = consent_request()
    ct = "application/vnd.interoperability.thirdparty+json;version=1.0"
    r = hub.fspiop("POST", "/consentRequests", tpn["pisp"], tpn["dfsp"], body, version="1.0",
                   headers={"Content-Type": ct, "Accept": "application/vnd.interoperability.thirdparty+json;version=1"})
    assert r.status_code == 202, r.text
    receiver.get(tpn["dfsp"], "POST", "/consentRequests")


def test_unknown_destination_gets_3201_error_callback(hub: HubClient, receiver: Receiver,
                                                      tpn: dict[str, str]) -> None:
    body = consent_request()
    r = tp(hub, "POST", "/consentRequests", tpn["pisp"], "nosuchdfsp", body)
    assert r.status_code == 202
    err = receiver.get(tpn["pisp"], "PUT", f"/consentRequests/{body['consentRequestId']}/error")
    assert err.error_code == "3201"
    assert err.headers["fspiop-source"] == "Hub"


def test_services_lists_third_party_dfsps(hub: HubClient, receiver: Receiver, tpn: dict[str, str]) -> None:
    r = tp(hub, "GET", "/services/THIRD_PARTY_DFSP", tpn["pisp"])
    assert r.status_code == 202, r.text
    got = receiver.get(tpn["pisp"], "PUT", "/services/THIRD_PARTY_DFSP")
    assert tpn["dfsp"] in got.body["providers"] and tpn["pisp"] not in got.body["providers"]
    assert tp(hub, "GET", "/services/BANKS", tpn["pisp"]).json()["errorInformation"]["errorCode"] == "3101"


def test_unimplemented_get_answers_501(hub: HubClient, tpn: dict[str, str]) -> None:
    r = tp(hub, "GET", f"/consents/{uuid.uuid4()}", tpn["pisp"], tpn["dfsp"])
    assert r.status_code == 501 and r.json()["errorInformation"]["errorCode"] == "2002"


# ---------------------------------------------------------------- auth-service


def register(hub: HubClient, receiver: Receiver, tpn: dict[str, str], cred: Credential,
             consent_id: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    consent_id = consent_id or str(uuid.uuid4())
    scopes = [{"address": f"acc-{consent_id[:8]}", "actions": ["ACCOUNTS_TRANSFER"]}]
    body = {"consentId": consent_id, "scopes": scopes, "credential": cred.generic(consent_id, scopes),
            "status": "ISSUED"}
    r = tp(hub, "POST", "/consents", tpn["dfsp"], tpn["auth"], body)
    assert r.status_code == 202, r.text
    return consent_id, scopes


def test_auth_service_registers_a_valid_credential(hub: HubClient, receiver: Receiver, tpn: dict[str, str]) -> None:
    cred = Credential()
    consent_id, scopes = register(hub, receiver, tpn, cred)
    put = receiver.get(tpn["dfsp"], "PUT", f"/consents/{consent_id}")
    assert put.body["credential"]["status"] == "VERIFIED"
    assert put.body["scopes"] == scopes
    assert put.headers["fspiop-source"] == tpn["auth"]
    r = tp(hub, "GET", f"/participants/CONSENT/{consent_id}", tpn["dfsp"])
    assert r.status_code == 202


def test_auth_service_refuses_a_credential_signed_over_another_challenge(hub: HubClient, receiver: Receiver,
                                                                          tpn: dict[str, str]) -> None:
    cred = Credential()
    consent_id = str(uuid.uuid4())
    scopes = [{"address": "acc-9", "actions": ["ACCOUNTS_TRANSFER"]}]
    credential = cred.generic(consent_id, [{"address": "acc-other", "actions": ["ACCOUNTS_TRANSFER"]}])
    r = tp(hub, "POST", "/consents", tpn["dfsp"], tpn["auth"],
           {"consentId": consent_id, "scopes": scopes, "credential": credential, "status": "ISSUED"})
    assert r.status_code == 202
    err = receiver.get(tpn["dfsp"], "PUT", f"/consents/{consent_id}/error")
    assert err.error_code == "2001"


def verification(hub: HubClient, tpn: dict[str, str], consent_id: str, challenge: str, signature: str) -> str:
    ident = str(uuid.uuid4())
    r = tp(hub, "POST", "/thirdpartyRequests/verifications", tpn["dfsp"], tpn["auth"], {
        "verificationRequestId": ident, "challenge": challenge, "consentId": consent_id,
        "signedPayloadType": "GENERIC", "genericSignedPayload": signature})
    assert r.status_code == 202, r.text
    return ident


def test_verification_accepts_the_right_signature_and_refuses_a_changed_challenge(
        hub: HubClient, receiver: Receiver, tpn: dict[str, str]) -> None:
    cred = Credential()
    consent_id, _ = register(hub, receiver, tpn, cred)
    receiver.get(tpn["dfsp"], "PUT", f"/consents/{consent_id}")
    challenge = derive_challenge({"transferAmount": {"amount": "10", "currency": "USD"}})
    ok = verification(hub, tpn, consent_id, challenge, cred.sign(challenge))
    assert receiver.get(tpn["dfsp"], "PUT", f"/thirdpartyRequests/verifications/{ok}").body == {
        "authenticationResponse": "VERIFIED"}
    tampered = challenge[:-2] + ("A" if challenge[-2] != "A" else "B") + challenge[-1]
    bad = verification(hub, tpn, consent_id, tampered, cred.sign(challenge))
    err = receiver.get(tpn["dfsp"], "PUT", f"/thirdpartyRequests/verifications/{bad}/error")
    assert err.error_code == "7212"


def test_delete_consent_revokes_at_the_auth_service_and_patches_both_sides(
        hub: HubClient, receiver: Receiver, tpn: dict[str, str]) -> None:
    cred = Credential()
    consent_id, _ = register(hub, receiver, tpn, cred)
    receiver.get(tpn["dfsp"], "PUT", f"/consents/{consent_id}")
    r = tp(hub, "DELETE", f"/consents/{consent_id}", tpn["pisp"], tpn["dfsp"])
    assert r.status_code == 202, r.text
    for fsp in (tpn["pisp"], tpn["dfsp"]):
        patch = receiver.get(fsp, "PATCH", f"/consents/{consent_id}")
        assert patch.body["status"] == "REVOKED" and patch.body["revokedAt"]
    challenge = derive_challenge({"n": 1})
    refused = verification(hub, tpn, consent_id, challenge, cred.sign(challenge))
    assert receiver.get(tpn["dfsp"], "PUT", f"/thirdpartyRequests/verifications/{refused}/error").error_code == "7213"
    # Revoking again: the consent is no longer in ALS, so the DELETE goes to the DFSP (DFSP-hosted case).
    r = tp(hub, "DELETE", f"/consents/{consent_id}", tpn["pisp"], tpn["dfsp"])
    assert r.status_code == 202
    assert receiver.get(tpn["dfsp"], "DELETE", f"/consents/{consent_id}").headers["fspiop-destination"] == tpn["dfsp"]


def test_auth_service_error_answers_never_500(hub: HubClient, tpn: dict[str, str]) -> None:
    r = tp(hub, "POST", "/consents", tpn["dfsp"], tpn["auth"], {"consentId": str(uuid.uuid4())})
    assert r.status_code == 400
    r = hub.fspiop("POST", "/auth-service/consents", tpn["dfsp"], tpn["auth"], {"consentId": "x"}, version="1.0",
                   headers={"Content-Type": "application/vnd.interoperability.consents+json;version=1.0",
                            "Accept": "application/vnd.interoperability.consents+json;version=1"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] in ("3101", "3102")
    assert json.loads(r.text)["errorInformation"]["errorDescription"]


def test_auth_service_behind_the_bearer_gateway(tmp_path: Any, receiver: Receiver) -> None:
    """With a bearer token the hub still reaches its own auth-service, and the token goes nowhere else."""
    from hub_support import running_hub

    with running_hub(str(tmp_path / "hub.sqlite"), token="gw-token-xyz") as hub:
        provision_hub(hub)
        oracles(hub)
        names = {"pisp": unique("pisp"), "dfsp": unique("dfsp"), "auth": unique("auth")}
        tp_participant(hub, receiver, names["pisp"], "pisp")
        tp_participant(hub, receiver, names["dfsp"], "dfsp")
        auth_participant(hub, names["auth"])
        consent_id, _ = register(hub, receiver, names, Credential())
        put = receiver.get(names["dfsp"], "PUT", f"/consents/{consent_id}")
        assert put.body["credential"]["status"] == "VERIFIED"
        assert "authorization" not in put.headers
