"""The payee's answer as central-ledger and ml-api-adapter handle it: commit notification (PATCH), aborts caused by
the fulfil, the error cause on read-back, duplicate texts, and the headers of what the hub sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import P2P, make_p2p
from hub_support import FULFILMENT, HubClient, Received, Receiver, iso, running_hub
from test_hub_p2p import prepare

from mojacheck.fspiop import http_date

OTHER_FULFILMENT = "zAWaBXqN4E7h8Lqg0w-bfyJOm5wnV3pK3Qm3RwxgNxA"
MEDIA = "application/vnd.interoperability.transfers+json"


def prepared(p2p: P2P, amount: str = "10", **kwargs: object) -> str:
    tid = prepare(p2p, amount, **kwargs)["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    return tid


def put_fulfil(p2p: P2P, tid: str, state: str = "RESERVED", fulfilment: str | None = FULFILMENT, *,
               destination: str | None = None, version: str = "1.1") -> None:
    body: dict[str, str] = {"transferState": state, "completedTimestamp": iso()}
    if fulfilment is not None:
        body["fulfilment"] = fulfilment
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, destination or p2p.payer, body=body, version=version)
    assert r.status_code == 200, r.text


def read_back(p2p: P2P, tid: str, fsp: str | None = None) -> Received:
    fsp = fsp or p2p.payer
    before = len(p2p.receiver.find(fsp, "PUT", f"/transfers/{tid}"))
    assert p2p.hub.fspiop("GET", f"/transfers/{tid}", fsp).status_code == 202
    p2p.receiver.wait(lambda i: len(p2p.receiver.find(fsp, "PUT", f"/transfers/{tid}")) > before)
    return p2p.receiver.find(fsp, "PUT", f"/transfers/{tid}")[-1]


def cause(body: dict) -> str | None:
    for item in (body.get("extensionList") or {}).get("extension", []):
        if item["key"] == "cause":
            return str(item["value"])
    return None


def assert_hub_made(item: Received, destination: str, uri: str, method: str, *, hub: str = "Hub") -> None:
    h = item.headers
    assert h["fspiop-source"] == hub and h["fspiop-destination"] == destination
    assert h["fspiop-uri"] == uri and h["fspiop-http-method"] == method
    assert h["content-type"] == f"{MEDIA};version=1.1" and "accept" not in h and h["date"]


def test_reserved_fulfil_commits_with_put_to_payer_then_patch_to_payee(p2p: P2P) -> None:
    tid = prepared(p2p, "7")
    put_fulfil(p2p, tid)
    to_payer = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert list(to_payer.body) == ["completedTimestamp", "transferState", "fulfilment"]
    assert to_payer.body["transferState"] == "COMMITTED" and to_payer.body["fulfilment"] == FULFILMENT
    assert_hub_made(to_payer, p2p.payer, f"/transfers/{tid}", "PUT")
    patch = p2p.receiver.get(p2p.payee, "PATCH", f"/transfers/{tid}")
    assert patch.body == {"completedTimestamp": to_payer.body["completedTimestamp"], "transferState": "COMMITTED"}
    assert_hub_made(patch, p2p.payee, f"/transfers/{tid}", "PATCH")
    assert p2p.receiver.items.index(to_payer) < p2p.receiver.items.index(patch)  # PUT first, then PATCH
    assert p2p.hub.position(p2p.payee) == "-7"


def test_reserved_invalid_fulfilment_aborts_with_patch_and_cause(p2p: P2P) -> None:
    tid = prepared(p2p, "9")
    put_fulfil(p2p, tid, fulfilment=OTHER_FULFILMENT)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    assert err.body["errorInformation"] == {"errorCode": "3100",
                                            "errorDescription": "Generic validation error - invalid fulfilment"}
    assert_hub_made(err, p2p.payer, f"/transfers/{tid}/error", "PUT")
    patch = p2p.receiver.get(p2p.payee, "PATCH", f"/transfers/{tid}")
    assert patch.body["transferState"] == "ABORTED" and patch.body["completedTimestamp"]
    assert cause(patch.body) == "3100: Generic validation error - invalid fulfilment"
    assert p2p.receiver.find(p2p.payee, "PUT", f"/transfers/{tid}/error") == []  # a PATCH, not an error
    assert p2p.hub.position(p2p.payer) == "0"
    state = read_back(p2p, tid)
    assert state.body["transferState"] == "ABORTED"
    assert cause(state.body) == "3100: Generic validation error - invalid fulfilment"


@pytest.mark.parametrize("state", ["RESERVED", "COMMITTED"])
def test_wrong_destination_aborts_the_transfer(p2p: P2P, state: str) -> None:
    tid = prepared(p2p, "4")
    put_fulfil(p2p, tid, state, destination=p2p.payee)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    expected = "Generic validation error - fspiop-destination does not match payer fsp on the Fulfil callback response"
    assert err.body["errorInformation"] == {"errorCode": "3100", "errorDescription": expected}
    if state == "RESERVED":
        patch = p2p.receiver.get(p2p.payee, "PATCH", f"/transfers/{tid}")
        assert patch.body["transferState"] == "ABORTED" and cause(patch.body) == f"3100: {expected}"
    else:
        assert p2p.receiver.find(p2p.payee, "PATCH", f"/transfers/{tid}") == []
    assert read_back(p2p, tid).body["transferState"] == "ABORTED"
    assert p2p.hub.position(p2p.payer) == "0"


@pytest.fixture
def hub13(tmp_path: Path) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / "hub13.sqlite"), release="13") as client:
        yield client


def test_missing_fulfilment_aborts_at_17(p2p: P2P) -> None:
    tid = prepared(p2p, "3")
    put_fulfil(p2p, tid, "COMMITTED", fulfilment=None)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error").error_code == "3100"
    assert read_back(p2p, tid).body["transferState"] == "ABORTED"


def test_missing_fulfilment_commits_before_central_ledger_19_14(hub13: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub13, receiver)
    tid = prepared(p2p, "3")
    put_fulfil(p2p, tid, "COMMITTED", fulfilment=None)
    relayed = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert relayed.body["transferState"] == "COMMITTED" and relayed.headers["fspiop-source"] == p2p.payee
    state = read_back(p2p, tid)
    assert state.body["transferState"] == "COMMITTED" and "fulfilment" not in state.body
    assert state.headers["fspiop-source"] == "switch"  # the hub's name up to helm v16


def test_payee_put_aborted_is_ignored_and_takes_the_fulfil_slot(p2p: P2P) -> None:
    tid = prepared(p2p, "6")
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer,
                       body={"transferState": "ABORTED", "completedTimestamp": iso()})
    assert r.status_code == 200
    assert read_back(p2p, tid).body["transferState"] == "RESERVED"
    assert p2p.hub.position(p2p.payer) == "6"
    put_fulfil(p2p, tid, "COMMITTED")  # another body on the same slot: a modified duplicate
    err = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}/error")
    assert err.body["errorInformation"] == {"errorCode": "3106", "errorDescription": "Modified request"}
    assert read_back(p2p, tid).body["transferState"] == "RESERVED"
    # The payee still rejects properly with PUT …/error.
    error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}}
    p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=error)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error").body == error
    assert cause(read_back(p2p, tid).body) == "5105: Payee FSP rejected transaction"


def test_reserved_in_version_1_0_is_dropped_and_expires_with_its_cause(p2p: P2P) -> None:
    tid = prepared(p2p, "2", expires_in=1.0)
    put_fulfil(p2p, tid, version="1.0")
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error", timeout=5)
    assert p2p.receiver.find(p2p.payee, "PATCH", f"/transfers/{tid}") == []
    state = read_back(p2p, tid)
    assert state.body["transferState"] == "ABORTED" and cause(state.body) == "3303: Transfer expired"


def test_error_duplicates_and_an_error_on_a_committed_transfer(p2p: P2P) -> None:
    tid = prepared(p2p, "5")
    error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}}
    p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=error)
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    # Identical error again: answered like a GET (PUT /transfers/{ID}, not /error), from the hub.
    p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=error)
    again = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}")
    assert again.body["transferState"] == "ABORTED" and again.headers["fspiop-source"] == "Hub"
    modified = {"errorInformation": {**error["errorInformation"], "errorDescription": "changed"}}
    p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=modified)
    assert p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}/error").body["errorInformation"] == {
        "errorCode": "3106", "errorDescription": "Modified request"}
    committed = prepared(p2p, "1")
    put_fulfil(p2p, committed, "COMMITTED")
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{committed}")
    p2p.hub.fspiop("PUT", f"/transfers/{committed}/error", p2p.payee, p2p.payer, body=error)
    refused = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{committed}/error")
    description = refused.body["errorInformation"]["errorDescription"]
    assert description == "Generic validation error - non-RESERVED transfer state"


def test_prepare_validation_cause_has_no_prefix(p2p: P2P) -> None:
    body = prepare(p2p, "1", payee="nosuchfsp")
    tid = body["transferId"]
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    description = err.body["errorInformation"]["errorDescription"]
    assert description == "Generic validation error - Participant nosuchfsp not found"
    assert cause(read_back(p2p, tid).body) == "3100: Participant nosuchfsp not found"


def test_callback_headers_keep_the_trigger_date_and_forward_the_uri(p2p: P2P) -> None:
    tid = prepared(p2p, "1")
    forwarded = p2p.receiver.find(p2p.payee, "POST", "/transfers")[-1]
    assert forwarded.headers["fspiop-uri"] == "/transfers" and forwarded.headers["fspiop-http-method"] == "POST"
    assert forwarded.headers["fspiop-destination"] == p2p.payee and "accept" in forwarded.headers
    date = http_date()
    p2p.hub.fspiop("GET", f"/transfers/{tid}", p2p.payer, headers={"Date": date})
    answer = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert answer.headers["date"] == date
    assert_hub_made(answer, p2p.payer, f"/transfers/{tid}", "PUT")


def test_content_version_and_resource_versions_are_deployment_settings(tmp_path: Path, receiver: Receiver) -> None:
    with running_hub(str(tmp_path / "v.sqlite"), release="17", content_version="2.0",
                     resource_versions=(("transfers", "1.0"),)) as hub:
        p2p = make_p2p(hub, receiver)
        tid = prepared(p2p, "1")
        assert read_back(p2p, tid).headers["content-type"] == f"{MEDIA};version=1.0"
        put_fulfil(p2p, tid, fulfilment=OTHER_FULFILMENT)
        p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
        # Speaking transfers 1.0, the hub sends no PATCH (FSPIOP 1.0 has none).
        assert p2p.receiver.find(p2p.payee, "PATCH", f"/transfers/{tid}") == []
        p2p.hub.fspiop("GET", "/parties/MSISDN/0", p2p.payer)
        err = p2p.receiver.get(p2p.payer, "PUT", "/parties/MSISDN/0/error")
        assert err.headers["content-type"] == "application/vnd.interoperability.parties+json;version=2.0"


def test_confirmation_to_payee_when_the_deployment_enables_it(tmp_path: Path, receiver: Receiver) -> None:
    with running_hub(str(tmp_path / "c.sqlite"), transfer_confirmation_to_payee=True) as hub:
        p2p = make_p2p(hub, receiver)
        tid = prepared(p2p, "1")
        put_fulfil(p2p, tid, "COMMITTED")
        copy = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}")
        assert copy.headers["fspiop-source"] == "Hub" and copy.body["fulfilment"] == FULFILMENT
