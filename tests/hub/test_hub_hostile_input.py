"""Hostile input is a 4xx with an errorInformation naming what is wrong, never a 500 or a silent drop (issue 12 item 6).

Every test also asserts the hub logged no error: a request it accepted and then failed on in the background would
show up there (and nowhere else).
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import P2P
from hub_support import HubClient, fspiop_headers, transfer_body

from mojacheck.hub.web import MAX_BODY, MAX_DEPTH

BIG = str(2**63)  # one past SQLite's largest integer
HUGE = "9" * 40


@pytest.fixture(autouse=True)
def no_hub_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="mojacheck.hub")
    yield
    errors = [r.getMessage() for r in caplog.records if r.name.startswith("mojacheck.hub") and r.levelno >= 40]
    assert not errors, f"the hub logged errors: {errors}"


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["errorInformation"]["errorCode"]


def nested(depth: int) -> bytes:
    return b'{"transferId": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_3101_everywhere(hub: HubClient, depth: int) -> None:
    headers = fspiop_headers("transfers", "payerfsp", "payeefsp")
    r = hub.http.post("/transfers", content=nested(depth), headers=headers)
    assert error_of(r) == (400, "3101") and "nested deeper" in r.text
    for path in ("/admin/participants", "/settlement/v2/settlements", "/als-admin/oracles"):
        r = hub.http.post(path, content=nested(depth), headers={"Content-Type": "application/json"})
        assert error_of(r) == (400, "3101"), (path, r.text)


def test_json_nested_to_the_limit_is_still_read(hub: HubClient) -> None:
    r = hub.http.post("/admin/participants", content=nested(MAX_DEPTH - 1),
                      headers={"Content-Type": "application/json"})
    # read, then refused for the missing name (central-ledger answers every Joi failure 3101): no depth error
    assert error_of(r) == (400, "3101") and "required property 'name'" in r.text


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(hub: HubClient, constant: str) -> None:
    r = hub.http.post("/admin/participants", content=f'{{"name": "x", "currency": {constant}}}'.encode(),
                      headers={"Content-Type": "application/json"})
    assert error_of(r) == (400, "3101")


@pytest.mark.parametrize("value", [BIG, HUGE, "-" + BIG, "1_000", "12abc", "٣"])
def test_out_of_range_or_odd_ids_on_the_settlement_api_are_3100(p2p: P2P, value: str) -> None:
    http = p2p.hub.http
    for path in (f"/settlement/v2/settlementWindows/{value}", f"/settlement/v2/settlements/{value}",
                 f"/settlement/v2/settlements/{value}/participants/1",
                 f"/settlement/v2/settlements/1/participants/{value}/accounts/1",
                 f"/settlement/v2/settlementWindows?participantId={value}"):
        assert error_of(http.get(path)) == (400, "3100"), path
    r = http.post(f"/settlement/v2/settlementWindows/{value}", json={"state": "CLOSED", "reason": "x"})
    assert error_of(r) == (400, "3100")
    r = http.post("/settlement/v2/settlements", json={"settlementModel": "DEFERRED_NET", "reason": "x",
                                                       "settlementWindows": [{"id": value}]})
    assert error_of(r) == (400, "3100")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**40, 2**53])
def test_out_of_range_window_ids_in_a_settlement_body_are_3100(p2p: P2P, value: int) -> None:
    r = p2p.hub.http.post("/settlement/v2/settlements", json={
        "settlementModel": "DEFERRED_NET", "reason": "x", "settlementWindows": [{"id": value}]})
    assert error_of(r) == (400, "3100") and "safe integer" in r.text


@pytest.mark.parametrize("value", [BIG, HUGE])
def test_out_of_range_account_ids_on_the_admin_api_are_refused(p2p: P2P, value: str) -> None:
    """central-ledger's route schema: Joi number().integer().positive(); an unsafe number is number.unsafe, which
    its server-wide failAction reformats as 3101 Malformed syntax, like every Joi failure on its routes."""
    r = p2p.hub.admin("POST", f"/participants/{p2p.payer}/accounts/{value}", {
        "transferId": str(uuid.uuid4()), "externalReference": "x", "action": "recordFundsIn", "reason": "x",
        "amount": {"amount": "1", "currency": "USD"}})
    assert error_of(r) == (400, "3101") and "safe integer" in r.text
    r = p2p.hub.admin("PUT", f"/participants/{p2p.payer}/accounts/{value}/transfers/{uuid.uuid4()}",
                      {"action": "recordFundsOutCommit", "reason": "x"})
    assert error_of(r) == (400, "3101")
    assert error_of(p2p.hub.admin("PUT", f"/participants/{p2p.payer}/accounts/{value}", {"isActive": False})) == (
        400, "3101")


@pytest.mark.parametrize(("party_list", "code"), [
    (["MSISDN"], "3101"), ([1, 2], "3101"), ([None], "3101"), ([[]], "3101"), ("MSISDN", "3101"),
    ([], "3100"), ([{"partyIdType": "MSISDN"}], "3102"),
])
def test_batch_participants_with_bad_items_is_refused_before_the_202(p2p: P2P, party_list: Any, code: str) -> None:
    request_id = str(uuid.uuid4())
    r = p2p.hub.fspiop("POST", "/participants", p2p.payee, body={"requestId": request_id, "partyList": party_list})
    assert error_of(r) == (400, code), r.text


def test_party_registration_with_a_non_string_currency_is_3101(p2p: P2P) -> None:
    r = p2p.hub.fspiop("POST", "/participants/MSISDN/27730000009", p2p.payee,
                       body={"fspId": p2p.payee, "currency": {"code": "USD"}})
    assert error_of(r) == (400, "3101")


# ---------------------------------------------------------------- bodies over the size limit


def _stream(url: str, head: str, limit: int) -> tuple[bytes, int]:
    """Send ``head`` then chunks of a chunked body until the hub answers (or ``limit`` bytes are sent and the hub
    has had its chance); returns what the hub answered and how many body bytes had been sent by then."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(head.encode())
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    sent, pending, answer = 0, b"", b""
    sock.setblocking(False)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            writers = [sock] if sent < limit else []
            readable, writable, _ = select.select([sock], writers, [], 0.5)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            elif writable:
                pending = pending or chunk
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    sent = limit  # the hub closed its side: read what it answered
                    continue
                pending = pending[n:]
                sent += n
            elif sent >= limit:
                break
        time.sleep(0.05)
        with contextlib.suppress(BlockingIOError, ConnectionResetError):
            answer += sock.recv(65536)
    finally:
        sock.close()
    return answer, sent


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(hub: HubClient) -> None:
    parts = urlsplit(hub.url)
    headers = fspiop_headers("transfers", "payerfsp", "payeefsp")
    head = "POST /transfers HTTP/1.1\r\n" + f"Host: {parts.netloc}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "Transfer-Encoding: chunked\r\n\r\n"
    answer, sent = _stream(hub.url, head, limit=300 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b'"errorCode":"3104"' in answer
    # Refused after the limit plus what socket buffers hold, not after the whole 300 MB.
    assert sent < MAX_BODY + 32 * 1024 * 1024, sent


def test_a_declared_length_over_the_limit_is_refused_before_any_body(hub: HubClient) -> None:
    parts = urlsplit(hub.url)
    head = ("POST /admin/participants HTTP/1.1\r\n" f"Host: {parts.netloc}\r\n"
            "Content-Type: application/json\r\n" f"Content-Length: {300 * 1024 * 1024}\r\n\r\n")
    answer, sent = _stream(hub.url, head, limit=0)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b'"errorCode":"3104"' in answer and sent == 0


def test_a_body_at_the_limit_is_still_read(p2p: P2P) -> None:
    body = transfer_body(p2p.payer, p2p.payee)
    raw = b'{"padding": "' + b"x" * (MAX_BODY - 2000) + b'", ' + json.dumps(body).encode()[1:]
    assert len(raw) <= MAX_BODY
    r = p2p.hub.http.post("/transfers", content=raw, headers=fspiop_headers("transfers", p2p.payer, p2p.payee))
    assert r.status_code == 202, r.text


# ---------------------------------------------------------------- what `nox -s fuzz` found (each was a 500)


def test_quote_whose_payee_is_not_an_object_is_3101(p2p: P2P) -> None:
    body = {"quoteId": str(uuid.uuid4()), "transactionId": str(uuid.uuid4()), "payee": "someone",
            "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "1"}}, "amountType": "SEND",
            "amount": {"amount": "1", "currency": "USD"}, "transactionType": {"scenario": "TRANSFER"}}
    r = p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body)
    assert error_of(r) == (400, "3101") and "/body/payee must be object" in r.text


def test_oracle_whose_currency_is_not_a_string_is_3101(hub: HubClient) -> None:
    r = hub.http.post("/als-admin/oracles", json={"oracleIdType": "MSISDN", "currency": [None, None],
                                                  "endpoint": {"value": "", "endpointType": "URL"}})
    assert error_of(r) == (400, "3101") and "/body/currency must be string" in r.text


def _settlement_account(p2p: P2P) -> str:
    accounts = p2p.hub.admin("GET", f"/participants/{p2p.payer}/accounts").json()
    return str(next(a for a in accounts if a["ledgerAccountType"] == "SETTLEMENT")["id"])


@pytest.mark.parametrize(("method", "path", "body", "field", "code"), [
    ("POST", "/admin/participants/{payer}/accounts/{settlement}",
     {"transferId": "0b4a1c3e-8f2d-4b6a-9c1e-2d3f4a5b6c7d", "externalReference": "x", "action": "recordFundsIn",
      "reason": {"x": 1}, "amount": {"amount": "1", "currency": "USD"}}, "reason", "3101"),
    ("PUT", "/admin/participants/{payer}/accounts/{settlement}/transfers/t",
     {"action": "recordFundsOutCommit", "reason": ["x"]}, "reason", "3101"),
    ("POST", "/admin/participants/Hub/accounts", {"type": "HUB_RECONCILIATION", "currency": ["USD"]}, "currency",
     "3101"),
    ("POST", "/admin/participants/{payer}/endpoints", {"type": "FSPIOP_CALLBACK_URL_QUOTES", "value": {}}, "value",
     "3101"),
    ("PUT", "/admin/participants/{payer}/limits",
     {"currency": "USD", "limit": {"type": {"t": 1}, "value": 1}}, "limit/type", "3101"),
    ("PUT", "/admin/participants/{payer}", {"isActive": {"x": 1}}, "isActive", "3101"),
    ("POST", "/admin/settlementModels",
     {"name": {"n": 1}, "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
      "settlementDelay": "DEFERRED", "ledgerAccountType": "POSITION", "settlementAccountType": "SETTLEMENT",
      "requireLiquidityCheck": True, "autoPositionReset": True}, "name",
     "3101"),
    ("POST", "/settlement/v2/settlementWindows/1", {"state": "CLOSED", "reason": {"r": 1}}, "reason", "3101"),
    ("POST", "/settlement/v2/settlements",
     {"settlementModel": ["DEFERRED_NET"], "reason": "r", "settlementWindows": [{"id": 1}]}, "settlementModel",
     "3101"),
    ("PUT", "/settlement/v2/settlements/1", {"participants": [1]}, "participants/0", "3100"),
    ("PUT", "/settlement/v2/settlements/1", {"participants": [{"id": 1, "accounts": "x"}]}, "accounts", "3100"),
    ("PUT", "/settlement/v2/settlements/1",
     {"participants": [{"id": 1, "accounts": [{"id": 1, "state": "PS_TRANSFERS_RECORDED", "reason": {}}]}]},
     "reason", "3101"),
])
def test_operator_bodies_with_a_wrong_type_are_refused_naming_the_field(p2p: P2P, method: str, path: str,
                                                                        body: dict[str, Any], field: str,
                                                                        code: str) -> None:
    """central-ledger answers every Joi failure 3101 (its server-wide failAction); central-settlement boomifies Joi's
    error, so there string.base is 3101 and object/array/boolean.base 3100 (createFSPIOPErrorFromJoiError)."""
    url = path.format(payer=p2p.payer, settlement=_settlement_account(p2p))
    r = p2p.hub.http.request(method, url, json=body)
    assert error_of(r) == (400, code), r.text
    assert f"{field} must be" in r.text


def test_auth_service_consent_whose_payload_is_not_an_object_is_3101(hub: HubClient) -> None:
    consent_id = str(uuid.uuid4())
    body = {"consentId": consent_id, "scopes": [{"address": "acc-1", "actions": ["ACCOUNTS_TRANSFER"]}],
            "credential": {"credentialType": "GENERIC", "status": "PENDING", "genericPayload": "key"}}
    headers = {"Content-Type": "application/vnd.interoperability.consents+json;version=1.0",
               "Accept": "application/vnd.interoperability.consents+json;version=1"}
    r = hub.fspiop("POST", "/auth-service/consents", "dfsp", "centralAuth", body, version="1.0", headers=headers)
    assert error_of(r) == (400, "3101") and "genericPayload" in r.text


def test_is_active_false_as_a_string_deactivates_as_joi_reads_it(p2p: P2P) -> None:
    """central-ledger's Joi boolean() converts "false": the participant is deactivated (bool("false") is True)."""
    r = p2p.hub.admin("PUT", f"/participants/{p2p.payer}", {"isActive": "false"})
    assert r.status_code == 200, r.text
    assert p2p.hub.admin("GET", f"/participants/{p2p.payer}").json()["isActive"] in (0, False)
