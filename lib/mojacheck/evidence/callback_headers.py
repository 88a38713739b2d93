"""The header contract of what a Mojaloop hub delivers to an FSP, checked on every awaited callback.

What real Mojaloop puts on a callback (central-services-shared ``transformHeaders``, ml-api-adapter
``createCallbackHeaders``, account-lookup-service and quoting-service headers; the golden-path regression asserts
the same): ``Content-Type`` naming the path's resource and a version, ``Date`` (RFC 1123), ``FSPIOP-Source``,
``FSPIOP-Destination`` = the FSP it is delivered to, no ``Accept`` on a PUT, and ``FSPIOP-URI`` (the path from the
resource on) with ``FSPIOP-HTTP-Method`` = the method. The one exception Mojaloop has: account-lookup-service's own
``/participants`` answers carry only the URI the requester sent (the suite's requests always send one). A message
the hub made itself (``FSPIOP-Source`` = its name) speaks the deployment's content version, and with the hub's
public key in the params its ``FSPIOP-Signature`` must verify.

Three quirks real Mojaloop has, allowed where they occur (not counted as deviations): bulk-api-adapter's hub-made
``PUT /bulkTransfers`` carry the URI ``/<fsp>/bulkTransfers/…`` (central-services-shared's ``BULK_TRANSFERS_PUT``
template puts the receiving FSP's name in front); quoting-service's own errors about a bulk quote name ``quotes`` in
their Content-Type; transaction-requests-service's error about a transaction request it could not forward goes back
with the request's own headers (``FSPIOP-Source`` the FSP itself, ``FSPIOP-Destination`` the one it asked for).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mojacheck.fspiop import jws, parse_content_type, parse_http_date
from mojacheck.fspiop.errors import FspiopError

__all__ = [
    "FSPIOP_RESOURCES", "HeaderVerdict", "check_headers", "header_check_name", "is_header_check", "path_template",
]

# The FSPIOP API's resources (the Thirdparty API's relay, thirdparty-api-svc, has other header habits).
FSPIOP_RESOURCES = frozenset({"parties", "participants", "quotes", "transfers", "bulkQuotes", "bulkTransfers",
                              "transactionRequests", "authorizations", "fxQuotes", "fxTransfers"})
_NAMES = {"parties": ("{Type}", "{ID}", "{SubId}"), "participants": ("{Type}", "{ID}", "{SubId}")}


def path_template(path: str) -> str:
    """``/transfers/abc/error`` → ``/transfers/{ID}/error``, ``/parties/MSISDN/1/x`` → ``/parties/{Type}/{ID}/{SubId}``:
    a name that is the same from run to run."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    resource, rest = parts[0], parts[1:]
    error = bool(rest) and rest[-1] == "error"
    if error:
        rest = rest[:-1]
    names = _NAMES.get(resource, ("{ID}",) * len(rest))
    if resource == "participants" and len(rest) == 1:
        names = ("{ID}",)  # the batch answer, PUT /participants/{requestId}
    shown = "/".join([resource, *names[: len(rest)]])
    return f"/{shown}{'/error' if error else ''}"


_CHECK_MARK = " callback headers"


def header_check_name(method: str, path: str) -> str:
    """``PUT /transfers/{ID} callback headers``: one per awaited callback (a scenario numbers a repeat " #2")."""
    return f"{method} {path_template(path)}{_CHECK_MARK}"


def is_header_check(name: str) -> bool:
    """Whether a check (by name) is one of these header checks: like a body's conformance check, it exists only
    when its step received that callback, so run comparisons do not count one that ran in one run only."""
    return re.sub(r" #\d+$", "", name).endswith(_CHECK_MARK)


@dataclass(frozen=True)
class HeaderVerdict:
    """What was wrong with one callback's headers (empty: nothing), and whether the hub made it."""

    problems: tuple[str, ...]
    hub_made: bool

    @property
    def actual(self) -> str:
        return "; ".join(self.problems) if self.problems else "as Mojaloop sends them"


def _get(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def check_headers(method: str, path: str, fsp: str, headers: Mapping[str, str], body: Any, *, hub_name: str,
                  hub_version: str, hub_key: Any = None) -> HeaderVerdict:
    """Every way a delivered message's headers break the contract above (``hub_key``: the hub's JWS public key)."""
    resource = path.split("?", 1)[0].strip("/").split("/")[0]
    error = path.split("?", 1)[0].rstrip("/").endswith("/error")
    source = _get(headers, "fspiop-source")
    hub_made = bool(source) and str(source).lower() == hub_name.lower()
    problems = []
    version = None
    try:
        ct_resource, version = parse_content_type(_get(headers, "content-type") or "")
        quoting_quirk = resource == "bulkQuotes" and ct_resource == "quotes" and hub_made and error
        if ct_resource != resource and not quoting_quirk:
            problems.append(f"Content-Type names {ct_resource}, not {resource}")
    except FspiopError:
        problems.append(f"Content-Type {_get(headers, 'content-type')!r} is not an FSPIOP media type")
    try:
        parse_http_date(_get(headers, "date") or "")
    except FspiopError:
        problems.append(f"Date {_get(headers, 'date')!r} is not an RFC 1123 date")
    if not source:
        problems.append("no FSPIOP-Source")
    bounced = resource == "transactionRequests" and error and source == fsp  # the request's own headers, back
    if _get(headers, "fspiop-destination") != fsp and not bounced:
        problems.append(f"FSPIOP-Destination {_get(headers, 'fspiop-destination')!r}, not the receiving FSP {fsp}")
    if method.upper() == "PUT" and _get(headers, "accept") is not None:
        problems.append("Accept on a PUT callback")
    problems += _uri_problems(method, resource, headers, fsp if hub_made else None)
    if hub_made and version is not None and version != hub_version:
        problems.append(f"hub-made message in version {version}, the deployment's is {hub_version}")
    if hub_made and hub_key is not None:
        try:
            jws.verify(headers, body, hub_key)
        except FspiopError as exc:
            problems.append(f"FSPIOP-Signature does not verify with the hub's key: {exc}")
    return HeaderVerdict(tuple(problems), hub_made)


def _uri_problems(method: str, resource: str, headers: Mapping[str, str], hub_to: str | None) -> list[str]:
    uri, http_method = _get(headers, "fspiop-uri"), _get(headers, "fspiop-http-method")
    if uri is None or http_method is None:
        return ["no FSPIOP-URI / FSPIOP-HTTP-Method"]
    problems = []
    if http_method != method.upper():
        problems.append(f"FSPIOP-HTTP-Method {http_method}, delivered as {method.upper()}")
    path = uri.split("?", 1)[0]
    if resource == "bulkTransfers" and hub_to is not None and path.startswith(f"/{hub_to}/{resource}"):
        path = path[len(hub_to) + 1:]  # BULK_TRANSFERS_PUT: /{{fsp}}/bulkTransfers/{{ID}}
    if not path.startswith(f"/{resource}"):
        problems.append(f"FSPIOP-URI {uri!r} is not a /{resource} path")
    return problems
