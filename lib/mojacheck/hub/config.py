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
    # PROTOCOL_VERSIONS.CONTENT.DEFAULT: the version of the messages the hub originates (Mojaloop's reference
    # deployments run 1.1), independent of the accepted list; resource_versions overrides it per resource.
    content_version: str = "1.1"
    # SEND_TRANSFER_CONFIRMATION_TO_PAYEE: the payee also gets the commit (PUT from the hub) and the abort it
    # caused. ml-api-adapter's code default is on, its helm chart (what deployments run) has it off.
    transfer_confirmation_to_payee: bool = False
    # quoting-service SIMPLE_ROUTING_MODE (its default, and helm's): quotes are relayed without duplicate detection.
    quotes_simple_routing: bool = True
    # JWS (ENDPOINT_SECURITY.JWS): sign hub-made messages with this PEM key (its password from the env var named),
    # and validate FSPs' signatures with the <fspId>.pem public keys or certificates in jws_keys_dir.
    jws_signing_key: str | None = None
    jws_signing_key_password_env: str | None = None
    jws_validate: bool = False
    jws_keys_dir: str | None = None
    resource_versions: tuple[tuple[str, str], ...] = ()
    bearer_token: str | None = field(default_factory=_token_from_env)
    delivery_kind: str = DEFAULT_KIND
    delivery_timeout_s: float = 10.0
