"""Test support for FX: a payer DFSP in the source currency, an FXP in both, a payee DFSP in the target currency
(as the Testing Toolkit's FX provisioning has them), and the bodies of a payer-side conversion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub_support import HubClient, Receiver, fund, iso, provision_fsp, provision_hub, unique

from mojacheck.fspiop import condition_for

SRC, TGT = "USD", "XOF"
FX_FULFILMENT = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA"
WRONG_FULFILMENT = "AelJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA"
PAYEE_FULFILMENT = "WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"
ILP_PACKET = "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w"
FX_ENDPOINTS = {
    "FSPIOP_CALLBACK_URL_FX_QUOTES": "{BASE}",
    "FSPIOP_CALLBACK_URL_FX_TRANSFER_POST": "{BASE}/fxTransfers",
    "FSPIOP_CALLBACK_URL_FX_TRANSFER_PUT": "{BASE}/fxTransfers/{{commitRequestId}}",
    "FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR": "{BASE}/fxTransfers/{{commitRequestId}}/error",
}


@dataclass
class Fx:
    hub: HubClient
    receiver: Receiver
    payer: str
    fxp: str
    payee: str

    def put(self, path: str, source: str, destination: str, body: Any) -> None:
        r = self.hub.fspiop("PUT", path, source, destination, body=body, version="2.0")
        assert r.status_code == 200, r.text

    def post(self, path: str, source: str, destination: str | None, body: Any) -> None:
        r = self.hub.fspiop("POST", path, source, destination, body=body, version="2.0")
        assert r.status_code == 202, r.text

    def positions(self) -> dict[str, str]:
        return {"payer": self.hub.position(self.payer, SRC), "fxp_src": self.hub.position(self.fxp, SRC),
                "fxp_tgt": self.hub.position(self.fxp, TGT), "payee": self.hub.position(self.payee, TGT)}


def add_currency(hub: HubClient, name: str, currency: str, *, ndc: str = "100000",
                 funds: str | None = "100000") -> None:
    r = hub.admin("POST", "/participants", {"name": name, "currency": currency})
    assert r.status_code == 201, r.text
    r = hub.admin("POST", f"/participants/{name}/initialPositionAndLimits",
                  {"currency": currency, "limit": {"type": "NET_DEBIT_CAP", "value": ndc}, "initialPosition": 0})
    assert r.status_code == 201, r.text
    if funds is not None:
        fund(hub, name, funds, currency)


def register_fx_endpoints(hub: HubClient, receiver_url: str, name: str) -> None:
    for kind, template in FX_ENDPOINTS.items():
        r = hub.admin("POST", f"/participants/{name}/endpoints",
                      {"type": kind, "value": template.replace("{BASE}", f"{receiver_url}/{name}")})
        assert r.status_code == 201, r.text


def make_fx(hub: HubClient, receiver: Receiver, *, payer_ndc: str = "10000", fxp_ndc: str = "1000000") -> Fx:
    provision_hub(hub, SRC)
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        assert hub.admin("POST", "/participants/Hub/accounts", {"type": kind, "currency": TGT}).status_code == 201
    payer, fxp, payee = unique("fxpayer"), unique("fxp"), unique("fxpayee")
    provision_fsp(hub, receiver.url, payer, ndc=payer_ndc, funds="10000", currency=SRC)
    provision_fsp(hub, receiver.url, fxp, ndc=fxp_ndc, funds="1000000", currency=SRC)
    add_currency(hub, fxp, TGT, ndc=fxp_ndc, funds="1000000")
    provision_fsp(hub, receiver.url, payee, currency=TGT, funds=None)
    for name in (payer, fxp, payee):
        register_fx_endpoints(hub, receiver.url, name)
    return Fx(hub, receiver, payer, fxp, payee)


def fx_quote_body(fx: Fx, source: str = "100", *, amount_type: str = "SEND") -> dict[str, Any]:
    terms: dict[str, Any] = {
        "conversionId": str(uuid.uuid4()), "determiningTransferId": str(uuid.uuid4()),
        "initiatingFsp": fx.payer, "counterPartyFsp": fx.fxp, "amountType": amount_type,
        "sourceAmount": {"currency": SRC, "amount": source}, "targetAmount": {"currency": TGT},
        "expiration": iso(timedelta(seconds=60)),
    }
    return {"conversionRequestId": str(uuid.uuid4()), "conversionTerms": terms}


def fx_transfer_body(fx: Fx, source: str = "100", target: str = "65000", *, expires_in: float = 60.0,
                     fulfilment: str = FX_FULFILMENT) -> dict[str, Any]:
    return {
        "commitRequestId": str(uuid.uuid4()), "determiningTransferId": str(uuid.uuid4()),
        "initiatingFsp": fx.payer, "counterPartyFsp": fx.fxp, "amountType": "SEND",
        "sourceAmount": {"currency": SRC, "amount": source}, "targetAmount": {"currency": TGT, "amount": target},
        "condition": condition_for(fulfilment), "expiration": iso(timedelta(seconds=expires_in)),
    }


def dependent_body(fx: Fx, fx_body: dict[str, Any], amount: str | None = None, *,
                   expires_in: float = 60.0) -> dict[str, Any]:
    return {
        "transferId": fx_body["determiningTransferId"], "payerFsp": fx.payer, "payeeFsp": fx.payee,
        "amount": {"currency": TGT, "amount": amount or fx_body["targetAmount"]["amount"]},
        "ilpPacket": ILP_PACKET, "condition": condition_for(PAYEE_FULFILMENT),
        "expiration": iso(timedelta(seconds=expires_in)),
    }


def fxp_fulfil(fx: Fx, commit_request_id: str, *, state: str = "RESERVED", fulfilment: str = FX_FULFILMENT,
               destination: str | None = None) -> dict[str, Any]:
    body = {"conversionState": state, "fulfilment": fulfilment, "completedTimestamp": iso()}
    fx.put(f"/fxTransfers/{commit_request_id}", fx.fxp, destination or fx.payer, body)
    return body


def reserved_conversion(fx: Fx, source: str = "100", target: str = "65000", **kwargs: Any) -> dict[str, Any]:
    """A conversion prepared and fulfilled by the FXP (RESERVED), the payer's fulfil callback received."""
    body = fx_transfer_body(fx, source, target, **kwargs)
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    fx.receiver.get(fx.fxp, "POST", "/fxTransfers")
    fxp_fulfil(fx, body["commitRequestId"])
    fx.receiver.get(fx.payer, "PUT", f"/fxTransfers/{body['commitRequestId']}")
    return body
