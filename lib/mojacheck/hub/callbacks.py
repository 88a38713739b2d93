"""Outbound messages: endpoint templates, relays, hub-originated callbacks, delivery in the background.

Deliveries never block the request that caused them: each one is an asyncio task tracked by the outbox so
shutdown can wait for or cancel it. A missing endpoint or an unreachable FSP is logged (every delivery and its
outcome by the hub's ``LoggedDelivery``, see ``server/logs.py``) and, where the caller asks, answered with an error
callback to the requester; it never raises into a handler.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from mojacheck.fspiop import error_body
from mojacheck.hub.db import Database
from mojacheck.hub.headers import HOP_HEADERS, SIGNATURE, URI, HubVoice, hub_made, uri_of
from mojacheck.server import Delivery, DeliveryResult, dumps

log = logging.getLogger("mojacheck.hub")

_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")

# (error endpoint type, sub-id error endpoint type) per FSPIOP resource, for error callbacks.
ERROR_ENDPOINTS: dict[str, tuple[str, str | None, str]] = {
    # resource: (endpoint type, endpoint type when a SubId is present, path appended to a base-URL type)
    "parties": ("FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR", "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR", ""),
    "participants": (
        "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR", "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR", ""),
    "participants-batch": ("FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR", None, ""),
    "quotes": ("FSPIOP_CALLBACK_URL_QUOTES", None, "/quotes/{id}/error"),
    "transfers": ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", None, ""),
    "fxQuotes": ("FSPIOP_CALLBACK_URL_FX_QUOTES", None, "/fxQuotes/{id}/error"),
    "fxTransfers": ("FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR", None, ""),
}


def render(template: str, params: Mapping[str, str]) -> str:
    """Mustache-style substitution of ``{{name}}``; unknown names become empty, as Mustache does."""
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), "")), template)


def relay_headers(headers: Mapping[str, str], method: str, **overrides: str) -> dict[str, str]:
    """The sender's headers minus hop-by-hop ones; PUT/PATCH lose Accept (the 3PPI relay's rule; FSPIOP
    domains use ``Outbox.relay``)."""
    out = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
    if method in ("PUT", "PATCH"):
        out = {k: v for k, v in out.items() if k.lower() != "accept"}
    for name, value in overrides.items():
        out = {k: v for k, v in out.items() if k.lower() != name.lower()}
        out[name] = value
    return out


Signer = Callable[[Mapping[str, str], bytes], str]  # (headers, body) → the FSPIOP-Signature header value


def _error_uri(resource: str, params: Mapping[str, str], url: str) -> str | None:
    """FSPIOP-URI of a hub-made error callback, as each Mojaloop service writes it."""
    if resource == "parties":
        # ALS renders its error template without partySubIdOrType, so a SubId error reads ".../{ID}//error".
        sub = "/" if params.get("partySubIdOrType") else ""
        return f"/parties/{params.get('partyIdType', '')}/{params.get('partyIdentifier', '')}{sub}/error"
    if resource.startswith("participants"):
        return None  # ALS sets none on participants callbacks (unless it signs them)
    return uri_of(url, resource)


class Outbox:
    """Finds FSP endpoints and delivers messages to them in background tasks.

    ``voice``: the hub's name and content versions (``headers.HubVoice``); ``signer``: signs the messages the hub
    originates (JWS, ``FSPIOP-Signature``), None when the deployment does not sign.
    """

    def __init__(self, db: Database, voice: HubVoice, delivery: Delivery, signer: Signer | None = None) -> None:
        self.db = db
        self.voice = voice
        self.delivery = delivery
        self.signer = signer
        self.tasks: set[asyncio.Task[Any]] = set()
        # (fsp, endpoint type) → template: read on every message (several per transfer), written only by the
        # operator API; dropped whenever the endpoint table changes.
        self._endpoints: dict[tuple[str, str], str | None] = {}
        db.watch("endpoint", self._endpoints.clear)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; its exceptions are logged, never lost."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed", what, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    def endpoint(self, fsp: str, endpoint_type: str) -> str | None:
        key = (fsp, endpoint_type)
        if key in self._endpoints:
            return self._endpoints[key]
        row = self.db.one(
            "SELECT e.value FROM endpoint e JOIN participant p ON p.id = e.participant_id "
            "WHERE p.name = ? AND e.type = ?",
            (fsp, endpoint_type),
        )
        value = self._endpoints[key] = None if row is None else str(row["value"])
        return value

    def url(self, fsp: str, endpoint_type: str, params: Mapping[str, str], suffix: str = "") -> str | None:
        template = self.endpoint(fsp, endpoint_type)
        if template is None:
            return None
        return render(template, params).rstrip("/") + suffix if suffix else render(template, params)

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        on_failure: Callable[[DeliveryResult], None] | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Deliver in the background; ``on_failure`` runs when no 2xx came back (the delivery logs it), ``then``
        after a 2xx."""

        async def go() -> None:
            result = await self.delivery.send(method, url, headers, body)
            if result.ok:
                if then is not None:
                    then()
                return
            if on_failure is not None:
                on_failure(result)

        self.spawn(go(), f"{method} {url}")

    def relay(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        raw: bytes | None,
        *,
        on_failure: Callable[[DeliveryResult], None] | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Deliver an FSP's message as it came: ``headers`` already prepared with ``headers.relayed``, the body
        bytes untouched, the sender's signature kept."""
        self.send(method, url, headers, raw, on_failure=on_failure, then=then)

    def hub_message(
        self,
        method: str,
        destination: str,
        url: str,
        resource: str,
        body: Mapping[str, Any] | None,
        *,
        trigger: Mapping[str, str] | None = None,
        uri: str | None = None,
        derive_uri: bool = True,
        then: Callable[[], None] | None = None,
    ) -> None:
        """A message the hub itself originates (FSPIOP-Source: the hub, the deployment's content version).

        FSPIOP-URI is ``uri``, else (``derive_uri``) the callback URL's path from ``/{resource}`` on, as
        ml-api-adapter writes it; a signing hub always sets it (the signature protects it).
        """
        if uri is None and (derive_uri or self.signer is not None):
            uri = uri_of(url, resource)
        headers = hub_made(self.voice, resource, destination, method=method, uri=uri, trigger=trigger)
        self.send_made(method, url, headers, body, then=then)

    def send_made(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Mapping[str, Any] | None,
        *,
        sign: bool = True,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Deliver a hub-made message whose headers come from ``headers.hub_made`` (domains that add their own,
        e.g. bulk's Accept), signed when the deployment signs and ``sign`` (a service without a JWS signer, as
        transaction-requests-service, passes False)."""
        signing = sign and self.signer is not None
        data = None
        if body is not None:
            # Signed bodies go out compact with sorted keys: every Mojaloop JWS validator (arrival-order and
            # sorted-key serialisations alike) then re-serialises them to exactly the bytes that were signed.
            data = dumps(_sorted(body)) if signing else dumps(body)
        if signing and URI in headers and self.signer is not None:
            headers[SIGNATURE] = self.signer(headers, data or b"")
        self.send(method, url, headers, data, then=then)

    def error_to(
        self,
        fsp: str,
        resource: str,
        params: Mapping[str, str],
        code: str,
        detail: str | None = None,
        *,
        extension_list: list[dict[str, Any]] | None = None,
        trigger: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> bool:
        """``PUT …/error`` from the hub to ``fsp``; False (and a log line) when it has no such endpoint.

        ``description`` replaces the standard "<message> - <detail>" text where a service words it otherwise.
        """
        endpoint_type, sub_type, suffix = ERROR_ENDPOINTS[resource]
        if sub_type and params.get("partySubIdOrType"):
            endpoint_type = sub_type
        url = self.url(fsp, endpoint_type, params, suffix.format(id=params.get("ID", "")))
        if url is None:
            log.warning("no %s endpoint for %s: error %s %s not delivered", endpoint_type, fsp, code, detail)
            return False
        body = error_body(code, detail, extension_list)
        if description is not None:
            body["errorInformation"]["errorDescription"] = description[:128]
        topic = "participants" if resource == "participants-batch" else resource
        uri = _error_uri(resource, params, url)
        if uri is None and trigger is not None:
            uri = next((v for k, v in trigger.items() if k.lower() == URI.lower()), None)
        self.hub_message("PUT", fsp, url, topic, body, trigger=trigger, uri=uri, derive_uri=False)
        return True

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for pending deliveries, then cancel what is left."""
        pending = set(self.tasks)
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
