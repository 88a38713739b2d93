"""Control API: validation, inbox long-poll, redaction, bearer token; inbox and CLI units."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import httpx
import pytest
from sim_support import PAYEE, FakeHub, deliver

from mojacheck.cli import build_parser, sim_config
from mojacheck.fspiop import new_id
from mojacheck.server.serve import ServerThread
from mojacheck.sim import SimConfig, create_app
from mojacheck.sim.app import start_line
from mojacheck.sim.inbox import Inbox, InboxFilter, key_of
from mojacheck.sim.state import RuleBook


def test_health(sim: httpx.Client) -> None:
    assert sim.get("/health").json() == {"status": "OK"}
    assert sim.get("/_sim/health").json() == {"status": "OK"}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b'{"resource": "transfers", "behaviour": "explode"}', "behaviour"),
        (b'{"resource": "accounts", "behaviour": "normal"}', "resource"),
        (b'{"resource": "quotes", "behaviour": "reserved"}', "behaviour"),
        (b'{"resource": "transfers", "behaviour": "reject", "errorCode": "51"}', "errorCode"),
        (b'{"resource": "transfers", "behaviour": "delay", "delayMs": -1}', "delayMs"),
        (b'{"resource": "transfers", "behaviour": "normal", "match": {"iid": "x"}}', "match.iid"),
        (b'{"resource": "transfers", "behaviour": "normal", "colour": "red"}', "colour"),
        (b'{"resource": "parties", "behaviour": "bad_signature"}', "behaviour"),
        (b'{"resource": "consents", "behaviour": "reject"}', "behaviour"),
        (b'{"resource": "authorizations", "behaviour": "delay"}', "behaviour"),
        (b'{"resource": "authorizations", "behaviour": "reject", "errorCode": "5105"}', "errorCode"),
        (b'{"resource": "consents", "behaviour": "no_answer", "delayMs": 10}', "delayMs"),
        (b'{"resource": "authorizations", "behaviour": "reject", "match": {"partyIdentifier": "1"}}',
         "match.partyIdentifier"),
    ],
)
def test_rule_validation_names_the_field(sim: httpx.Client, content: bytes, field: str) -> None:
    resp = sim.post("/_sim/rules", content=content, headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["field"] == field
    assert resp.json()["error"].startswith(field)


def test_thirdparty_rules_share_the_rule_book(sim: httpx.Client) -> None:
    made = sim.post("/_sim/rules", json={"fsp": "pisp", "resource": "authorizations", "behaviour": "reject",
                                         "match": {"id": "tr-1"}})
    assert made.status_code == 201
    assert "errorCode" not in made.json()  # a PISP rejects with REJECTED, not an error code
    consents = sim.post("/_sim/rules", json={"resource": "consents", "behaviour": "bad_signature"}).json()
    assert [r["resource"] for r in sim.get("/_sim/rules").json()["items"]] == ["authorizations", "consents"]
    assert sim.delete(f"/_sim/rules/{consents['id']}").status_code == 204


def test_rule_book_finds_thirdparty_rules() -> None:
    book = RuleBook()
    book.add({"fsp": "pisp", "resource": "authorizations", "behaviour": "reject", "match": {"id": "tr-1"}})
    book.add({"resource": "consents", "behaviour": "bad_signature", "match": {"id": "cr-1"}})
    assert book.find("pisp", "authorizations", ("tr-1", "auth-1")) is not None
    assert book.find("other", "authorizations", ("tr-1",)) is None
    assert book.find("pisp", "consents", ("consent-1", "cr-1")).behaviour == "bad_signature"  # type: ignore[union-attr]
    assert book.find("pisp", "transfers", ("tr-1",)) is None


def test_inbox_query_validation(sim: httpx.Client) -> None:
    assert sim.get("/_sim/inbox", params={"wait": "soon"}).json()["field"] == "wait"
    assert sim.get("/_sim/inbox", params={"wait": "9999"}).status_code == 400
    assert sim.get("/_sim/inbox", params={"error": "maybe"}).json()["field"] == "error"
    assert sim.get("/_sim/inbox", params={"after": "-1"}).json()["field"] == "after"


def test_parties_put_list_delete(sim: httpx.Client) -> None:
    assert sim.put(f"/_sim/parties/{PAYEE}/MSISDN/1", content=b"[]").status_code == 400
    assert sim.put(f"/_sim/parties/{PAYEE}/MSISDN/1", json={"name": "A"}).status_code == 200
    listed = sim.get(f"/_sim/parties/{PAYEE}").json()["items"]
    assert [(p["type"], p["id"], p["subId"]) for p in listed] == [("MSISDN", "1", None)]
    assert sim.delete(f"/_sim/parties/{PAYEE}/MSISDN/1").status_code == 204
    assert sim.delete(f"/_sim/parties/{PAYEE}/MSISDN/1").status_code == 404


def test_long_poll_returns_when_delivery_arrives(sim: httpx.Client) -> None:
    tid = new_id()
    result: dict[str, httpx.Response] = {}
    poller = threading.Thread(
        target=lambda: result.update(resp=sim.get("/_sim/inbox", params={"key": tid, "wait": 10}))
    )
    start = time.monotonic()
    poller.start()
    # Whether the poll parks before or after this delivery, it must return it long before its wait ends.
    deliver(sim, "PUT", f"/{PAYEE}/transfers/{tid}/error", {"errorInformation": {"errorCode": "3100"}})
    poller.join(15)
    assert time.monotonic() - start < 5
    body = result["resp"].json()
    assert [i["key"] for i in body["items"]] == [tid]
    assert body["items"][0]["error"] is True
    assert body["last"] >= body["items"][0]["seq"]


def test_long_poll_times_out_empty(sim: httpx.Client) -> None:
    start = time.monotonic()
    resp = sim.get("/_sim/inbox", params={"key": "never", "wait": 0.3})
    assert resp.status_code == 200 and resp.json()["items"] == []
    assert time.monotonic() - start >= 0.3


def test_after_cursor(sim: httpx.Client) -> None:
    tid = new_id()
    deliver(sim, "PUT", f"/{PAYEE}/transfers/{tid}", {"transferState": "COMMITTED"})
    first = sim.get("/_sim/inbox", params={"key": tid}).json()
    again = sim.get("/_sim/inbox", params={"key": tid, "after": first["last"]}).json()
    assert len(first["items"]) == 1 and again["items"] == []


def test_last_is_the_newest_sequence_number(sim: httpx.Client) -> None:
    """`mark()`'s endpoint: the same number the inbox query reports, without scanning the inbox."""
    assert sim.get("/_sim/inbox/last").json() == {"last": 0}
    for _ in range(3):
        sim.put(f"/payeefsp/transfers/{uuid.uuid4()}", json={})
    assert sim.get("/_sim/inbox/last").json() == {"last": 3} == {"last": sim.get("/_sim/inbox").json()["last"]}


def test_authorization_redacted(sim: httpx.Client) -> None:
    tid = new_id()
    extra = {"Authorization": "Bearer s3cret"}
    deliver(sim, "PUT", f"/{PAYEE}/transfers/{tid}", {"transferState": "COMMITTED"}, extra=extra)
    item = sim.get("/_sim/inbox", params={"key": tid}).json()["items"][0]
    assert item["headers"]["authorization"] == "[redacted]"
    assert "s3cret" not in str(item)


def test_bearer_token_sent_to_hub_and_redacted(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOJACHECK_BEARER_TOKEN", "tok-123")
    app = create_app(SimConfig(hub_url=hub.url))
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as sim:
        sim.put(f"/_sim/parties/{PAYEE}/MSISDN/42", json={"name": "X"})
        deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/42")
        got = hub.wait_path("PUT", "/parties/MSISDN/42")
        assert got.headers["authorization"] == "Bearer tok-123"
        out = sim.get("/_sim/inbox", params={"direction": "out", "wait": 5}).json()["items"]
        assert out[0]["headers"]["authorization"] == "[redacted]"


def test_unreachable_hub_recorded_as_out_item(sim_config: SimConfig) -> None:
    sim_config.hub_url = "http://127.0.0.1:9"  # discard port: nothing listens on loopback
    with ServerThread(create_app(sim_config)) as server, httpx.Client(base_url=server.url) as sim:
        deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/43")
        out = sim.get("/_sim/inbox", params={"direction": "out", "wait": 5}).json()["items"]
        assert out[0]["status"] is None and out[0]["deliveryError"]
        assert out[0]["error"] is True  # 3204: nobody stored party 43


def test_key_of() -> None:
    assert key_of("transfers", "/transfers/abc/error") == "abc"
    assert key_of("parties", "/parties/MSISDN/123/sub") == "MSISDN/123/sub"
    assert key_of("parties", "/parties/MSISDN/123/error") == "MSISDN/123"
    assert key_of("transfers", "/transfers", {"transferId": "t1"}) == "t1"


def test_inbox_ring_is_bounded() -> None:
    async def scenario() -> tuple[list[int], int]:
        inbox = Inbox(3)
        for n in range(5):
            inbox.record(
                direction="in", fsp="f", method="PUT", path=f"/transfers/{n}", resource="transfers",
                headers={}, body=None, status=200,
            )  # fmt: skip
        return [i["seq"] for i in inbox.query(InboxFilter())], inbox.last

    assert asyncio.run(scenario()) == ([3, 4, 5], 5)


def test_cli_config() -> None:
    args = build_parser().parse_args(
        ["sim", "--hub-url", "http://hub", "--route", "parties=http://als", "--secret", "payeefsp=s"]
    )
    config = sim_config(args)
    assert args.host == "127.0.0.1"
    assert config.url_for("parties", "/parties/MSISDN/1") == "http://als/parties/MSISDN/1"
    assert config.url_for("quotes", "/quotes/q") == "http://hub/quotes/q"
    assert config.secret_for("payeefsp") == "s"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sim", "--hub-url", "http://hub", "--route", "parties"])
    assert args.log_level == "warning"
    assert build_parser().parse_args(["sim", "--hub-url", "http://hub", "--log-level", "INFO"]).log_level == "info"
    # what a hand-started simulator prints once it listens: its address, and where its answers go
    assert start_line(config, "http://127.0.0.1:4041") == (
        "mojacheck sim: listening on http://127.0.0.1:4041, sending to the hub at http://hub; parties to http://als")
