"""The outbox keeps endpoint templates in memory (read several times per transfer): a change through the operator
API must be seen by the very next message, and the cache must never touch the database file's schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub_support import HubClient, Receiver, provision_fsp, provision_hub, unique

from mojacheck.hub.db import Database


def test_a_changed_endpoint_is_used_by_the_next_message(hub: HubClient, receiver: Receiver) -> None:
    provision_hub(hub)
    fsp = unique("cachefsp")
    provision_fsp(hub, receiver.url, fsp)
    assert hub.fspiop("GET", "/parties/MSISDN/19990000001", fsp).status_code == 202
    receiver.get(fsp, "PUT", "/parties/MSISDN/19990000001/error")  # the template is cached now
    moved = f"{receiver.url}/{fsp}/moved/parties/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/error"
    r = hub.admin("POST", f"/participants/{fsp}/endpoints",
                  {"type": "FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR", "value": moved})
    assert r.status_code == 201, r.text
    assert hub.fspiop("GET", "/parties/MSISDN/19990000002", fsp).status_code == 202
    receiver.get(fsp, "PUT", "/moved/parties/MSISDN/19990000002/error")


def test_watch_calls_back_on_every_change_and_leaves_the_schema_alone(tmp_path: Path) -> None:
    path = str(tmp_path / "hub.sqlite")
    db = Database(path)
    calls: list[str] = []
    db.watch("oracle", lambda: calls.append("changed"))
    with db.tx():
        db.execute("INSERT INTO oracle (id_type, endpoint_value, endpoint_type) VALUES ('MSISDN', 'x', 'URL')")
    with db.tx():
        db.execute("UPDATE oracle SET endpoint_value = 'y'")
    with db.tx():
        db.execute("DELETE FROM oracle")
    assert calls == ["changed"] * 3
    db.close()
    on_disk = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert on_disk == []
