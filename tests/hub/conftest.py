from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hub_support import HubClient, Receiver, provision_fsp, provision_hub, running_hub, unique

from mojacheck.server import ServerThread


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    with ServerThread(recv.app()) as server:
        recv.url = server.url
        yield recv


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / "hub.sqlite")) as client:
        yield client


@dataclass
class P2P:
    hub: HubClient
    receiver: Receiver
    payer: str
    payee: str


def make_p2p(hub: HubClient, receiver: Receiver, *, ndc: str = "10000", funds: str | None = "10000") -> P2P:
    provision_hub(hub)
    payer, payee = unique("payer"), unique("payee")
    provision_fsp(hub, receiver.url, payer, ndc=ndc, funds=funds)
    provision_fsp(hub, receiver.url, payee)
    return P2P(hub, receiver, payer, payee)


@pytest.fixture
def p2p(hub: HubClient, receiver: Receiver) -> P2P:
    return make_p2p(hub, receiver)
