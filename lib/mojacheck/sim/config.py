"""Simulator settings: where its answers go, per-FSP ILP secrets, inbox size."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mojacheck.server.delivery import DEFAULT_KIND

BEARER_ENV = "MOJACHECK_BEARER_TOKEN"
DEFAULT_INBOX_SIZE = 20_000


@dataclass
class SimConfig:
    """How one simulator process behaves.

    ``hub_url`` receives every FSPIOP request/callback the simulator sends as a payee; ``routes`` overrides it
    per resource (``{"parties": "http://als"}``) for a hub whose services live on different hosts.
    ``bearer_token`` None means: read ``MOJACHECK_BEARER_TOKEN`` at each send (so it can be set late).
    """

    hub_url: str = "http://127.0.0.1:3000"
    routes: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    bearer_token: str | None = None
    delivery: str = DEFAULT_KIND
    timeout: float = 10.0
    inbox_size: int = DEFAULT_INBOX_SIZE
    quote_ttl_s: int = 60
    # Folder of <fspId>.key PEM private keys: an FSP with a key there signs what it sends (FSPIOP-Signature).
    jws_keys_dir: str | None = None

    def url_for(self, resource: str, path: str) -> str:
        """Absolute URL for an FSPIOP ``path`` (``/quotes/abc``) of ``resource``."""
        base = self.routes.get(resource, self.hub_url)
        return base.rstrip("/") + path

    def secret_for(self, fsp: str) -> str:
        """The FSP's ILP secret; by default derived from its id so two runs agree without setup."""
        return self.secrets.get(fsp, f"mojacheck-sim-secret-{fsp}")

    def signing_key_file(self, fsp: str) -> Path | None:
        """The FSP's JWS signing key, None when the simulator does not sign as ``fsp``."""
        if not self.jws_keys_dir:
            return None
        file = Path(self.jws_keys_dir) / f"{fsp}.key"
        return file if file.is_file() else None

    def bearer(self) -> str | None:
        token = self.bearer_token if self.bearer_token is not None else os.environ.get(BEARER_ENV)
        return token or None
