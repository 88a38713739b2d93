"""The shared context every route handler reaches as ``request.app.state.hub``.

A module of its own so that domain route modules can import ``Hub`` without importing the app that imports them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mojacheck.hub.callbacks import Outbox
from mojacheck.hub.config import HubConfig
from mojacheck.hub.db import Database
from mojacheck.hub.releases import Release


@dataclass
class Hub:
    """Everything a handler needs: configuration, release rules, the database and the outbox."""

    config: HubConfig
    release: Release
    db: Database
    outbox: Outbox
    background: list[asyncio.Task[Any]] = field(default_factory=list)
