"""Errors about who takes part: inactive or unknown FSPs and accounts, non-parties, expired transfers read back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import P2P, make_p2p
from hub_support import CURRENCY, FULFILMENT, HubClient, Receiver, iso, running_hub, transfer_body, unique
from test_hub_p2p import prepare, quote_body


def _error(p2p: P2P, fsp: str, resource: str, key: str) -> tuple[str | None, str]:
    item = p2p.receiver.get(fsp, "PUT", f"/{resource}/{key}/error")
    return item.error_code, str(item.body["errorInformation"]["errorDescription"])


def _set_active(p2p: P2P, fsp: str, active: bool) -> None:
    r = p2p.hub.admin("PUT", f"/participants/{fsp}", {"isActive": active})
    assert r.status_code == 200, r.text


def _set_position_account_active(p2p: P2P, fsp: str, active: bool) -> None:
    account = next(a for a in p2p.hub.admin("GET", f"/participants/{fsp}/accounts").json()
                   if a["ledgerAccountType"] == "POSITION" and a["currency"] == CURRENCY)
    r = p2p.hub.admin("PUT", f"/participants/{fsp}/accounts/{account['id']}", {"isActive": active})
    assert r.status_code == 200, r.text


def test_inactive_payee_quote_3201_transfer_3100(p2p: P2P) -> None:
    _set_active(p2p, p2p.payee, False)
    quote_id = str(uuid.uuid4())
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=quote_body(p2p, quote_id))
    assert _error(p2p, p2p.payer, "quotes", quote_id)[0] == "3201"
    tid = prepare(p2p, "5")["transferId"]
    code, detail = _error(p2p, p2p.payer, "transfers", tid)
    assert code == "3100" and "inactive" in detail
    assert p2p.hub.position(p2p.payer) == "0"
    _set_active(p2p, p2p.payee, True)  # active again: the next transfer is forwarded
    prepare(p2p, "5")
    p2p.receiver.get(p2p.payee, "POST", "/transfers")


def test_inactive_payee_account_quote_3201_transfer_3100(p2p: P2P) -> None:
    _set_position_account_active(p2p, p2p.payee, False)
    quote_id = str(uuid.uuid4())
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=quote_body(p2p, quote_id))
    assert _error(p2p, p2p.payer, "quotes", quote_id)[0] == "3201"
    tid = prepare(p2p, "5")["transferId"]
    code, detail = _error(p2p, p2p.payer, "transfers", tid)
    assert code == "3100" and "account is inactive" in detail
    assert p2p.hub.position(p2p.payer) == "0"


def test_inactive_payer_quote_is_3202(p2p: P2P) -> None:
    _set_active(p2p, p2p.payer, False)
    quote_id = str(uuid.uuid4())
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=quote_body(p2p, quote_id))
    assert _error(p2p, p2p.payer, "quotes", quote_id)[0] == "3202"
    assert not p2p.receiver.find(p2p.payee, "POST", "/quotes")


def test_transfer_to_unknown_payee_is_3100_not_found(p2p: P2P) -> None:
    ghost = unique("ghost")
    body = transfer_body(p2p.payer, ghost, "1")
    p2p.hub.fspiop("POST", "/transfers", p2p.payer, ghost, body=body)
    code, detail = _error(p2p, p2p.payer, "transfers", body["transferId"])
    assert code == "3100" and f"Participant {ghost} not found" in detail
    assert p2p.hub.position(p2p.payer) == "0"


def test_get_transfer_by_a_non_party_is_3000(p2p: P2P) -> None:
    tid = prepare(p2p, "1")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    outsider = unique("outsider")
    from hub_support import provision_fsp

    provision_fsp(p2p.hub, p2p.receiver.url, outsider)
    p2p.hub.fspiop("GET", f"/transfers/{tid}", outsider)
    assert _error(p2p, outsider, "transfers", tid)[0] == "3000"
    assert not p2p.receiver.find(outsider, "PUT", f"/transfers/{tid}")


@pytest.fixture
def release_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / "hub.sqlite"), release=request.param) as client:
        yield client


@pytest.mark.parametrize(("release_hub", "answer"), [("13", "3303"), ("14", "3303"), ("17", "ABORTED")],
                         indirect=["release_hub"])
def test_get_of_an_expired_transfer_by_release(release_hub: HubClient, receiver: Receiver, answer: str) -> None:
    """Before helm v15 a GET of an expired transfer was answered with error 3303 (mojaloop/project#3078)."""
    p2p = make_p2p(release_hub, receiver)
    body = prepare(p2p, "2", expires_in=0.5)
    tid = body["transferId"]
    receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error")  # the expiry itself: 3303
    release_hub.fspiop("GET", f"/transfers/{tid}", p2p.payer)
    if answer == "ABORTED":
        assert receiver.get(p2p.payer, "PUT", f"/transfers/{tid}").body["transferState"] == "ABORTED"
    else:
        receiver.wait(lambda i: len(receiver.find(p2p.payer, "PUT", f"/transfers/{tid}/error")) >= 2)
        assert receiver.find(p2p.payer, "PUT", f"/transfers/{tid}/error")[-1].error_code == "3303"
    assert release_hub.position(p2p.payer) == "0"


def test_future_completed_timestamp_is_sync_3100(p2p: P2P) -> None:
    tid = prepare(p2p, "1")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    body = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso(timedelta(minutes=5))}
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=body)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"
    assert "future" in r.json()["errorInformation"]["errorDescription"]
    assert p2p.hub.position(p2p.payer) == "1" and p2p.hub.position(p2p.payee) == "0"  # still RESERVED
