"""The headers of everything the hub sends: messages it makes itself and messages it relays.

One place for every domain (transfers, parties, quotes, and the FX, request-to-pay and bulk domains to come), so
they all speak as Mojaloop's services do (central-services-shared ``Headers.transformHeaders``, ml-api-adapter
``createCallbackHeaders``, account-lookup-service ``createCallbackHeaders``, quoting-service's header whitelist):

* **hub-made** (``FSPIOP-Source`` = the hub's name): ``Content-Type`` names the resource and the deployment's
  content version for it (``PROTOCOL_VERSIONS.CONTENT.DEFAULT`` of the service that speaks for the resource), ``Date``
  is the date of the request that caused the message (a fresh one for timeouts), ``FSPIOP-Destination`` the FSP
  addressed, no ``Accept`` on PUT, and ``FSPIOP-URI``/``FSPIOP-HTTP-Method`` where the service sets them;
* **relayed**: the sender's headers as they came (its Content-Type, Date and signature), minus the ones that
  belong to one HTTP hop, with ``Accept`` removed from PUT (not PATCH or POST); ml-api-adapter overwrites
  ``FSPIOP-URI``/``FSPIOP-HTTP-Method``, the account-lookup and quoting services keep the sender's URI and only
  correct an ``FSPIOP-HTTP-Method`` the sender gave.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mojacheck.fspiop import RESOURCE_MIN_VERSIONS, content_type, http_date

# Headers that belong to one HTTP hop, or to the hub's own gateway, and must not be relayed to an FSP.
# (Mojaloop relays even Authorization; an FSP's token never goes to another FSP here.)
HOP_HEADERS = frozenset({
    "host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding",
    "authorization", "expect", "upgrade", "te", "proxy-connection",
})
URI = "FSPIOP-URI"
HTTP_METHOD = "FSPIOP-HTTP-Method"
SIGNATURE = "FSPIOP-Signature"


@dataclass(frozen=True)
class HubVoice:
    """How the hub speaks: its name in ``FSPIOP-Source`` and the content version of what it originates.

    ``content_version`` is ``PROTOCOL_VERSIONS.CONTENT.DEFAULT``; ``resource_versions`` overrides it per resource
    (``transfers``, ``parties``, ``participants``, ``quotes``…), as a deployment whose services were configured
    apart does (each Mojaloop service has its own default, and ``RESOURCE_VERSIONS`` names them per resource).
    """

    name: str = "Hub"
    content_version: str = "1.1"
    resource_versions: Mapping[str, str] = field(default_factory=dict)

    def version_for(self, resource: str) -> str:
        """The deployment's version for ``resource``; FX resources, which FSPIOP 1.x lacks, are 2.0 unless named."""
        return self.resource_versions.get(resource) or RESOURCE_MIN_VERSIONS.get(resource) or self.content_version

    def is_hub(self, source: str | None) -> bool:
        """Whether ``source`` names the hub (Mojaloop matches ``^<name>$`` case-insensitively)."""
        return bool(source) and str(source).lower() == self.name.lower()


def _without(headers: Mapping[str, str], *names: str) -> dict[str, str]:
    gone = {n.lower() for n in names}
    return {k: v for k, v in headers.items() if k.lower() not in gone}


def _get(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def hub_made(
    voice: HubVoice,
    resource: str,
    destination: str,
    *,
    method: str,
    uri: str | None,
    trigger: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a message the hub originates to ``destination``.

    ``uri`` is the callback's path (``/transfers/{ID}/error``); None where the service sets none (the
    account-lookup service's participants callbacks without JWS). ``trigger``: the headers of the request that
    caused the message; its Date and trace context are kept (a timeout has none: fresh Date).
    """
    trigger = trigger or {}
    headers = {"Content-Type": content_type(resource, voice.version_for(resource))}
    # Only a PUT loses Accept on the way out (transformHeaders); a PATCH keeps one its trigger carried.
    if method.upper() == "PATCH" and (accept := _get(trigger, "accept")) is not None:
        headers["Accept"] = accept
    headers["Date"] = _get(trigger, "date") or http_date()
    headers["FSPIOP-Source"] = voice.name
    headers["FSPIOP-Destination"] = destination
    if uri is not None:
        headers[URI] = uri
        headers[HTTP_METHOD] = method.upper()
    for name in ("traceparent", "tracestate"):
        if (value := _get(trigger, name)) is not None:
            headers[name] = value
    return headers


def relayed(
    sender: Mapping[str, str],
    method: str,
    *,
    destination: str | None = None,
    uri: str | None = None,
) -> dict[str, str]:
    """The sender's headers for the next hop.

    ``uri`` given (ml-api-adapter): ``FSPIOP-URI`` and ``FSPIOP-HTTP-Method`` are set to it and ``method``,
    whatever the sender sent. Without it (account-lookup, quoting): the sender's URI stays, and an
    ``FSPIOP-HTTP-Method`` it sent is corrected to ``method``. ``destination`` replaces FSPIOP-Destination.
    """
    out = _without(sender, *HOP_HEADERS)
    if method.upper() == "PUT":
        out = _without(out, "accept")
    if destination is not None:
        out = _without(out, "fspiop-destination")
        out["FSPIOP-Destination"] = destination
    if uri is not None:
        out = _without(out, URI, HTTP_METHOD)
        out[URI] = uri
        out[HTTP_METHOD] = method.upper()
    elif _get(out, HTTP_METHOD) is not None:
        out = _without(out, HTTP_METHOD)
        out[HTTP_METHOD] = method.upper()
    return out


def uri_of(url: str, resource: str) -> str:
    """ml-api-adapter's FSPIOP-URI: the callback URL's path cut from its ``/{resource}`` segment to the end
    (``http://fsp/base/transfers/1/error`` → ``/transfers/1/error``), so an FSP's base path never shows."""
    path = urlsplit(url).path
    found = re.search(rf"/{re.escape(resource)}(/|$)", path)
    return path[found.start():] if found else path
