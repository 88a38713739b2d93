"""FX through the embedded hub (release 17): the fxQuotes relay, a conversion's prepare and fulfil, the transfer
that depends on it with the positions of payer, FXP and payee in both currencies, and the routes' absence before 17.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from fx_support import (
    FX_FULFILMENT,
    PAYEE_FULFILMENT,
    SRC,
    TGT,
    Fx,
    dependent_body,
    fx_quote_body,
    fx_transfer_body,
    fxp_fulfil,
    make_fx,
    reserved_conversion,
)
from hub_support import HubClient, Receiver, iso, running_hub


@pytest.fixture
def fx(hub: HubClient, receiver: Receiver) -> Fx:
    return make_fx(hub, receiver)


# ---------------------------------------------------------------- fxQuotes


def test_fx_quote_is_relayed_to_the_fxp_and_back(fx: Fx) -> None:
    body = fx_quote_body(fx)
    quote_id = body["conversionRequestId"]
    fx.post("/fxQuotes", fx.payer, fx.fxp, body)
    forwarded = fx.receiver.get(fx.fxp, "POST", "/fxQuotes")
    assert forwarded.body == body and forwarded.headers["fspiop-destination"] == fx.fxp
    assert forwarded.headers["content-type"].startswith("application/vnd.interoperability.fxQuotes+json")
    answer = {"condition": "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM",
              "conversionTerms": {**body["conversionTerms"], "targetAmount": {"currency": TGT, "amount": "65000"}}}
    fx.put(f"/fxQuotes/{quote_id}", fx.fxp, fx.payer, answer)
    relayed = fx.receiver.get(fx.payer, "PUT", f"/fxQuotes/{quote_id}")
    assert relayed.body == answer and relayed.headers["fspiop-source"] == fx.fxp
    assert "accept" not in relayed.headers
    error = {"errorInformation": {"errorCode": "5106", "errorDescription": "Payee unsupported currency"}}
    fx.put(f"/fxQuotes/{quote_id}/error", fx.fxp, fx.payer, error)
    assert fx.receiver.get(fx.payer, "PUT", f"/fxQuotes/{quote_id}/error").body == error
    r = fx.hub.fspiop("GET", f"/fxQuotes/{quote_id}", fx.payer, fx.fxp, version="2.0")
    assert r.status_code == 202
    assert fx.receiver.get(fx.fxp, "GET", f"/fxQuotes/{quote_id}").headers["fspiop-source"] == fx.payer


def test_fx_quote_to_a_participant_that_cannot_convert_is_3100(fx: Fx) -> None:
    body = fx_quote_body(fx)
    fx.post("/fxQuotes", fx.payer, fx.payee, body)  # the payee holds no USD account
    err = fx.receiver.get(fx.payer, "PUT", f"/fxQuotes/{body['conversionRequestId']}/error")
    assert err.error_code == "3100" and f"Unsupported participant '{fx.payee}'" in err.body["errorInformation"][
        "errorDescription"]
    assert err.headers["fspiop-source"] == "Hub"
    assert err.headers["content-type"] == "application/vnd.interoperability.fxQuotes+json;version=2.0"


def test_fx_quote_resent_identical_is_forwarded_again_modified_is_3106(fx: Fx) -> None:
    body = fx_quote_body(fx)
    quote_id = body["conversionRequestId"]
    fx.post("/fxQuotes", fx.payer, fx.fxp, body)
    fx.post("/fxQuotes", fx.payer, fx.fxp, body)
    fx.receiver.wait(lambda i: len(fx.receiver.find(fx.fxp, "POST", "/fxQuotes")) == 2)
    changed = {**body, "conversionTerms": {**body["conversionTerms"], "amountType": "RECEIVE"}}
    fx.post("/fxQuotes", fx.payer, fx.fxp, changed)
    assert fx.receiver.get(fx.payer, "PUT", f"/fxQuotes/{quote_id}/error").error_code == "3106"


def test_fx_quote_answer_with_accept_is_refused_to_the_fxp(fx: Fx) -> None:
    body = fx_quote_body(fx)
    quote_id = body["conversionRequestId"]
    answer = {"conversionTerms": {**body["conversionTerms"], "targetAmount": {"currency": TGT, "amount": "65000"}}}
    r = fx.hub.fspiop("PUT", f"/fxQuotes/{quote_id}", fx.fxp, fx.payer, body=answer, version="2.0",
                      headers={"Accept": "application/vnd.interoperability.fxQuotes+json;version=2"})
    assert r.status_code == 200
    err = fx.receiver.get(fx.fxp, "PUT", f"/fxQuotes/{quote_id}/error")
    assert err.error_code == "3100" and "accept" in err.body["errorInformation"]["errorDescription"]
    assert not fx.receiver.find(fx.payer, "PUT", f"/fxQuotes/{quote_id}")


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b["conversionTerms"].update(amountType="INVALID"), "3101"),
    (lambda b: b.update(conversionRequestId="invalid"), "3101"),
    (lambda b: b["conversionTerms"]["targetAmount"].update(currency="ABC"), "3101"),
    (lambda b: b["conversionTerms"]["sourceAmount"].update(amount="1.23456"), "3101"),
    (lambda b: b.pop("conversionTerms"), "3102"),
    (lambda b: b["conversionTerms"].pop("counterPartyFsp"), "3102"),
])
def test_malformed_fx_quote_is_refused_synchronously(fx: Fx, change, code: str) -> None:
    body = fx_quote_body(fx)
    change(body)
    r = fx.hub.fspiop("POST", "/fxQuotes", fx.payer, fx.fxp, body=body, version="2.0")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == code, r.text


# ---------------------------------------------------------------- the golden path


def test_conversion_and_dependent_transfer_move_four_positions(fx: Fx) -> None:
    body = fx_transfer_body(fx, "100", "65000")
    cid = body["commitRequestId"]
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    forwarded = fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
    assert forwarded.body == body and forwarded.headers["fspiop-destination"] == fx.fxp
    assert fx.positions() == {"payer": "100", "fxp_src": "0", "fxp_tgt": "0", "payee": "0"}

    fulfil = fxp_fulfil(fx, cid)
    relayed = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{cid}")
    assert relayed.body == fulfil and relayed.headers["fspiop-source"] == fx.fxp
    assert not fx.receiver.find(fx.fxp, "PUT", f"/fxTransfers/{cid}")  # RESERVED: no copy to the FXP
    assert fx.positions() == {"payer": "100", "fxp_src": "0", "fxp_tgt": "0", "payee": "0"}
    fx.hub.fspiop("GET", f"/fxTransfers/{cid}", fx.payer, version="2.0")
    state = fx.receiver.wait(lambda i: i.fsp == fx.payer and i.path == f"/fxTransfers/{cid}"
                             and i.headers["fspiop-source"] == "Hub")
    assert state.body["conversionState"] == "RESERVED" and state.body["fulfilment"] == FX_FULFILMENT

    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    assert fx.receiver.get(fx.payee, "POST", "/transfers").body == transfer
    assert fx.positions() == {"payer": "100", "fxp_src": "0", "fxp_tgt": "65000", "payee": "0"}
    assert not _has_account(fx.hub, fx.payer, TGT)  # the payer needs no target-currency account

    done = {"transferState": "COMMITTED", "fulfilment": PAYEE_FULFILMENT, "completedTimestamp": iso()}
    fx.put(f"/transfers/{transfer['transferId']}", fx.payee, fx.payer, done)
    assert fx.receiver.get(fx.payer, "PUT", f"/transfers/{transfer['transferId']}").body == done
    patch = fx.receiver.get(fx.fxp, "PATCH", f"/fxTransfers/{cid}")
    assert patch.body["conversionState"] == "COMMITTED" and "fulfilment" not in patch.body
    assert patch.body["completedTimestamp"] and patch.headers["fspiop-source"] == "Hub"
    assert patch.headers["content-type"] == "application/vnd.interoperability.fxTransfers+json;version=2.0"
    assert fx.positions() == {"payer": "100", "fxp_src": "-100", "fxp_tgt": "65000", "payee": "-65000"}
    fx.hub.fspiop("GET", f"/fxTransfers/{cid}", fx.fxp, version="2.0")
    final = fx.receiver.wait(lambda i: i.fsp == fx.fxp and i.method == "PUT" and i.path == f"/fxTransfers/{cid}")
    assert final.body["conversionState"] == "COMMITTED"


def _has_account(hub: HubClient, name: str, currency: str) -> bool:
    return any(a["currency"] == currency for a in hub.admin("GET", f"/participants/{name}/accounts").json())


def test_fxp_answering_committed_hears_nothing_back_by_default(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
    fxp_fulfil(fx, body["commitRequestId"], state="COMMITTED")
    relayed = fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}")
    assert relayed.headers["fspiop-source"] == fx.fxp
    assert relayed.headers["fspiop-uri"] == f"/fxTransfers/{body['commitRequestId']}"
    assert relayed.headers["fspiop-http-method"] == "PUT"
    time.sleep(0.3)  # SEND_TRANSFER_CONFIRMATION_TO_PAYEE is off, as helm sets it: no copy to the FXP
    assert fx.receiver.find(fx.fxp, "PUT", f"/fxTransfers/{body['commitRequestId']}") == []
    assert fx.positions()["fxp_src"] == "0"  # still only the payer's reservation until the dependent transfer


def test_fxp_answering_committed_gets_its_answer_back_with_the_confirmation_flag(tmp_path: Path,
                                                                                 receiver: Receiver) -> None:
    with running_hub(str(tmp_path / "c.sqlite"), transfer_confirmation_to_payee=True) as hub:
        fx = make_fx(hub, receiver)
        body = fx_transfer_body(fx)
        fx.post("/fxTransfers", fx.payer, fx.fxp, body)
        fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
        fxp_fulfil(fx, body["commitRequestId"], state="COMMITTED")
        copy = fx.receiver.get(fx.fxp, "PUT", f"/fxTransfers/{body['commitRequestId']}")
        assert copy.headers["fspiop-source"] == "Hub" and copy.body["conversionState"] == "COMMITTED"
        assert copy.headers["content-type"] == "application/vnd.interoperability.fxTransfers+json;version=2.0"


def test_dependent_transfer_settles_in_the_window_per_currency(fx: Fx) -> None:
    body = reserved_conversion(fx, "40", "26000")
    transfer = dependent_body(fx, body)
    fx.post("/transfers", fx.payer, fx.payee, transfer)
    fx.receiver.get(fx.payee, "POST", "/transfers")
    done = {"transferState": "COMMITTED", "fulfilment": PAYEE_FULFILMENT, "completedTimestamp": iso()}
    fx.put(f"/transfers/{transfer['transferId']}", fx.payee, fx.payer, done)
    patch = fx.receiver.get(fx.fxp, "PATCH", f"/fxTransfers/{body['commitRequestId']}")
    assert patch.headers["fspiop-source"] == "Hub"
    assert patch.headers["content-type"] == "application/vnd.interoperability.fxTransfers+json;version=2.0"
    window_id = fx.hub.http.get("/settlement/v2/settlementWindows?state=OPEN").json()[0]["settlementWindowId"]
    # central-settlement shows a window's content once it is closed
    r = fx.hub.http.post(f"/settlement/v2/settlementWindows/{window_id}", json={"state": "CLOSED", "reason": "fx"})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 5
    while (window := fx.hub.http.get(f"/settlement/v2/settlementWindows/{window_id}").json())["state"] != "CLOSED":
        assert time.monotonic() < deadline, "window did not close"
        time.sleep(0.05)
    assert sorted(c["currencyId"] for c in window["content"]) == [SRC, TGT]


def test_fx_routes_do_not_exist_before_release_17(tmp_path: Path, receiver: Receiver) -> None:
    with running_hub(str(tmp_path / "h14.sqlite"), release="14") as hub:
        for method, path in (("POST", "/fxQuotes"), ("POST", "/fxTransfers"), ("GET", "/fxTransfers/x"),
                             ("PUT", "/fxTransfers/x"), ("PATCH", "/fxTransfers/x")):
            r = hub.fspiop(method, path, "somefsp", body={} if method != "GET" else None)
            assert r.status_code == 404 and r.json()["errorInformation"]["errorCode"] == "3002", (method, path)
        r = hub.fspiop("GET", "/services/FXP", "somefsp")
        assert r.status_code != 202  # no FXP discovery (3PPI's /services/{ServiceType} knows no FXP)


def test_patch_to_the_hub_is_not_implemented(fx: Fx) -> None:
    r = fx.hub.fspiop("PATCH", "/fxTransfers/abc", fx.fxp, fx.payer, version="2.0",
                      body={"conversionState": "COMMITTED"})
    assert r.status_code == 501 and r.json()["errorInformation"]["errorCode"] == "2002"


@pytest.mark.parametrize("field", ["converter", "currencyConversion"])
def test_quote_with_fx_fields_of_fspiop_2_is_refused_as_quoting_service_does(fx: Fx, field: str) -> None:
    value = "PAYER" if field == "converter" else {"sourceAmount": {"currency": SRC, "amount": "100"},
                                                    "targetAmount": {"currency": TGT, "amount": "65000"}}
    body = {"quoteId": str(uuid.uuid4()), "transactionId": str(uuid.uuid4()),
            "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123", "fspId": fx.payee}},
            "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "456", "fspId": fx.payer}},
            "amountType": "SEND", "amount": {"amount": "65000", "currency": TGT},
            "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
            field: value}
    r = fx.hub.fspiop("POST", "/quotes", fx.payer, fx.payee, body=body, version="2.0")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3103"
    assert field in r.json()["errorInformation"]["errorDescription"]


def test_prepare_without_fspiop_destination_still_reaches_the_fxp(fx: Fx) -> None:
    body = fx_transfer_body(fx)
    fx.post("/fxTransfers", fx.payer, None, body)  # ml-api-adapter takes the FXP from the body, as the TTK relies on
    forwarded = fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
    assert forwarded.headers["fspiop-destination"] == fx.fxp and forwarded.body == body
