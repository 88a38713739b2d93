"""transaction-requests-service through the embedded hub: /transactionRequests and /authorizations relayed,
validated by the service's own rules, and forward failures answered per release."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import P2P, make_p2p
from hub_support import Receiver, running_hub, unique

from mojacheck.fspiop import content_type


def request_body(p2p: P2P, **extra: Any) -> dict[str, Any]:
    return {
        "transactionRequestId": str(uuid.uuid4()),
        "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710000001", "fspId": p2p.payee},
                  "name": "Shop"},
        "payer": {"partyIdType": "MSISDN", "partyIdentifier": "27710000002", "fspId": p2p.payer},
        "amount": {"amount": "25.5", "currency": "USD"},
        "transactionType": {"scenario": "PAYMENT", "initiator": "PAYEE", "initiatorType": "BUSINESS"},
        "authenticationType": "OTP", **extra,
    }


def test_post_is_relayed_unchanged_to_the_payer_and_answers_come_back(p2p: P2P) -> None:
    body = request_body(p2p)
    ident = body["transactionRequestId"]
    sent = {"FSPIOP-URI": "/transactionRequests", "FSPIOP-HTTP-Method": "POST"}
    r = p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, p2p.payer, body, headers=sent)
    assert r.status_code == 202 and r.content == b""
    got = p2p.receiver.get(p2p.payer, "POST", "/transactionRequests")
    assert got.body == body
    assert (got.headers["fspiop-source"], got.headers["fspiop-destination"]) == (p2p.payee, p2p.payer)
    assert got.headers["fspiop-http-method"] == "POST" and "accept" in got.headers
    assert got.headers["fspiop-uri"] == "/transactionRequests"

    answer = {"transactionId": str(uuid.uuid4()), "transactionRequestState": "RECEIVED"}
    # central-services-shared corrects an FSPIOP-HTTP-Method that is not the forwarded method (it adds none)
    sent = {"FSPIOP-URI": f"/transactionRequests/{ident}", "FSPIOP-HTTP-Method": "POST"}
    r = p2p.hub.fspiop("PUT", f"/transactionRequests/{ident}", p2p.payer, p2p.payee, answer, headers=sent)
    assert r.status_code == 200, r.text
    back = p2p.receiver.get(p2p.payee, "PUT", f"/transactionRequests/{ident}")
    assert back.body == answer and back.headers["fspiop-source"] == p2p.payer
    assert back.headers["fspiop-http-method"] == "PUT" and "accept" not in back.headers
    assert back.headers["fspiop-uri"] == f"/transactionRequests/{ident}"


def test_get_and_error_are_relayed_without_any_state(p2p: P2P) -> None:
    ident = str(uuid.uuid4())  # never POSTed: the service keeps nothing, so it cannot tell
    assert p2p.hub.fspiop("GET", f"/transactionRequests/{ident}", p2p.payee, p2p.payer).status_code == 202
    assert p2p.receiver.get(p2p.payer, "GET", f"/transactionRequests/{ident}").body is None
    err = {"errorInformation": {"errorCode": "4101", "errorDescription": "Payer rejected transaction request"}}
    assert p2p.hub.fspiop("PUT", f"/transactionRequests/{ident}/error", p2p.payer, p2p.payee, err).status_code == 200
    assert p2p.receiver.get(p2p.payee, "PUT", f"/transactionRequests/{ident}/error").body == err


def test_authorization_get_keeps_its_query_and_the_put_comes_back(p2p: P2P) -> None:
    ident = str(uuid.uuid4())
    query = "authenticationType=OTP&retriesLeft=2&amount=102&currency=USD"
    r = p2p.hub.fspiop("GET", f"/authorizations/{ident}?{query}", p2p.payer, p2p.payee)
    assert r.status_code == 202, r.text
    got = p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.method == "GET" and ident in i.path)
    assert (got.path, got.query) == (f"/authorizations/{ident}", query)
    answer = {"authenticationInfo": {"authentication": "OTP", "authenticationValue": "123456"},
              "responseType": "ENTERED"}
    r = p2p.hub.fspiop("PUT", f"/authorizations/{ident}", p2p.payee, p2p.payer, answer)
    assert r.status_code == 200
    assert p2p.receiver.get(p2p.payer, "PUT", f"/authorizations/{ident}").body == answer


def _sync(r: Any) -> tuple[int, str, str]:
    info = r.json()["errorInformation"]
    return r.status_code, info["errorCode"], info["errorDescription"]


@pytest.mark.parametrize(("change", "code", "names"), [
    ({"payee": None}, "3102", "payee"),
    ({"surprise": "x"}, "3103", "surprise"),
    ({"amount": {"amount": 5, "currency": "USD"}}, "3101", "amount"),
])
def test_post_body_is_checked_by_the_services_own_schema(p2p: P2P, change: dict[str, Any], code: str,
                                                          names: str) -> None:
    body = {k: v for k, v in {**request_body(p2p), **change}.items() if v is not None}
    status, got, text = _sync(p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, p2p.payer, body))
    assert (status, got) == (400, code) and names in text
    assert p2p.receiver.find(p2p.payer, "POST", "/transactionRequests") == []


def test_leaves_are_free_strings_as_in_the_service(p2p: P2P) -> None:
    ident = str(uuid.uuid4())
    r = p2p.hub.fspiop("PUT", f"/transactionRequests/{ident}", p2p.payer, p2p.payee,
                       {"transactionRequestState": "WHATEVER"})
    assert r.status_code == 200
    r = p2p.hub.fspiop("PUT", f"/authorizations/{ident}", p2p.payee, p2p.payer, {"responseType": "WHAT"})
    assert r.status_code == 200
    r = p2p.hub.fspiop("PUT", f"/authorizations/{ident}", p2p.payee, p2p.payer,
                       {"responseType": "ENTERED", "authenticationInfo": {"authentication": "OTP"}})
    assert _sync(r)[:2] == (400, "3102") and "authenticationValue" in _sync(r)[2]


@pytest.mark.parametrize(("query", "code", "names"), [
    ("authenticationType=OTP&amount=1&currency=USD", "3102", "retriesLeft"),
    ("authenticationType=OTP&retriesLeft=g&amount=1&currency=USD", "3101", "retriesLeft"),
    ("authenticationType=OTP&retriesLeft=1.5&amount=1&currency=USD", "3101", "retriesLeft"),
    ("authenticationType=U2F&retriesLeft=1&amount=1&currency=USD", "3100", "authenticationType"),
    ("authenticationType=OTP&retriesLeft=1&amount=1.50&currency=USD", "3100", "amount"),
    ("authenticationType=OTP&retriesLeft=1&amount=1&currency=usd", "3100", "currency"),
])
def test_authorization_query_is_strict(p2p: P2P, query: str, code: str, names: str) -> None:
    status, got, text = _sync(p2p.hub.fspiop("GET", f"/authorizations/{uuid.uuid4()}?{query}", p2p.payer,
                                             p2p.payee))
    assert (status, got) == (400, code) and names in text


def test_versions_are_the_services_own_not_the_release(p2p: P2P) -> None:
    body = request_body(p2p)
    r = p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, p2p.payer, body, version="2.0")
    status, code, _ = _sync(r)
    assert (status, code) == (406, "3001")
    assert r.json()["errorInformation"]["extensionList"]["extension"] == [{"key": "1", "value": "0"},
                                                                          {"key": "1", "value": "1"}]
    r = p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, p2p.payer, body, version="1.0")
    assert r.status_code == 202
    put = p2p.hub.fspiop("PUT", f"/transactionRequests/{uuid.uuid4()}", p2p.payer, p2p.payee,
                         {"transactionRequestState": "RECEIVED"}, headers={"Accept": "*/*"})
    assert _sync(put)[:2] == (400, "3101")
    xml = p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, p2p.payer, body, headers={
        "Content-Type": content_type("transactionRequests").replace("+json", "+xml")})
    assert _sync(xml)[:2] == (400, "3101")


def test_unknown_destination_17_is_1001_and_keeps_the_senders_headers(p2p: P2P) -> None:
    body = request_body(p2p)
    ghost = unique("ghost")
    p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, ghost, body)
    err = p2p.receiver.get(p2p.payee, "PUT", f"/transactionRequests/{body['transactionRequestId']}/error")
    assert err.error_code == "1001"
    assert err.body["errorInformation"]["errorDescription"].endswith("no endpoints found for fsp")
    # transaction-requests-service does not re-source its error: it still reads as the sender's own message
    assert (err.headers["fspiop-source"], err.headers["fspiop-destination"]) == (p2p.payee, ghost)


def test_known_destination_without_endpoint_names_the_endpoint(p2p: P2P) -> None:
    bare = unique("bare")
    assert p2p.hub.admin("POST", "/participants", {"name": bare, "currency": "USD"}).status_code == 201
    ident = str(uuid.uuid4())
    query = "authenticationType=OTP&retriesLeft=1&amount=5&currency=USD"
    p2p.hub.fspiop("GET", f"/authorizations/{ident}?{query}", p2p.payer, bare)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/authorizations/{ident}/error")
    assert err.error_code == "1001"
    assert f"no FSPIOP_CALLBACK_URL_AUTHORIZATIONS endpoint for DFSP {bare}" in \
        err.body["errorInformation"]["errorDescription"]
    # authorizations errors come from the hub, in version 1.0
    assert err.headers["fspiop-source"] == "Hub" and err.headers["fspiop-destination"] == p2p.payer
    assert err.headers["content-type"] == content_type("authorizations", "1.0")


def test_unreachable_destination_is_1001_failed_to_send(p2p: P2P) -> None:
    dead = unique("dead")
    assert p2p.hub.admin("POST", "/participants", {"name": dead, "currency": "USD"}).status_code == 201
    p2p.hub.admin("POST", f"/participants/{dead}/endpoints",
                  {"type": "FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE", "value": "http://127.0.0.1:9/nobody"})
    body = request_body(p2p)
    p2p.hub.fspiop("POST", "/transactionRequests", p2p.payee, dead, body)
    err = p2p.receiver.get(p2p.payee, "PUT", f"/transactionRequests/{body['transactionRequestId']}/error")
    assert err.error_code == "1001" and "Failed to send HTTP request to host" in \
        err.body["errorInformation"]["errorDescription"]
    # an error callback that cannot be delivered is only logged: nothing comes back for it
    ident = str(uuid.uuid4())
    err_body = {"errorInformation": {"errorCode": "4101", "errorDescription": "no"}}
    p2p.hub.fspiop("PUT", f"/transactionRequests/{ident}/error", p2p.payee, dead, err_body)
    p2p.hub.fspiop("GET", f"/transactionRequests/{ident}", p2p.payee, p2p.payer)  # a marker after it
    p2p.receiver.get(p2p.payer, "GET", f"/transactionRequests/{ident}")
    assert p2p.receiver.find(p2p.payee, "PUT", f"/transactionRequests/{ident}/error") == []


@pytest.mark.parametrize("release", ["13", "14"])
def test_missing_endpoint_before_17_1_is_2001(tmp_path: Path, receiver: Receiver, release: str) -> None:
    with running_hub(str(tmp_path / "hub.sqlite"), release=release) as hub:
        p2p = make_p2p(hub, receiver)
        body = request_body(p2p)
        hub.fspiop("POST", "/transactionRequests", p2p.payee, unique("ghost"), body)
        err = receiver.get(p2p.payee, "PUT", f"/transactionRequests/{body['transactionRequestId']}/error")
        assert err.error_code == "2001" and "Invalid template!" in err.body["errorInformation"]["errorDescription"]
        assert len(err.body["errorInformation"]["errorDescription"]) <= 128
