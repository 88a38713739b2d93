"""FX error paths through the embedded hub: the FXP rejects or fulfils wrongly, the payee rejects the dependent
transfer, expiry of the conversion and of the dependent transfer, duplicates, validation, limits per currency, GET,
and the FXP discovery extension (``GET /services/FXP``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fx_support import (
    PAYEE_FULFILMENT,
    SRC,
    TGT,
    WRONG_FULFILMENT,
    Fx,
    add_currency,
    dependent_body,
    fx_quote_body,
    fx_transfer_body,
    fxp_fulfil,
    make_fx,
    reserved_conversion,
)
from hub_support import HubClient, Receiver, iso, provision_fsp, running_hub, unique

RESTORED = {"payer": "0", "fxp_src": "0", "fxp_tgt": "0", "payee": "0"}
FXP_ERROR = {"errorInformation": {"errorCode": "5105", "errorDescription": "FXP rejected the conversion"}}


@pytest.fixture
def fx(hub: HubClient, receiver: Receiver) -> Fx:
    return make_fx(hub, receiver)


def _prepare(fx: Fx, body: dict) -> None:
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    fx.receiver.wait(lambda i: i.fsp == fx.fxp and i.method == "POST" and i.body == body)


def _state(fx: Fx, fsp: str, cid: str) -> str:
    # Counted before the GET: the hub's answer may arrive before the GET's own 202 does.
    seen = len([i for i in fx.receiver.find(fsp, "PUT", f"/fxTransfers/{cid}") if i.headers["fspiop-source"] == "Hub"])
    fx.hub.fspiop("GET", f"/fxTransfers/{cid}", fsp, version="2.0")
    item = fx.receiver.wait(lambda i: i.fsp == fsp and i.method == "PUT" and i.path == f"/fxTransfers/{cid}"
                            and i.headers["fspiop-source"] == "Hub"
                            and len([j for j in fx.receiver.find(fsp, "PUT", i.path)
                                     if j.headers["fspiop-source"] == "Hub"]) > seen)
    return str(item.body["conversionState"])


def test_invalid_fxp_fulfilment_aborts_and_the_dependent_transfer_is_refused(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    cid = body["commitRequestId"]
    _prepare(fx, body)
    fxp_fulfil(fx, cid, fulfilment=WRONG_FULFILMENT)
    err = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}/error")
    assert err.error_code == "3100" and err.headers["fspiop-source"] == "Hub"
    assert err.body["errorInformation"]["errorDescription"] == "Generic validation error"
    assert not fx.receiver.find(fx.fxp, "PUT", f"/fxTransfers/{cid}/error")  # the FXP hears nothing
    assert fx.positions() == RESTORED
    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    refused = fx.receiver.get(fx.payer, "PUT", f"/transfers/{transfer['transferId']}/error")
    assert refused.error_code == "3100" and "Related FX Transfer is not fulfilled" in refused.body[
        "errorInformation"]["errorDescription"]
    assert fx.positions() == RESTORED


def test_fulfil_with_wrong_destination_header_aborts(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    _prepare(fx, body)
    fxp_fulfil(fx, body["commitRequestId"], destination=fx.payee)
    assert fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}/error").error_code == "3100"
    assert fx.positions() == RESTORED


def test_fxp_error_is_relayed_and_restores_the_payer(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    cid = body["commitRequestId"]
    _prepare(fx, body)
    fx.put(f"/fxTransfers/{cid}/error", fx.fxp, fx.payer, FXP_ERROR)
    relayed = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}/error")
    assert relayed.body == FXP_ERROR and relayed.headers["fspiop-source"] == fx.fxp
    copy = fx.receiver.get(fx.fxp, "PUT", f"/fxTransfers/{cid}/error")
    assert copy.headers["fspiop-source"] == "Hub" and copy.error_code == "5105"
    assert fx.positions() == RESTORED
    assert _state(fx, fx.payer, cid) == "ABORTED"
    fx.put(f"/fxTransfers/{cid}/error", fx.fxp, fx.payer, FXP_ERROR)  # the same error again
    again = fx.receiver.wait(lambda i: i.fsp == fx.fxp and i.method == "PUT" and i.path == f"/fxTransfers/{cid}")
    assert again.body["transferState"] == "ABORTED"  # central-ledger's key for this answer, kept


def test_fxp_cancelling_after_the_dependent_transfer_was_reserved_releases_both(fx: Fx) -> None:
    body = reserved_conversion(fx)
    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    fx.receiver.get(fx.payee, "POST", "/transfers")
    assert fx.positions()["fxp_tgt"] == "65000"
    fx.put(f"/fxTransfers/{body['commitRequestId']}/error", fx.fxp, fx.payer, FXP_ERROR)
    assert fx.receiver.get(fx.payer, "PUT", f"/transfers/{transfer['transferId']}/error").error_code == "5105"
    assert fx.positions() == RESTORED


@pytest.mark.parametrize("how", ["error", "bad fulfilment"])
def test_payee_refusing_the_dependent_transfer_aborts_both_and_patches_the_fxp(fx: Fx, how: str) -> None:
    body = reserved_conversion(fx)
    cid = body["commitRequestId"]
    transfer = dependent_body(fx, body)
    tid = transfer["transferId"]
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    fx.receiver.get(fx.payee, "POST", "/transfers")
    if how == "error":
        error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}}
        fx.put(f"/transfers/{tid}/error", fx.payee, fx.payer, error)
        assert fx.receiver.get(fx.payer, "PUT", f"/transfers/{tid}/error").body == error
    else:
        wrong = {"transferState": "COMMITTED", "fulfilment": WRONG_FULFILMENT, "completedTimestamp": iso()}
        fx.put(f"/transfers/{tid}", fx.payee, fx.payer, wrong)
        assert fx.receiver.get(fx.payer, "PUT", f"/transfers/{tid}/error").error_code == "3100"
    patch = fx.receiver.get(fx.fxp, "PATCH", f"/fxTransfers/{cid}")
    assert patch.body == {"conversionState": "ABORTED"} and patch.headers["fspiop-source"] == "Hub"
    assert not fx.receiver.find(fx.payer, "PUT", f"/fxTransfers/{cid}/error")  # the payer hears of the transfer only
    assert fx.positions() == RESTORED
    assert _state(fx, fx.fxp, cid) == "ABORTED"


def test_conversion_expires_while_reserved(fx: Fx) -> None:
    body = fx_transfer_body(fx, expires_in=0.5)
    cid = body["commitRequestId"]
    _prepare(fx, body)
    for fsp in (fx.payer, fx.fxp):
        err = fx.receiver.get(fsp, "PUT", f"/fxTransfers/{cid}/error", timeout=5)
        assert err.error_code == "3303" and err.headers["fspiop-source"] == "Hub"
    assert fx.positions() == RESTORED
    fxp_fulfil(fx, cid)  # late: dropped without a callback, as in central-ledger
    assert _state(fx, fx.payer, cid) == "ABORTED"


def test_fulfilled_conversion_waits_and_expires_with_its_dependent_transfer(fx: Fx) -> None:
    body = reserved_conversion(fx, expires_in=0.6)
    cid = body["commitRequestId"]
    canary = fx_transfer_body(fx, "1", "650", expires_in=0.6)  # never fulfilled: its 3303 shows the sweep has run
    _prepare(fx, canary)
    fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{canary['commitRequestId']}/error", timeout=5)
    assert _state(fx, fx.payer, cid) == "RESERVED"  # past its expiration, still waiting for the dependent transfer
    assert fx.positions()["payer"] == "100"
    transfer = dependent_body(fx, body, expires_in=0.8)
    tid = transfer["transferId"]
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    fx.receiver.get(fx.payee, "POST", "/transfers")
    for fsp in (fx.payer, fx.payee):
        assert fx.receiver.get(fsp, "PUT", f"/transfers/{tid}/error", timeout=5).error_code == "3303"
    fx_errors = [fx.receiver.get(fsp, "PUT", f"/fxTransfers/{cid}/error") for fsp in (fx.payer, fx.fxp)]
    assert {e.error_code for e in fx_errors} == {"3303"}
    assert not fx.receiver.find(fx.fxp, "PATCH", f"/fxTransfers/{cid}")  # no PATCH on expiry
    assert fx.positions() == RESTORED


def test_duplicate_prepare_identical_reports_the_state_modified_is_3106(fx: Fx) -> None:
    body = reserved_conversion(fx)
    cid = body["commitRequestId"]
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    again = fx.receiver.wait(lambda i: i.fsp == fx.payer and i.path == f"/fxTransfers/{cid}"
                             and i.headers["fspiop-source"] == "Hub")
    assert again.body["conversionState"] == "RESERVED" and again.body["fulfilment"]
    fx.post("/fxTransfers", fx.payer, fx.fxp, {**body, "expiration": iso()})
    assert fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}/error").error_code == "3106"
    assert fx.positions()["payer"] == "100"  # reserved once
    assert len(fx.receiver.find(fx.fxp, "POST", "/fxTransfers")) == 1


def test_fxp_resending_its_fulfil_modified_is_3106(fx: Fx) -> None:
    body = reserved_conversion(fx)
    cid = body["commitRequestId"]
    fxp_fulfil(fx, cid)  # another completedTimestamp: another body
    assert fx.receiver.get(fx.fxp, "PUT", f"/fxTransfers/{cid}/error").error_code == "3106"
    assert fx.positions()["payer"] == "100"


@pytest.mark.parametrize(("change", "reason"), [
    ({"initiatingFsp": "someoneelse"}, "FSPIOP-Source header should match Payer"),
    ({"expiration": None}, "Expiration is required for conditional transfer"),
    ({"counterPartyFsp": "nosuchfxp"}, "Participant nosuchfxp not found"),
])
def test_prepare_validation_is_3100_with_the_first_reason(fx: Fx, change: dict, reason: str) -> None:
    body = {k: v for k, v in {**fx_transfer_body(fx), **change}.items() if v is not None}
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    err = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}/error")
    assert err.error_code == "3100" and reason in err.body["errorInformation"]["errorDescription"]
    assert fx.positions() == RESTORED


def test_counterparty_without_a_source_account_is_refused(fx: Fx) -> None:
    body = {**fx_transfer_body(fx), "counterPartyFsp": fx.payee}  # the payee holds XOF only
    fx.post("/fxTransfers", fx.payer, fx.payee, body)
    err = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}/error")
    assert err.error_code == "3100"
    assert f"Participant {fx.payee} {SRC} account not found" in err.body["errorInformation"]["errorDescription"]


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b.update(commitRequestId="invalid"), "3101"),
    (lambda b: b.update(determiningTransferId="invalid"), "3101"),
    (lambda b: b.update(condition="condition"), "3101"),
    (lambda b: b["sourceAmount"].update(currency="ABC"), "3101"),
    (lambda b: b["targetAmount"].pop("amount"), "3102"),
    (lambda b: b.pop("initiatingFsp"), "3102"),
])
def test_malformed_fx_transfer_is_refused_synchronously(fx: Fx, change, code: str) -> None:
    body = fx_transfer_body(fx)
    change(body)
    r = fx.hub.fspiop("POST", "/fxTransfers", fx.payer, fx.fxp, body=body, version="2.0")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == code, r.text
    wrong_type = fx.hub.fspiop("POST", "/fxTransfers", fx.payer, fx.fxp, body=fx_transfer_body(fx), version="2.0",
                               headers={"Content-Type": "application/vnd.interoperability.transfers+json;version=2.0"})
    assert wrong_type.status_code == 400 and wrong_type.json()["errorInformation"]["errorCode"] == "3101"


def test_payer_over_its_source_ndc_is_4200(hub: HubClient, receiver: Receiver) -> None:
    fx = make_fx(hub, receiver, payer_ndc="50")
    body = fx_transfer_body(fx, "60")
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    assert fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}/error").error_code == "4200"
    assert fx.positions() == RESTORED


def test_fxp_over_its_target_ndc_refuses_the_dependent_transfer(hub: HubClient, receiver: Receiver) -> None:
    fx = make_fx(hub, receiver, fxp_ndc="1000")
    body = reserved_conversion(fx, "100", "65000")
    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    err = fx.receiver.get(fx.payer, "PUT", f"/transfers/{transfer['transferId']}/error")
    assert err.error_code == "4200"
    assert fx.positions() == {"payer": "100", "fxp_src": "0", "fxp_tgt": "0", "payee": "0"}  # the conversion waits
    fx.put(f"/fxTransfers/{body['commitRequestId']}/error", fx.fxp, fx.payer, FXP_ERROR)  # the FXP cancels it
    fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}/error")
    assert fx.positions() == RESTORED


def test_get_unknown_is_3208_and_by_a_stranger_is_3000(fx: Fx) -> None:
    unknown = str(uuid.uuid4())
    fx.hub.fspiop("GET", f"/fxTransfers/{unknown}", fx.payer, version="2.0")
    assert fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{unknown}/error").error_code == "3208"
    body = fx_transfer_body(fx)
    _prepare(fx, body)
    fx.hub.fspiop("GET", f"/fxTransfers/{body['commitRequestId']}", fx.payee, version="2.0")
    assert fx.receiver.get(fx.payee, "PUT", f"/fxTransfers/{body['commitRequestId']}/error").error_code == "3000"


def test_services_fxp_lists_participants_that_can_convert(fx: Fx) -> None:
    fx.hub.fspiop("GET", f"/services/FXP/{SRC}/{TGT}", fx.payer, version="2.0")
    answer = fx.receiver.get(fx.payer, "PUT", f"/services/FXP/{SRC}/{TGT}")
    assert fx.fxp in answer.body["providers"] and fx.payee not in answer.body["providers"]
    assert fx.payer not in answer.body["providers"] and answer.headers["fspiop-source"] == "Hub"
    fx.hub.fspiop("GET", "/services/FXP", fx.payee, version="2.0")
    assert fx.fxp in fx.receiver.get(fx.payee, "PUT", "/services/FXP").body["providers"]
    fx.hub.fspiop("GET", "/services/FXP/XOF/GBP", fx.payer, version="2.0")
    assert fx.fxp not in fx.receiver.get(fx.payer, "PUT", "/services/FXP/XOF/GBP").body["providers"]
    r = fx.hub.fspiop("GET", "/services/FXP/USD/ABC", fx.payer, version="2.0")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"


def test_fx_survives_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    db = str(tmp_path / "fx.sqlite")
    with running_hub(db) as hub:
        fx = make_fx(hub, receiver)
        body = reserved_conversion(fx)
    with running_hub(db) as hub:
        fx.hub = hub
        transfer = dependent_body(fx, body)
        fx.post("/transfers", fx.payer, fx.payee, transfer)
        fx.receiver.get(fx.payee, "POST", "/transfers")
        done = {"transferState": "COMMITTED", "fulfilment": PAYEE_FULFILMENT, "completedTimestamp": iso()}
        fx.put(f"/transfers/{transfer['transferId']}", fx.payee, fx.payer, done)
        fx.receiver.get(fx.fxp, "PATCH", f"/fxTransfers/{body['commitRequestId']}")
        assert fx.positions() == {"payer": "100", "fxp_src": "-100", "fxp_tgt": "65000", "payee": "-65000"}


def test_fxp_answering_aborted_is_ignored_and_the_conversion_later_expires(hub: HubClient, receiver: Receiver) -> None:
    fx = make_fx(hub, receiver)
    body = fx_transfer_body(fx, expires_in=1.0)
    cid = body["commitRequestId"]
    _prepare(fx, body)
    fxp_fulfil(fx, cid, state="ABORTED")  # central-ledger's fx-reject: ignored
    assert fx.positions()["payer"] == "100"
    assert fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}/error", timeout=5).error_code == "3303"
    assert fx.positions() == RESTORED


def test_fxp_resending_an_identical_fulfil_after_commit_gets_the_state_as_transfer_state(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    cid = body["commitRequestId"]
    _prepare(fx, body)
    fulfil = fxp_fulfil(fx, cid)
    fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}")
    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    fx.receiver.get(fx.payee, "POST", "/transfers")
    done = {"transferState": "COMMITTED", "fulfilment": PAYEE_FULFILMENT, "completedTimestamp": iso()}
    fx.put(f"/transfers/{transfer['transferId']}", fx.payee, fx.payer, done)
    fx.receiver.get(fx.fxp, "PATCH", f"/fxTransfers/{cid}")
    fx.put(f"/fxTransfers/{cid}", fx.fxp, fx.payer, fulfil)
    again = fx.receiver.get(fx.fxp, "PUT", f"/fxTransfers/{cid}")
    assert again.body["transferState"] == "COMMITTED" and "conversionState" not in again.body


def test_fulfil_of_an_unknown_conversion_is_dropped_without_a_callback(fx: Fx) -> None:
    unknown = str(uuid.uuid4())
    fxp_fulfil(fx, unknown)
    probe = fx_transfer_body(fx)  # something the hub does answer, to know it has processed what came before
    fx.post("/fxTransfers", fx.payer, fx.fxp, probe)
    fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
    assert not fx.receiver.find(fx.fxp, "PUT", f"/fxTransfers/{unknown}/error")
    assert not fx.receiver.find(fx.payer, "PUT", f"/fxTransfers/{unknown}")


def test_fx_quote_to_an_fxp_without_fx_endpoint_is_3201(fx: Fx) -> None:
    bare = unique("fxpbare")  # holds both currencies, registered no FX endpoint
    provision_fsp(fx.hub, fx.receiver.url, bare, currency=SRC)
    add_currency(fx.hub, bare, TGT)
    body = fx_quote_body(fx)
    fx.post("/fxQuotes", fx.payer, bare, body)
    err = fx.receiver.get(fx.payer, "PUT", f"/fxQuotes/{body['conversionRequestId']}/error")
    assert err.error_code == "3201" and "FSPIOP_CALLBACK_URL_FX_QUOTES" in err.body["errorInformation"][
        "errorDescription"]
