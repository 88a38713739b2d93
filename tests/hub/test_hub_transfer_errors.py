"""Transfer error paths: fulfilment, payee rejection, expiry, duplicates, limits per release."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import P2P, make_p2p
from hub_support import CURRENCY, FULFILMENT, HubClient, Receiver, iso, running_hub, transfer_body, unique
from test_hub_p2p import prepare

from mojacheck.hub import HubConfig, create_app
from mojacheck.server import ServerThread

OTHER_FULFILMENT = "zAWaBXqN4E7h8Lqg0w-bfyJOm5wnV3pK3Qm3RwxgNxA"


def fulfil(p2p: P2P, tid: str, fulfilment: str = FULFILMENT, state: str = "COMMITTED") -> None:
    body = {"transferState": state, "fulfilment": fulfilment, "completedTimestamp": iso()}
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=body)
    assert r.status_code == 200, r.text


def test_invalid_fulfilment_aborts_and_restores_positions(p2p: P2P) -> None:
    tid = prepare(p2p, "25")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    assert p2p.hub.position(p2p.payer) == "25"
    fulfil(p2p, tid, OTHER_FULFILMENT)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    assert err.error_code == "3100"
    assert err.body["errorInformation"]["errorDescription"] == "Generic validation error - invalid fulfilment"
    assert p2p.hub.position(p2p.payer) == "0" and p2p.hub.position(p2p.payee) == "0"
    # SEND_TRANSFER_CONFIRMATION_TO_PAYEE is off (helm's default): the payee of a COMMITTED fulfil hears nothing.
    assert p2p.receiver.find(p2p.payee, "PUT", f"/transfers/{tid}/error") == []


def test_payee_error_aborts_and_is_relayed(p2p: P2P) -> None:
    tid = prepare(p2p, "10")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}}
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=error)
    assert r.status_code == 200
    relayed = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")
    assert relayed.body == error and relayed.headers["fspiop-source"] == p2p.payee
    assert p2p.hub.position(p2p.payer) == "0"
    p2p.hub.fspiop("GET", f"/transfers/{tid}", p2p.payer)
    state = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert state.body["transferState"] == "ABORTED"


def test_expiry_sends_3303_to_both_and_restores_position(p2p: P2P) -> None:
    tid = prepare(p2p, "5", expires_in=0.6)["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    assert p2p.hub.position(p2p.payer) == "5"
    for fsp in (p2p.payer, p2p.payee):
        err = p2p.receiver.get(fsp, "PUT", f"/transfers/{tid}/error", timeout=5)
        assert err.error_code == "3303" and err.headers["fspiop-source"] == "Hub"
    assert p2p.hub.position(p2p.payer) == "0"
    fulfil(p2p, tid)  # a late fulfil is told the transfer expired
    late = p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.path == f"/transfers/{tid}/error"
                             and len(p2p.receiver.find(p2p.payee, "PUT", f"/transfers/{tid}/error")) >= 2)
    assert late.error_code == "3303"


def test_expired_on_arrival_is_3100(p2p: P2P) -> None:
    body = transfer_body(p2p.payer, p2p.payee, expires_in=-5)
    p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{body['transferId']}/error").error_code == "3100"


def test_duplicate_prepare(p2p: P2P) -> None:
    body = prepare(p2p, "3")
    tid = body["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    fulfil(p2p, tid)
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    # Same body again: the hub re-sends the state (from Hub), positions unchanged.
    p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    resent = p2p.receiver.wait(lambda i: i.fsp == p2p.payer and i.path == f"/transfers/{tid}"
                               and i.headers.get("fspiop-source") == "Hub")
    assert resent.body["transferState"] == "COMMITTED"
    assert p2p.hub.position(p2p.payer) == "3"
    # Modified body: 3106.
    p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body={**body, "amount": {"amount": "4",
                                                                                         "currency": "USD"}})
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error").error_code == "3106"
    assert p2p.hub.position(p2p.payer) == "3"


def test_duplicate_fulfil(p2p: P2P) -> None:
    tid = prepare(p2p, "2")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    body = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=body)
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    # The identical fulfil again: the payee is answered with the state, from the hub (FULFIL_DUPLICATE).
    p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=body)
    again = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}")
    assert again.headers["fspiop-source"] == "Hub" and again.body["transferState"] == "COMMITTED"
    assert again.body["fulfilment"] == FULFILMENT
    assert p2p.hub.position(p2p.payee) == "-2"
    p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body={**body, "completedTimestamp": iso()})
    modified = p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{tid}/error")
    assert modified.body == {"errorInformation": {"errorCode": "3106", "errorDescription": "Modified request"}}


def test_old_completed_timestamp_is_sync_3100(p2p: P2P) -> None:
    body = {"transferState": "COMMITTED", "fulfilment": FULFILMENT,
            "completedTimestamp": iso(-timedelta(minutes=10))}
    r = p2p.hub.fspiop("PUT", f"/transfers/{uuid.uuid4()}", p2p.payee, p2p.payer, body=body)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"


def test_reserved_at_version_1_0_is_ignored(p2p: P2P) -> None:
    tid = prepare(p2p, "1")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    body = {"transferState": "RESERVED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=body, version="1.0")
    assert r.status_code == 200
    p2p.hub.fspiop("GET", f"/transfers/{tid}", p2p.payer)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}").body["transferState"] == "RESERVED"


def test_same_payer_and_payee_is_3100(p2p: P2P) -> None:
    body = transfer_body(p2p.payer, p2p.payer)
    p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payer, body=body)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{body['transferId']}/error")
    assert err.error_code == "3100" and "on-us" in err.body["errorInformation"]["errorDescription"]


@pytest.fixture
def release_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / "hub.sqlite"), release=request.param) as client:
        yield client


@pytest.mark.parametrize(("release_hub", "code"), [("13", "4001"), ("14", "4200"), ("17", "4200")],
                         indirect=["release_hub"])
def test_ndc_exceeded(release_hub: HubClient, receiver: Receiver, code: str) -> None:
    p2p = make_p2p(release_hub, receiver, ndc="50", funds="1000")
    body = transfer_body(p2p.payer, p2p.payee, "60")
    release_hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    assert receiver.get(p2p.payer, "PUT", f"/transfers/{body['transferId']}/error").error_code == code
    assert release_hub.position(p2p.payer) == "0"


@pytest.mark.parametrize(("release_hub", "code"), [("13", None), ("14", "4001")], indirect=["release_hub"])
def test_unfunded_payer(release_hub: HubClient, receiver: Receiver, code: str | None) -> None:
    p2p = make_p2p(release_hub, receiver, ndc="1000", funds=None)
    body = transfer_body(p2p.payer, p2p.payee, "10")
    release_hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    if code is None:  # release 13 checks the NDC only: an unfunded payer may still send
        receiver.get(p2p.payee, "POST", "/transfers")
        assert release_hub.position(p2p.payer) == "10"
    else:
        assert receiver.get(p2p.payer, "PUT", f"/transfers/{body['transferId']}/error").error_code == code
        assert release_hub.position(p2p.payer) == "0"


def test_restart_keeps_a_reserved_transfer_and_still_expires_it(tmp_path: Path, receiver: Receiver) -> None:
    db = str(tmp_path / "hub.sqlite")
    with running_hub(db, expiry_interval_s=30) as hub:  # no sweep before the restart
        p2p = make_p2p(hub, receiver)
        tid = prepare(p2p, "8", expires_in=1.0)["transferId"]
        receiver.get(p2p.payee, "POST", "/transfers")
        assert hub.position(p2p.payer) == "8"
    with running_hub(db) as hub:
        assert receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error").error_code == "3303"
        assert hub.position(p2p.payer) == "0"


def test_on_us_transfers_when_enabled(tmp_path: Path, receiver: Receiver) -> None:
    config = HubConfig(db_path=str(tmp_path / "hub.sqlite"), on_us_transfers=True)
    with ServerThread(create_app(config)) as server:
        hub = HubClient(server.url)
        p2p = make_p2p(hub, receiver)
        body = transfer_body(p2p.payer, p2p.payer, "4")
        hub.fspiop("POST", "/transfers", p2p.payer, p2p.payer, body=body)
        receiver.get(p2p.payer, "POST", "/transfers")
        assert hub.position(p2p.payer) == "4"
        hub.http.close()


def test_payee_without_endpoints_gets_3201_to_payer(p2p: P2P) -> None:
    bare = unique("bare")
    hub = p2p.hub
    hub.admin("POST", "/participants", {"name": bare, "currency": CURRENCY})
    hub.admin("POST", f"/participants/{bare}/initialPositionAndLimits",
              {"currency": CURRENCY, "limit": {"type": "NET_DEBIT_CAP", "value": "100"}, "initialPosition": 0})
    body = transfer_body(p2p.payer, bare, "1")
    hub.fspiop("POST", "/transfers", p2p.payer, bare, body=body)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{body['transferId']}/error")
    assert err.error_code == "3201"


def test_cli_takes_supported_versions() -> None:
    from mojacheck.cli import build_parser, hub_config

    args = build_parser().parse_args(["hub", "--supported-versions", "1.0, 1.1"])
    assert hub_config(args).supported_versions == ("1.0", "1.1")
    assert hub_config(build_parser().parse_args(["hub"])).supported_versions is None
