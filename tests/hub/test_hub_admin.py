"""central-ledger admin and ALS admin of the embedded hub."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import P2P
from hub_support import CURRENCY, HubClient, fund, provision_hub, running_hub, unique


@pytest.mark.parametrize(("prefix", "services", "version"), [
    ("", ["broker", "datastore"], "16.10.1"),  # ml-api-adapter (broker) and ALS (datastore) behind one gateway
    ("/admin", ["datastore", "broker"], "19.14.0"),  # central-ledger
    ("/als-admin", ["datastore"], "17.16.1"),
    ("/settlement/v2", ["datastore", "broker"], "17.3.4"),  # central-settlement
])
def test_health_answers_as_mojaloop_services(hub: HubClient, prefix: str, services: list[str], version: str) -> None:
    r = hub.http.get(f"{prefix}/health")
    assert r.status_code == 200
    body = r.json()
    assert list(body)[:5] == ["status", "uptime", "startTime", "versionNumber", "services"]
    assert body["status"] == "OK" and isinstance(body["uptime"], float) and body["startTime"].endswith("Z")
    assert body["versionNumber"] == version
    assert body["services"] == [{"name": name, "status": "OK"} for name in services]
    assert body["release"] == "17" and body["versions"]["central-ledger"] == "19.14.0"  # the embedded hub's own


def test_hub_participant_exists_from_the_start(hub: HubClient) -> None:
    r = hub.admin("GET", "/participants/Hub")
    assert r.status_code == 200 and r.json()["name"] == "Hub"
    assert r.json()["links"]["self"] == f"{hub.url}/admin/participants/Hub"


def test_provisioning_flow_and_balances(p2p: P2P) -> None:
    hub = p2p.hub
    accounts = hub.admin("GET", "/participants/Hub/accounts").json()
    assert {a["ledgerAccountType"] for a in accounts} == {"HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"}
    recon = next(a for a in accounts if a["ledgerAccountType"] == "HUB_RECONCILIATION")
    assert Decimal(recon["value"]) == Decimal("20000")  # two DFSPs funded with 10000 each
    models = hub.admin("GET", "/settlementModels").json()
    assert models[0]["name"] == "DEFERRED_NET" and models[0]["requireLiquidityCheck"] is True
    participant = hub.admin("GET", f"/participants/{p2p.payer}").json()
    assert participant["isActive"] == 1
    assert {a["ledgerAccountType"] for a in participant["accounts"]} == {"POSITION", "SETTLEMENT"}
    assert all(a["isActive"] == 1 for a in participant["accounts"])
    assert hub.position(p2p.payer) == "0"
    assert Decimal(hub.account_value(p2p.payer, "SETTLEMENT")) == Decimal("-10000")
    limits = hub.admin("GET", f"/participants/{p2p.payer}/limits")
    # central-ledger writes money as JSON numbers (MLNumber.toNumber), not strings.
    assert limits.json() == [{"currency": CURRENCY, "limit": {"type": "NET_DEBIT_CAP", "value": 10000,
                                                              "alarmPercentage": 10}}]
    accounts_text = hub.admin("GET", f"/participants/{p2p.payer}/accounts").text
    assert '"value":-10000' in accounts_text and '"reservedValue":0' in accounts_text
    endpoints = hub.admin("GET", f"/participants/{p2p.payer}/endpoints").json()
    assert any(e["type"] == "FSPIOP_CALLBACK_URL_TRANSFER_POST" for e in endpoints)
    names = [p["name"] for p in hub.admin("GET", "/participants").json()]
    assert {"Hub", p2p.payer, p2p.payee} <= set(names)


def test_duplicate_provisioning_answers_like_central_ledger(p2p: P2P) -> None:
    hub = p2p.hub
    r = hub.admin("POST", "/participants", {"name": p2p.payer, "currency": CURRENCY})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3000"
    assert "already been registered" in r.json()["errorInformation"]["errorDescription"]
    r = hub.admin("POST", "/participants/Hub/accounts", {"type": "HUB_RECONCILIATION", "currency": CURRENCY})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3003"
    r = hub.admin("POST", "/settlementModels", {
        "name": "DEFERRED_NET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3000"
    r = hub.admin("POST", f"/participants/{p2p.payer}/initialPositionAndLimits",
                  {"currency": CURRENCY, "limit": {"type": "NET_DEBIT_CAP", "value": 5}, "initialPosition": 0})
    assert r.status_code == 500 and r.json()["errorInformation"]["errorCode"] == "2001"
    # Re-posting an endpoint updates it.
    r = hub.admin("POST", f"/participants/{p2p.payer}/endpoints",
                  {"type": "FSPIOP_CALLBACK_URL_QUOTES", "value": "http://elsewhere"})
    assert r.status_code == 201
    r = hub.admin("GET", f"/participants/{p2p.payer}/endpoints?type=FSPIOP_CALLBACK_URL_QUOTES")
    assert r.json() == {"type": "FSPIOP_CALLBACK_URL_QUOTES", "value": "http://elsewhere"}


def test_participant_needs_hub_accounts_and_model(hub: HubClient) -> None:
    r = hub.admin("POST", "/participants", {"name": unique("dfsp"), "currency": "EUR"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3003"
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        hub.admin("POST", "/participants/Hub/accounts", {"type": kind, "currency": "EUR"})
    r = hub.admin("POST", "/participants", {"name": unique("dfsp"), "currency": "EUR"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "6000"


def test_unknown_participant_and_missing_fields(hub: HubClient) -> None:
    r = hub.admin("GET", "/participants/nobody")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3200"
    r = hub.admin("POST", "/participants", {"currency": CURRENCY})  # central-ledger: every Joi failure is 3101
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"
    r = hub.http.post("/admin/participants", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"


def test_limits_positions_and_activation(p2p: P2P) -> None:
    hub = p2p.hub
    r = hub.admin("PUT", f"/participants/{p2p.payer}/limits",
                  {"currency": CURRENCY, "limit": {"type": "NET_DEBIT_CAP", "value": "2500.5", "alarmPercentage": 5}})
    assert r.status_code == 200 and '"value":2500.5' in r.text
    all_limits = hub.admin("GET", "/participants/limits?currency=USD").json()
    assert {"name": p2p.payer, "currency": CURRENCY,
            "limit": {"type": "NET_DEBIT_CAP", "value": 2500.5, "alarmPercentage": 5}} in all_limits
    positions = hub.admin("GET", f"/participants/{p2p.payer}/positions").json()
    assert positions[0]["currency"] == CURRENCY and positions[0]["value"] == 0
    assert hub.admin("GET", f"/participants/{p2p.payer}/positions?currency=XTS").json() == {}
    r = hub.admin("PUT", f"/participants/{p2p.payer}", {"isActive": False})
    assert r.status_code == 200 and r.json()["isActive"] == 0
    position_account = next(a for a in hub.admin("GET", f"/participants/{p2p.payee}/accounts").json()
                            if a["ledgerAccountType"] == "POSITION")
    r = hub.admin("PUT", f"/participants/{p2p.payee}/accounts/{position_account['id']}", {"isActive": False})
    assert r.status_code == 200
    accounts = hub.admin("GET", f"/participants/{p2p.payee}/accounts").json()
    assert next(a for a in accounts if a["id"] == position_account["id"])["isActive"] == 0


def test_funds_out_reserve_commit_and_abort(p2p: P2P) -> None:
    hub, name = p2p.hub, p2p.payer
    settlement = next(a for a in hub.admin("GET", f"/participants/{name}/accounts").json()
                      if a["ledgerAccountType"] == "SETTLEMENT")
    path = f"/participants/{name}/accounts/{settlement['id']}"

    def out(transfer_id: str, amount: str) -> None:
        r = hub.admin("POST", path, {"transferId": transfer_id, "externalReference": "x", "reason": "out",
                                     "action": "recordFundsOutPrepareReserve",
                                     "amount": {"amount": amount, "currency": CURRENCY}})
        assert r.status_code == 202, r.text

    out("11111111-1111-4111-8111-111111111111", "1000.25")
    assert Decimal(hub.account_value(name, "SETTLEMENT")) == Decimal("-8999.75")
    r = hub.admin("PUT", f"{path}/transfers/11111111-1111-4111-8111-111111111111",
                  {"action": "recordFundsOutAbort", "reason": "cancel"})
    assert r.status_code == 202
    assert Decimal(hub.account_value(name, "SETTLEMENT")) == Decimal("-10000")
    out("22222222-2222-4222-8222-222222222222", "10")
    hub.admin("PUT", f"{path}/transfers/22222222-2222-4222-8222-222222222222",
              {"action": "recordFundsOutCommit", "reason": "done"})
    assert Decimal(hub.account_value(name, "SETTLEMENT")) == Decimal("-9990")
    out("33333333-3333-4333-8333-333333333333", "999999")  # more than deposited: aborted, nothing moves
    assert Decimal(hub.account_value(name, "SETTLEMENT")) == Decimal("-9990")
    fund(hub, name, "0.0001")
    assert Decimal(hub.account_value(name, "SETTLEMENT")) == Decimal("-9990.0001")


def test_funds_in_checks_the_account_type(p2p: P2P) -> None:
    hub = p2p.hub
    position = next(a for a in hub.admin("GET", f"/participants/{p2p.payer}/accounts").json()
                    if a["ledgerAccountType"] == "POSITION")
    r = hub.admin("POST", f"/participants/{p2p.payer}/accounts/{position['id']}", {
        "transferId": "44444444-4444-4444-8444-444444444444", "externalReference": "x", "action": "recordFundsIn",
        "reason": "r", "amount": {"amount": "1", "currency": CURRENCY}})
    assert r.status_code == 500 and "SETTLEMENT" in r.json()["errorInformation"]["errorDescription"]


def test_oracles_crud(hub: HubClient) -> None:
    r = hub.http.post("/als-admin/oracles", json={
        "oracleIdType": "EMAIL", "endpoint": {"value": "http://oracle", "endpointType": "URL"}, "currency": "USD"})
    assert r.status_code == 201
    oracles = hub.http.get("/als-admin/oracles?type=EMAIL").json()
    assert oracles[0]["endpoint"] == {"value": "http://oracle", "endpointType": "URL"}
    oracle_id = oracles[0]["oracleId"]
    r = hub.http.put(f"/als-admin/oracles/{oracle_id}", json={"isDefault": True})
    assert r.status_code == 204
    assert hub.http.get("/als-admin/oracles?type=EMAIL").json()[0]["isDefault"] is True
    assert hub.http.delete(f"/als-admin/oracles/{oracle_id}").status_code == 204
    assert hub.http.get("/als-admin/oracles?type=EMAIL").json() == []
    assert hub.http.delete(f"/als-admin/oracles/{oracle_id}").status_code == 400


def test_restart_on_the_same_db_keeps_state(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    name = unique("dfsp")
    with running_hub(db) as hub:
        provision_hub(hub)
        assert hub.admin("POST", "/participants", {"name": name, "currency": CURRENCY}).status_code == 201
    with running_hub(db) as hub:
        assert hub.admin("GET", f"/participants/{name}").status_code == 200
        r = hub.admin("POST", "/participants", {"name": name, "currency": CURRENCY})
        assert r.json()["errorInformation"]["errorCode"] == "3000"


def test_bearer_token_required_when_configured(tmp_path: Path) -> None:
    with running_hub(str(tmp_path / "hub.sqlite"), token="s3cret") as hub:
        assert hub.admin("GET", "/participants").status_code == 200
        anonymous = hub.http.get("/admin/participants", headers={"Authorization": ""})
        assert anonymous.status_code == 401
        assert anonymous.json()["errorInformation"]["errorCode"] == "3000"
        wrong = hub.http.get("/transfers/x", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert hub.http.get("/health", headers={"Authorization": ""}).status_code == 200


class _AnyTime:
    def __eq__(self, other: Any) -> bool:
        return isinstance(other, str) and other.endswith("Z") and "T" in other


ANY_TIME = _AnyTime()


def _recon(hub: HubClient) -> Decimal:
    return Decimal(hub.account_value("Hub", "HUB_RECONCILIATION"))


def _state(p2p: P2P, fsp: str, transfer_id: str) -> dict:
    before = len(p2p.receiver.find(fsp, "PUT", f"/transfers/{transfer_id}"))
    assert p2p.hub.fspiop("GET", f"/transfers/{transfer_id}", fsp).status_code == 202
    p2p.receiver.wait(lambda i: len(p2p.receiver.find(fsp, "PUT", f"/transfers/{transfer_id}")) > before)
    item = p2p.receiver.find(fsp, "PUT", f"/transfers/{transfer_id}")[-1]
    assert item.headers["fspiop-source"] == "Hub" and item.headers["fspiop-uri"] == f"/transfers/{transfer_id}"
    return item.body


def test_funds_in_and_out_are_transfers_read_back_by_their_dfsp(p2p: P2P) -> None:
    hub, name = p2p.hub, p2p.payer
    settlement = next(a for a in hub.admin("GET", f"/participants/{name}/accounts").json()
                      if a["ledgerAccountType"] == "SETTLEMENT")
    path = f"/participants/{name}/accounts/{settlement['id']}"
    recon, funds = _recon(hub), Decimal(hub.account_value(name, "SETTLEMENT"))
    fund_id, out_id, abort_id = (str(uuid.uuid4()) for _ in range(3))

    def post(transfer_id: str, action: str, amount: str) -> None:
        r = hub.admin("POST", path, {"transferId": transfer_id, "externalReference": f"ref-{transfer_id[:4]}",
                                     "action": action, "reason": "test",
                                     "amount": {"amount": amount, "currency": CURRENCY},
                                     "extensionList": {"extension": [{"key": "k", "value": "v"}]}})
        assert r.status_code == 202, r.text

    post(fund_id, "recordFundsIn", "50")
    assert (_recon(hub), Decimal(hub.account_value(name, "SETTLEMENT"))) == (recon + 50, funds - 50)
    assert _state(p2p, name, fund_id) == {"completedTimestamp": ANY_TIME, "transferState": "COMMITTED"}
    post(out_id, "recordFundsOutPrepareReserve", "20")
    # The reserve moves only the DFSP's SETTLEMENT account; HUB_RECONCILIATION moves at the commit.
    assert (_recon(hub), Decimal(hub.account_value(name, "SETTLEMENT"))) == (recon + 50, funds - 30)
    reserved = _state(p2p, name, out_id)
    assert reserved["transferState"] == "RESERVED" and "fulfilment" not in reserved
    assert reserved["extensionList"]["extension"] == [{"key": "externalReference", "value": f"ref-{out_id[:4]}"},
                                                      {"key": "k", "value": "v"}]
    hub.admin("PUT", f"{path}/transfers/{out_id}", {"action": "recordFundsOutCommit", "reason": "paid"})
    assert (_recon(hub), Decimal(hub.account_value(name, "SETTLEMENT"))) == (recon + 30, funds - 30)
    assert _state(p2p, name, out_id)["transferState"] == "COMMITTED"
    post(abort_id, "recordFundsOutPrepareReserve", "5")
    hub.admin("PUT", f"{path}/transfers/{abort_id}", {"action": "recordFundsOutAbort", "reason": "no"})
    assert (_recon(hub), Decimal(hub.account_value(name, "SETTLEMENT"))) == (recon + 30, funds - 30)
    assert _state(p2p, name, abort_id) == {"completedTimestamp": ANY_TIME, "transferState": "ABORTED"}
    # Another FSP may not read them (3000); the same transferId again changes nothing, even with another body.
    p2p.hub.fspiop("GET", f"/transfers/{fund_id}", p2p.payee)
    assert p2p.receiver.get(p2p.payee, "PUT", f"/transfers/{fund_id}/error").error_code == "3000"
    post(fund_id, "recordFundsIn", "7")
    assert _recon(hub) == recon + 30


def test_unknown_participant_on_the_admin_api_per_release(tmp_path: Path) -> None:
    for release, status, code in (("13", 500, "2001"), ("17", 400, "3200")):
        with running_hub(str(tmp_path / f"{release}.sqlite"), release=release) as hub:
            r = hub.admin("GET", "/participants/nosuchfsp/positions")
            assert (r.status_code, r.json()["errorInformation"]["errorCode"]) == (status, code)
            r = hub.admin("GET", "/participants/nosuchfsp")
            assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3200"


def test_participant_currency_and_hub_accounts_errors(hub: HubClient) -> None:
    r = hub.admin("POST", "/participants", {"name": "dfspx", "currency": "A#"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"
    r = hub.admin("POST", "/participants", {"name": "dfspx", "currency": "XTS"})
    assert r.status_code == 400 and r.json()["errorInformation"] == {
        "errorCode": "3003",
        "errorDescription": "Add Party information error - Hub reconciliation account for the specified currency "
                            "does not exist"}


def test_settlement_model_values_and_combinations_as_central_ledger_checks_them(p2p: P2P) -> None:
    """The route's Joi schema refuses a value outside an enum (3101, like every Joi failure there); the domain then
    refuses a combination central-services-shared does not list (3000); a missing required boolean is Joi's too."""
    model = {"name": "IMMEDIATENET", "settlementGranularity": "NET", "settlementInterchange": "BILATERAL",
             "settlementDelay": "IMMEDIATE", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
             "settlementAccountType": "SETTLEMENT", "autoPositionReset": True}
    r = p2p.hub.admin("POST", "/settlementModels", model)
    assert (r.status_code, r.json()["errorInformation"]["errorCode"]) == (400, "3000")
    assert "combination is not supported" in r.text
    r = p2p.hub.admin("POST", "/settlementModels", {**model, "settlementGranularity": "SOMETIMES"})
    assert (r.status_code, r.json()["errorInformation"]["errorCode"]) == (400, "3101")
    assert "settlementGranularity" in r.text
    r = p2p.hub.admin("POST", "/settlementModels", {k: v for k, v in model.items() if k != "autoPositionReset"})
    assert (r.status_code, r.json()["errorInformation"]["errorCode"]) == (400, "3101")
    assert "autoPositionReset" in r.text
