"""The one exception tree of mojacheck.

On the ground floor and importing nothing of ours, so every floor (fspiop, server, hub, sim, the face, the
runner) may raise these. Exceptions carry the request/response they are about when there is one.

    MojacheckError
    ├── ParamsError            a params file is wrong (names the key)
    ├── FspiopError            a protocol value is wrong
    │   ├── HeaderError        a header is missing or malformed (carries the FSPIOP error code)
    │   ├── IlpError           an ILP packet, condition or fulfilment
    │   ├── CredentialError    a 3PPI public key or signature that cannot be read
    │   └── JwsError           an FSPIOP-Signature that cannot be made or does not verify
    ├── ServiceError           a service could not be reached or answered out of contract
    │   ├── HubUnreachable     no answer at all (connection refused, DNS, TLS)
    │   └── UnexpectedResponse a status or body the protocol does not allow here
    ├── CallbackTimeout        an awaited callback did not arrive by its deadline
    ├── WaitTimeout            a state awaited by polling was not reached by its deadline
    ├── NotReady               a notebook cannot start: what it needs could not be established
    ├── ScenarioStopped        a scenario the rest of the notebook builds on failed: the notebook stops there
    └── RunError               the runner could not do the run (exit code 2)
"""

from __future__ import annotations

from typing import Any


class MojacheckError(Exception):
    """Base of every error mojacheck raises on purpose."""

    def __init__(self, message: str, *, request: Any = None, response: Any = None) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class ParamsError(MojacheckError):
    """A params file is malformed: unknown key, wrong type, missing URL. Names the key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class FspiopError(MojacheckError):
    """An FSPIOP protocol value is wrong (header, ILP packet, error code)."""


class HeaderError(FspiopError):
    """A header is missing or malformed; carries the FSPIOP error code a hub answers with."""

    def __init__(self, message: str, *, code: str, header: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.header = header


class IlpError(FspiopError):
    """An ILP packet, condition or fulfilment cannot be decoded or does not match."""


class CredentialError(FspiopError):
    """A 3PPI public key or signature that cannot even be read."""


class JwsError(FspiopError):
    """An FSPIOP-Signature that cannot be made (key) or does not verify; the message says why, as Mojaloop's
    JWS validator words it."""


class ServiceError(MojacheckError):
    """A hub, simulator or other service could not be reached or answered out of contract."""


class HubUnreachable(ServiceError):
    """The service did not answer at all (connection refused, DNS, TLS)."""


class UnexpectedResponse(ServiceError):
    """The service answered with a status or body the protocol does not allow here."""


class CallbackTimeout(MojacheckError):
    """An awaited callback did not arrive before its deadline."""


class WaitTimeout(MojacheckError):
    """A state polled for (a window closed, the ledger quiet, funds arrived) was not reached by its deadline."""


class NotReady(MojacheckError):
    """A notebook cannot start because what it needs (a provisioned hub, a reachable simulator) could not be
    established. Shown in a notebook as its one sentence, not a traceback: the reader has nothing to debug."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of the traceback
        return [f"{type(self).__name__}: {self}"]


class ScenarioStopped(MojacheckError):
    """A scenario marked `required` did not run to the end, so the notebook stops after it: its failed check is
    already recorded (the runner counts the notebook as failed, exit 1, not as crashed). One sentence in a notebook."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class RunError(MojacheckError):
    """The runner could not do the run (exit code 2)."""
