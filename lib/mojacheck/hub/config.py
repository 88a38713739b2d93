"""How one embedded hub is configured (the CLI and the runner build this)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mojacheck.server.delivery import DEFAULT_KIND

TOKEN_ENV = "MOJACHECK_BEARER_TOKEN"


def _token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


@dataclass(frozen=True)
class HubConfig:
    """Settings of one hub process.

    ``expiry_interval_s`` defaults to 1 s although Mojaloop sweeps every 15 s: tests and notebooks wait on
    expiry, and a shorter sweep only makes expiry callbacks arrive sooner, never earlier than the expiration.
    """

    db_path: str = "mojacheck-hub.sqlite"
    release: str = "17"
    expiry_interval_s: float = 1.0
    on_us_transfers: bool = False
    supported_versions: tuple[str, ...] | None = None  # None: the release's own list
    bearer_token: str | None = field(default_factory=_token_from_env)
    delivery_kind: str = DEFAULT_KIND
    delivery_timeout_s: float = 10.0
