"""Fixtures: a fake hub and the simulator pointed at it, both running for real on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sim_support import FakeHub

from mojacheck.server.serve import ServerThread
from mojacheck.sim import SimConfig, create_app


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def sim_config(hub: FakeHub) -> SimConfig:
    return SimConfig(hub_url=hub.url, bearer_token="")


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[httpx.Client]:
    with ServerThread(create_app(sim_config)) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
