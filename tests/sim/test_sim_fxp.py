"""The simulator as FXP: rate table, fxQuote answers with charges and its own condition, fxTransfer fulfilments,
behaviours (reject, invalid fulfilment, committed, never answer), and payees stating supportedCurrencies in 2.0."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sim_support import PAYEE, PAYER, FakeHub, deliver

from mojacheck.fspiop import (
    b64url_decode,
    b64url_encode,
    decode_payment,
    encode_packet_v1,
    fulfilment_for,
    new_id,
    stable_json,
)
from mojacheck.fspiop.fx import convert

FXP = "fxpsim"


def set_rate(sim: httpx.Client, rate: str = "655.957", fee: str = "0.5", pair: str = "USD/XOF") -> httpx.Response:
    return sim.put(f"/_sim/fxp/{FXP}/rates/{pair}", json={"rate": rate, "fee": fee})


def fx_quote_request(amount_type: str = "SEND", amount: str = "100") -> dict[str, Any]:
    source: dict[str, str] = {"currency": "USD"}
    target: dict[str, str] = {"currency": "XOF"}
    (source if amount_type == "SEND" else target)["amount"] = amount
    return {"conversionRequestId": new_id(), "conversionTerms": {
        "conversionId": new_id(), "determiningTransferId": new_id(), "initiatingFsp": PAYER, "counterPartyFsp": FXP,
        "amountType": amount_type, "sourceAmount": source, "targetAmount": target,
        "expiration": "2099-01-01T00:00:00.000Z"}}


def fx_quote(sim: httpx.Client, hub: FakeHub, request: dict[str, Any]) -> Any:
    assert deliver(sim, "POST", f"/{FXP}/fxQuotes", request, destination=FXP, version="2.0").status_code == 202
    return hub.wait_for(lambda r: r.path.startswith(f"/fxQuotes/{request['conversionRequestId']}"))


def fx_transfer(sim: httpx.Client, hub: FakeHub, answer: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    terms = answer["conversionTerms"]
    body = {"commitRequestId": terms["conversionId"], "determiningTransferId": terms["determiningTransferId"],
            "initiatingFsp": PAYER, "counterPartyFsp": FXP, "sourceAmount": terms["sourceAmount"],
            "targetAmount": terms["targetAmount"], "condition": answer["condition"],
            "expiration": "2099-01-01T00:00:00.000Z"}
    assert deliver(sim, "POST", f"/{FXP}/fxTransfers", body, destination=FXP, version="2.0").status_code == 202
    return body, hub.wait_for(lambda r: r.path.startswith(f"/fxTransfers/{body['commitRequestId']}"))


def test_send_quote_converts_at_the_rate_minus_the_fee(sim: httpx.Client, hub: FakeHub) -> None:
    assert set_rate(sim).status_code == 200
    request = fx_quote_request("SEND", "100")
    got = fx_quote(sim, hub, request)
    assert got.method == "PUT" and got.path == f"/fxQuotes/{request['conversionRequestId']}"
    terms = got.body["conversionTerms"]
    # (100 − 0.5) × 655.957 = 65267.7215 → 65267 XOF (no minor unit; rounded down)
    assert terms["sourceAmount"] == {"currency": "USD", "amount": "100"}
    assert terms["targetAmount"] == {"currency": "XOF", "amount": "65267"}
    assert terms["charges"] == [{"chargeType": "currency conversion",
                                 "sourceAmount": {"currency": "USD", "amount": "0.5"},
                                 "targetAmount": {"currency": "XOF", "amount": "327"}}]
    assert {k: terms[k] for k in ("conversionId", "initiatingFsp", "counterPartyFsp", "amountType")} == {
        k: request["conversionTerms"][k] for k in ("conversionId", "initiatingFsp", "counterPartyFsp", "amountType")}
    assert got.headers["fspiop-source"] == FXP and got.headers["fspiop-destination"] == PAYER
    assert got.headers["content-type"] == "application/vnd.interoperability.fxQuotes+json;version=2.0"
    packet = decode_payment(_packet_of(got.body, request["conversionRequestId"]))
    assert packet.amount == 0 and packet.account == f"g.{FXP}.usd.xof"


def _packet_of(answer: dict[str, Any], quote_id: str) -> str:
    """Rebuild the FXP's packet the way it says it builds it, and check it hashes to the condition it sent."""
    data = b64url_encode(stable_json({"conversionRequestId": quote_id,
                                      "conversionTerms": answer["conversionTerms"]}).encode())
    packet = b64url_encode(encode_packet_v1(0, f"g.{FXP}.usd.xof", data.encode("ascii")))
    fulfilment = fulfilment_for(packet, f"mojacheck-sim-secret-{FXP}")
    assert hashlib.sha256(b64url_decode(fulfilment)).digest() == b64url_decode(answer["condition"])
    return packet


def test_receive_quote_asks_enough_source_for_the_target_plus_the_fee(sim: httpx.Client, hub: FakeHub) -> None:
    set_rate(sim)
    request = fx_quote_request("RECEIVE", "65000")
    terms = fx_quote(sim, hub, request).body["conversionTerms"]
    # 65000 / 655.957 = 99.0918… → 99.10 USD (rounded up to cents) + 0.5 fee
    assert terms["sourceAmount"] == {"currency": "USD", "amount": "99.6"}
    assert terms["targetAmount"] == {"currency": "XOF", "amount": "65000"}


def test_arithmetic_in_exact_decimals() -> None:
    done = convert(Decimal("100"), rate=Decimal("655.957"), fee=Decimal("0.5"), source="USD", target="XOF")
    assert (done.source, done.target, done.fee_target) == (Decimal("100"), Decimal("65267"), Decimal("327"))
    done = convert(Decimal("10.01"), rate=Decimal("0.9"), fee=Decimal(0), source="USD", target="EUR")
    assert done.target == Decimal("9.00")  # 9.009 rounded down to cents
    with pytest.raises(ValueError, match="does not cover the fee"):
        convert(Decimal("0.5"), rate=Decimal("2"), fee=Decimal("0.5"), source="USD", target="EUR")


def test_no_rate_for_the_pair_is_5106(sim: httpx.Client, hub: FakeHub) -> None:
    request = fx_quote_request()
    request["conversionTerms"]["targetAmount"] = {"currency": "GBP"}
    got = fx_quote(sim, hub, request)
    assert got.path.endswith("/error") and got.body["errorInformation"]["errorCode"] == "5106"


def test_fx_transfer_is_fulfilled_with_the_quoted_condition(sim: httpx.Client, hub: FakeHub) -> None:
    set_rate(sim)
    answer = fx_quote(sim, hub, fx_quote_request()).body
    _, got = fx_transfer(sim, hub, answer)
    assert got.method == "PUT" and got.body["conversionState"] == "RESERVED"
    assert hashlib.sha256(b64url_decode(got.body["fulfilment"])).digest() == b64url_decode(answer["condition"])
    assert got.headers["fspiop-destination"] == PAYER and got.headers["fspiop-source"] == FXP


def test_fx_transfer_not_matching_the_quote_is_refused(sim: httpx.Client, hub: FakeHub) -> None:
    set_rate(sim)
    answer = fx_quote(sim, hub, fx_quote_request()).body
    answer["conversionTerms"]["targetAmount"]["amount"] = "99999"
    _, got = fx_transfer(sim, hub, answer)
    assert got.path.endswith("/error") and got.body["errorInformation"]["errorCode"] == "3100"


@pytest.mark.parametrize(("behaviour", "expected"), [
    ("committed", "COMMITTED"), ("invalid_fulfilment", "bad fulfilment"), ("reject", "5105"),
])
def test_fxp_behaviours(sim: httpx.Client, hub: FakeHub, behaviour: str, expected: str) -> None:
    set_rate(sim)
    answer = fx_quote(sim, hub, fx_quote_request()).body
    rule = sim.post("/_sim/rules", json={"fsp": FXP, "resource": "fxTransfers", "behaviour": behaviour,
                                         "match": {"id": answer["conversionTerms"]["conversionId"]}})
    assert rule.status_code == 201, rule.text
    _, got = fx_transfer(sim, hub, answer)
    if expected == "5105":
        assert got.body["errorInformation"]["errorCode"] == "5105"
    elif expected == "COMMITTED":
        assert got.body["conversionState"] == "COMMITTED"
    else:
        digest = hashlib.sha256(b64url_decode(got.body["fulfilment"])).digest()
        assert len(b64url_decode(got.body["fulfilment"])) == 32 and digest != b64url_decode(answer["condition"])


def test_fxp_that_never_answers_sends_nothing(sim: httpx.Client, hub: FakeHub) -> None:
    set_rate(sim)
    request = fx_quote_request()
    sim.post("/_sim/rules", json={"fsp": FXP, "resource": "fxQuotes", "behaviour": "no_answer",
                                  "match": {"id": request["conversionRequestId"]}})
    deliver(sim, "POST", f"/{FXP}/fxQuotes", request, destination=FXP, version="2.0")
    other = fx_quote(sim, hub, fx_quote_request())  # answered: the silence is this quote's only
    assert other.method == "PUT"
    assert not [r for r in hub.received if request["conversionRequestId"] in r.path]


def test_fxp_rejects_a_quote_with_an_error_code(sim: httpx.Client, hub: FakeHub) -> None:
    set_rate(sim)
    request = fx_quote_request()
    sim.post("/_sim/rules", json={"fsp": FXP, "resource": "fxQuotes", "behaviour": "reject", "errorCode": "5100",
                                  "match": {"id": request["conversionTerms"]["determiningTransferId"]}})
    assert fx_quote(sim, hub, request).body["errorInformation"]["errorCode"] == "5100"


@pytest.mark.parametrize(("body", "field"), [
    ({"rate": "0"}, "rate"), ({"rate": 1.5}, "rate"), ({"rate": "2", "fee": "-1"}, "fee"),
    ({"rate": "2", "margin": "1"}, "margin"),
])
def test_bad_rates_are_refused_naming_the_field(sim: httpx.Client, body: dict[str, Any], field: str) -> None:
    r = sim.put(f"/_sim/fxp/{FXP}/rates/USD/XOF", json=body)
    assert r.status_code == 400 and r.json()["field"] == field


def test_rates_are_listed_and_deleted(sim: httpx.Client) -> None:
    set_rate(sim, "1.1", "0", "EUR/USD")
    assert sim.get(f"/_sim/fxp/{FXP}/rates").json()["items"] == [
        {"fsp": FXP, "source": "EUR", "target": "USD", "rate": "1.1", "fee": "0"}]
    assert sim.delete(f"/_sim/fxp/{FXP}/rates/EUR/USD").status_code == 204
    assert sim.delete(f"/_sim/fxp/{FXP}/rates/EUR/USD").status_code == 404


def test_fx_rules_take_no_party_match(sim: httpx.Client) -> None:
    r = sim.post("/_sim/rules", json={"resource": "fxQuotes", "behaviour": "reject",
                                      "match": {"partyIdentifier": "123"}})
    assert r.status_code == 400 and r.json()["field"] == "match.partyIdentifier"


@pytest.mark.parametrize(("version", "stated"), [("2.0", True), ("1.1", False)])
def test_payee_states_supported_currencies_in_fspiop_2(sim: httpx.Client, hub: FakeHub, version: str,
                                                       stated: bool) -> None:
    party = {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710606001"}, "name": "Aïssatou Diop",
             "supportedCurrencies": ["XOF"]}
    assert sim.put(f"/_sim/parties/{PAYEE}/MSISDN/27710606001", json=party).status_code == 200
    deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/27710606001", version=version)
    got = hub.wait_for(lambda r: r.path == "/parties/MSISDN/27710606001"
                       and r.headers["content-type"].endswith(f"version={version}"))
    assert ("supportedCurrencies" in got.body["party"]) is stated
    if stated:
        assert got.body["party"]["supportedCurrencies"] == ["XOF"]
