"""Synchronous FSPIOP validation: headers, versions, bodies, unknown routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import P2P
from hub_support import HubClient, fspiop_headers, running_hub, transfer_body

from mojacheck.hub import HubConfig, create_app
from mojacheck.hub.releases import get_release
from mojacheck.server import ServerThread

EXPECTED_EXTENSIONS_17 = [{"key": "1", "value": "0"}, {"key": "1", "value": "1"}, {"key": "2", "value": "0"}]


def test_unsupported_accept_version_is_406_3001(hub: HubClient) -> None:
    r = hub.fspiop("GET", "/parties/MSISDN/1", "dfsp1",
                   headers={"Accept": "application/vnd.interoperability.parties+json;version=3"})
    assert r.status_code == 406
    info = r.json()["errorInformation"]
    assert info["errorCode"] == "3001"
    assert info["extensionList"]["extension"] == EXPECTED_EXTENSIONS_17


@pytest.mark.parametrize(("release", "status"), [("14", 406), ("17", 202)])
def test_version_2_0_is_accepted_at_17_only(tmp_path: Path, release: str, status: int) -> None:
    with running_hub(str(tmp_path / "hub.sqlite"), release=release) as hub:
        r = hub.fspiop("GET", "/transfers/1", "dfsp1", version="2.0")
        assert r.status_code == status, r.text
        if status == 406:
            assert r.json()["errorInformation"]["errorCode"] == "3001"
            assert {"key": "2", "value": "0"} not in r.json()["errorInformation"]["extensionList"]["extension"]


def test_missing_content_type_is_3102(hub: HubClient) -> None:
    r = hub.http.get("/parties/MSISDN/1", headers={"Accept": "application/vnd.interoperability.parties+json;version=1",
                                                   "FSPIOP-Source": "dfsp1", "Date": "Tue, 01 Dec 2026 10:00:00 GMT"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"


def test_malformed_content_type_and_date_are_3101(hub: HubClient) -> None:
    r = hub.fspiop("GET", "/parties/MSISDN/1", "dfsp1", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"
    r = hub.fspiop("GET", "/parties/MSISDN/1", "dfsp1", headers={"Date": "yesterday"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"


def test_missing_source_and_accept_are_3102(hub: HubClient) -> None:
    r = hub.fspiop("GET", "/parties/MSISDN/1", "", headers={})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"
    headers = {"Content-Type": "application/vnd.interoperability.transfers+json;version=1.1",
               "Date": "Tue, 01 Dec 2026 10:00:00 GMT", "FSPIOP-Source": "dfsp1"}
    r = hub.http.post("/transfers", headers=headers, content=b"{}")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"


def test_body_errors(p2p: P2P) -> None:
    hub = p2p.hub
    r = hub.http.post("/transfers", content=b"{not json",
                      headers=fspiop_headers("transfers", "dfsp1"))
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"
    body = transfer_body(p2p.payer, p2p.payee)
    del body["condition"]
    r = hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"
    assert "condition" in r.json()["errorInformation"]["errorDescription"]
    body = transfer_body(p2p.payer, p2p.payee, amount="1.123456")
    r = hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"


def test_unknown_uri_is_404_3002_and_wrong_method_405(hub: HubClient) -> None:
    r = hub.fspiop("GET", "/nowhere/at/all", "dfsp1")
    assert r.status_code == 404 and r.json()["errorInformation"]["errorCode"] == "3002"
    r = hub.fspiop("PATCH", "/parties/MSISDN/1", "dfsp1", body={})
    assert r.status_code == 405 and r.json()["errorInformation"]["errorCode"] == "3000"


def test_put_quote_with_accept_is_an_async_3100(p2p: P2P) -> None:
    r = p2p.hub.fspiop("PUT", "/quotes/abc", p2p.payee, p2p.payer, body={
        "transferAmount": {"amount": "1", "currency": "USD"}, "expiration": "2030-01-01T00:00:00.000Z",
        "ilpPacket": "AYI", "condition": "x" * 43},
        headers={"Accept": "application/vnd.interoperability.quotes+json;version=1"})
    assert r.status_code == 200  # quoting-service accepts, then refuses in the error callback
    err = p2p.receiver.get(p2p.payee, "PUT", "/quotes/abc/error")
    assert err.body["errorInformation"] == {
        "errorCode": "3100", "errorDescription":
            'Generic validation error - Update for quote abc failed: "accept" header should not be sent in callbacks.'}
    assert err.headers["fspiop-uri"] == "/quotes/abc/error" and err.headers["fspiop-source"] == "Hub"


def test_put_quote_without_condition_and_get_quote(p2p: P2P) -> None:
    r = p2p.hub.fspiop("PUT", "/quotes/abc", p2p.payee, p2p.payer, body={
        "transferAmount": {"amount": "1", "currency": "USD"}, "expiration": "2030-01-01T00:00:00.000Z",
        "ilpPacket": "AYI"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"
    assert "condition" in r.json()["errorInformation"]["errorDescription"]
    assert p2p.hub.fspiop("GET", "/quotes/abc", p2p.payer, p2p.payee).status_code == 202
    forwarded = p2p.receiver.get(p2p.payee, "GET", "/quotes/abc")
    assert forwarded.headers["fspiop-source"] == p2p.payer
    p2p.hub.fspiop("GET", "/quotes/abd", p2p.payer, "nosuchfsp")
    err = p2p.receiver.get(p2p.payer, "PUT", "/quotes/abd/error")
    assert err.body["errorInformation"]["errorDescription"] == (
        "Destination FSP Error - No FSPIOP_CALLBACK_URL_QUOTES found for quote GET abd")


def _hub_with_versions(tmp_path: Path, release: str, versions: tuple[str, ...]) -> Iterator[HubClient]:
    config = HubConfig(db_path=str(tmp_path / "hub.sqlite"), release=release, supported_versions=versions)
    with ServerThread(create_app(config)) as server:
        client = HubClient(server.url)
        try:
            yield client
        finally:
            client.http.close()


def test_supported_versions_from_the_deployment(tmp_path: Path) -> None:
    """A v17 deployment narrowed to 1.1: 2.0 and 1.0 are refused with 406/3001 listing only 1.1."""
    for hub in _hub_with_versions(tmp_path, "17", ("1.1",)):
        assert hub.fspiop("GET", "/transfers/1", "dfsp1", version="1.1").status_code == 202
        for version in ("2.0", "1.0"):
            r = hub.fspiop("GET", "/transfers/1", "dfsp1", version=version)
            assert r.status_code == 406, r.text
            info = r.json()["errorInformation"]
            assert info["errorCode"] == "3001"
            assert info["extensionList"]["extension"] == [{"key": "1", "value": "1"}]


def test_narrowed_versions_and_the_hub_name_per_release() -> None:
    assert get_release("17").supported == ("1.0", "1.1", "2.0")
    assert get_release("17", ("1.0", "1.1")).supported == ("1.0", "1.1")
    assert [get_release(r).hub_name for r in ("13", "14", "17")] == ["switch", "switch", "Hub"]
    assert get_release("14", ("1", "1.1")).supported == ("1.0", "1.1")
    with pytest.raises(ValueError):
        get_release("14", ("one",))


def test_content_type_version_unsupported_is_406_3001(hub: HubClient) -> None:
    r = hub.fspiop("GET", "/parties/MSISDN/1", "dfsp1",
                   headers={"Content-Type": "application/vnd.interoperability.parties+json;version=3.0"})
    assert r.status_code == 406 and r.json()["errorInformation"]["errorCode"] == "3001"
    assert r.json()["errorInformation"]["extensionList"]["extension"] == EXPECTED_EXTENSIONS_17


def test_missing_date_is_3102(hub: HubClient) -> None:
    headers = fspiop_headers("parties", "dfsp1")
    del headers["Date"]
    r = hub.http.get("/parties/MSISDN/1", headers=headers)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"
