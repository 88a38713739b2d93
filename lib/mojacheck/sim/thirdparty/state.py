"""What the simulator's 3PPI roles remember (consent requests, consents, DFSP settings, PISP key pairs), and the
``Flows`` the role modules drive: sending, asking and waiting, as ``service.ThirdParty`` provides them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mojacheck.fspiop.thirdparty import KeyPair
from mojacheck.server.delivery import DeliveryResult
from mojacheck.sim.payee import Incoming
from mojacheck.sim.state import Rule

TP_VERSION = "1.0"
FSPIOP_VERSION = "1.1"
WAIT_S = 20.0


@dataclass
class ConsentRequest:
    pisp: str
    user_id: str
    scopes: list[dict[str, Any]]
    channel: str
    callback_uri: str
    secret: str
    used: bool = False


@dataclass
class Consent:
    pisp: str
    consent_request_id: str
    scopes: list[dict[str, Any]]
    status: str = "ISSUED"  # ISSUED → REGISTERING → ACTIVE | INVALID; REVOKED
    credential: dict[str, Any] | None = None


@dataclass
class Dfsp:
    auth_channels: tuple[str, ...] = ("WEB", "OTP")
    auth_service: str = "centralAuth"
    users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: dict[str, ConsentRequest] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # account address → consentId
    transactions: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Pisp:
    keys: dict[str, KeyPair] = field(default_factory=dict)  # consentId → the credential's key pair
    links: dict[str, str] = field(default_factory=dict)  # account address → consentId


class Flows(Protocol):
    """What a role's flow may do (implemented by ``service.ThirdParty``)."""

    dfsps: dict[str, Dfsp]

    def dfsp(self, fsp: str) -> Dfsp: ...

    def pisp(self, fsp: str) -> Pisp: ...

    def rule(self, fsp: str, resource: str, ids: tuple[str, ...]) -> Rule | None: ...

    async def ask(self, fsp: str, destination: str, method: str, path: str, body: Any, *, answer_path: str,
                  answer_from: str | None = None, version: str = TP_VERSION) -> Incoming | None: ...

    async def send(self, fsp: str, destination: str, method: str, path: str, body: Any, *,
                   version: str = TP_VERSION) -> DeliveryResult: ...

    async def send_error(self, fsp: str, destination: str, path: str, code: str, detail: str) -> None: ...
