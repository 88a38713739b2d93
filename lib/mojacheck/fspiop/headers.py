"""FSPIOP headers: building them, parsing them, and the hub's synchronous header check.

The check mirrors what Mojaloop services do before any business logic (behaviour reference §2–3): the
version negotiation of central-services-shared's header-validation plugin, then the schema's required headers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from mojacheck.fspiop.errors import HeaderError

SUPPORTED_VERSIONS: dict[str, tuple[str, ...]] = {
    "13": ("1.0", "1.1"),
    "14": ("1.0", "1.1"),
    "17": ("1.0", "1.1", "2.0"),
}

# Resources that exist only from FSPIOP 2.0: whatever version a deployment speaks otherwise, what the hub makes
# about them is 2.0 (central-services-shared's resourceVersions defaults; RESOURCE_VERSIONS may still name them).
RESOURCE_MIN_VERSIONS: dict[str, str] = {"fxQuotes": "2.0", "fxTransfers": "2.0"}
# What a service that passes no protocol versions of its own speaks when the hub makes a message
# (central-services-shared DEFAULT_API_VERSIONS, changed only by RESOURCE_VERSIONS): transaction-requests-service.
LIBRARY_DEFAULT_VERSIONS: dict[str, str] = {"transactionRequests": "1.0", "authorizations": "1.0"}

_MEDIA_PREFIX = "application/vnd.interoperability."
# The ISO 20022 mode (v17) inserts "iso20022." before the resource; the resource itself is what matters here.
_RESOURCE = r"(?:iso20022\.)?([A-Za-z][A-Za-z0-9]*)"
# Same shape as Mojaloop's content-type regex: one optional space on each side of ';', major.minor required.
_CONTENT_TYPE_RE = re.compile(rf"^application/vnd\.interoperability\.{_RESOURCE}\+json\s?;\s?version=(\d+\.\d+)$")
# One Accept item: the version is optional and may be a bare major ("1").
_ACCEPT_ITEM_RE = re.compile(
    rf"^application/vnd\.interoperability\.{_RESOURCE}\+json(?:\s?;\s?version=(\d+(?:\.\d+)?))?$"
)
_TRACEPARENT_FLAGS = "01"

# Fixed English names: strftime's %a/%b follow the process locale, which must not leak onto the wire.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HTTP_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$"
)

# Wording of the Mojaloop header-validation plugin, so descriptions read as a real hub's do.
MSG_REQUIRE_CONTENT_TYPE = "Content-type is required"
MSG_REQUIRE_ACCEPT = "Accept is required"
MSG_INVALID_CONTENT_TYPE = "Invalid content-type header"
MSG_INVALID_ACCEPT = "Invalid accept header"
MSG_ACCEPT_VERSION = "The Client requested an unsupported version, see extension list for supported version(s)."
MSG_CONTENT_VERSION = "Client supplied a protocol version which is not supported by the server"

_ACCEPT_REQUIRED_METHODS = frozenset({"GET", "POST", "DELETE"})


def header_error(
    message: str,
    code: str,
    header: str | None,
    *,
    status: int = 400,
    extension_list: list[dict[str, str]] | None = None,
) -> HeaderError:
    """A HeaderError with what a hub needs to answer: `.status` and `.extension_list` besides `.code`."""
    error = HeaderError(message, code=code, header=header)
    error.status = status  # type: ignore[attr-defined]
    error.extension_list = extension_list  # type: ignore[attr-defined]
    return error


# ---------------------------------------------------------------- builders


def content_type(resource: str, version: str = "1.1") -> str:
    return f"{_MEDIA_PREFIX}{resource}+json;version={version}"


def accept_header(resource: str, version: str | None = "1") -> str:
    base = f"{_MEDIA_PREFIX}{resource}+json"
    return base if version is None else f"{base};version={version}"


def http_date(when: datetime | None = None) -> str:
    """RFC 1123 date in GMT, e.g. `Tue, 15 Nov 1994 08:12:31 GMT`. Naive datetimes are taken as UTC."""
    moment = datetime.now(UTC) if when is None else when
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, sampled)."""
    trace_id = secrets.token_hex(16)
    span_id = secrets.token_hex(8)
    # All-zero ids are invalid per W3C; astronomically unlikely, but cheap to rule out.
    if int(trace_id, 16) == 0 or int(span_id, 16) == 0:
        return new_traceparent()
    return f"00-{trace_id}-{span_id}-{_TRACEPARENT_FLAGS}"


def resource_of(path: str) -> str:
    """First path segment: `/transfers/x/error` → `transfers` (query string ignored)."""
    return path.split("?", 1)[0].lstrip("/").split("/", 1)[0]


def request_headers(
    resource: str,
    source: str,
    destination: str | None = None,
    *,
    version: str = "1.1",
    accept: bool = True,
    traceparent: str | None = None,
) -> dict[str, str]:
    """Headers of an FSPIOP request (POST/GET/DELETE): Accept asks for the major of `version`."""
    headers = {"Content-Type": content_type(resource, version)}
    if accept:
        headers["Accept"] = accept_header(resource, version.split(".", 1)[0])
    headers["Date"] = http_date()
    headers["FSPIOP-Source"] = source
    if destination is not None:
        headers["FSPIOP-Destination"] = destination
    headers["traceparent"] = traceparent or new_traceparent()
    return headers


def callback_headers(resource: str, source: str, destination: str, *, version: str = "1.1") -> dict[str, str]:
    """Headers of a PUT/PATCH callback: no Accept (quoting-service rejects PUT /quotes that carry one)."""
    return request_headers(resource, source, destination, version=version, accept=False)


# ---------------------------------------------------------------- parsers


def parse_content_type(value: str) -> tuple[str, str]:
    """`application/vnd.interoperability.transfers+json;version=1.1` → ("transfers", "1.1")."""
    match = _CONTENT_TYPE_RE.match(value.strip())
    if match is None:
        raise header_error(MSG_INVALID_CONTENT_TYPE, "3101", "content-type")
    return match.group(1), match.group(2)


def parse_accept(value: str) -> list[tuple[str, str | None]]:
    """Comma list of FSPIOP media types → [(resource, version or None)]; None means any version."""
    items: list[tuple[str, str | None]] = []
    for part in value.split(","):
        match = _ACCEPT_ITEM_RE.match(part.strip())
        if match is None:
            raise header_error(MSG_INVALID_ACCEPT, "3101", "accept")
        items.append((match.group(1), match.group(2)))
    return items


def parse_http_date(value: str) -> datetime:
    """RFC 1123 date → aware UTC datetime; anything else → HeaderError 3101."""
    match = _HTTP_DATE_RE.match(value.strip())
    if match is None:
        raise header_error(f"Invalid date header: {value!r}", "3101", "date")
    _, day, month, year, hour, minute, second = match.groups()
    try:
        return datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError as exc:  # 31 Feb, hour 25 ...
        raise header_error(f"Invalid date header: {value!r}", "3101", "date") from exc


# ---------------------------------------------------------------- the hub's check


def version_extension_list(supported: Sequence[str]) -> list[dict[str, str]]:
    """Supported versions as the 3001 extension list: major → key, minor → value, de-duplicated, in order."""
    seen: list[dict[str, str]] = []
    for version in supported:
        major, _, minor = version.partition(".")
        entry = {"key": major, "value": minor or "0"}
        if entry not in seen:
            seen.append(entry)
    return seen


def accept_versions(supported: Sequence[str]) -> set[str]:
    """Accept may name a bare major: "1.1" supported means "1" and "1.1" are acceptable."""
    return set(supported) | {v.split(".", 1)[0] for v in supported}


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _unsupported(message: str, header: str, supported: Sequence[str]) -> HeaderError:
    return header_error(message, "3001", header, status=406, extension_list=version_extension_list(supported))


def _check_accept(value: str | None, supported: Sequence[str], resource: str | None) -> None:
    if value is None:
        raise header_error(MSG_REQUIRE_ACCEPT, "3102", "accept")
    items = parse_accept(value)
    if resource is not None and any(item_resource != resource for item_resource, _ in items):
        raise header_error(MSG_INVALID_ACCEPT, "3101", "accept")
    acceptable = accept_versions(supported)
    if not any(version is None or version in acceptable for _, version in items):
        raise _unsupported(MSG_ACCEPT_VERSION, "accept", supported)


def _check_content_type(value: str, supported: Sequence[str], resource: str | None) -> str:
    ct_resource, version = parse_content_type(value)
    if resource is not None and ct_resource != resource:
        raise header_error(MSG_INVALID_CONTENT_TYPE, "3101", "content-type")
    if version not in supported:
        raise _unsupported(MSG_CONTENT_VERSION, "content-type", supported)
    return version


def validate_headers(
    method: str,
    headers: Mapping[str, str],
    supported: Sequence[str],
    *,
    resource: str | None = None,
) -> str:
    """The hub's synchronous header check; returns the Content-Type version in use.

    Order as Mojaloop: Content-Type presence, then Accept (required on GET/POST/DELETE, checked whenever
    present), then Content-Type syntax and version, then the schema's required Date and FSPIOP-Source.
    `resource` (the request path's first segment), when given, must match the media types' resource.
    Raises HeaderError with `.code`, `.header`, `.status` (400 or 406) and `.extension_list`.
    """
    lowered = _lower_keys(headers)
    ct_value = lowered.get("content-type")
    if ct_value is None:
        raise header_error(MSG_REQUIRE_CONTENT_TYPE, "3102", "content-type")
    if method.upper() in _ACCEPT_REQUIRED_METHODS or "accept" in lowered:
        _check_accept(lowered.get("accept"), supported, resource)
    version = _check_content_type(ct_value, supported, resource)
    date_value = lowered.get("date")
    if date_value is None:
        raise header_error('"date" is required', "3102", "date")
    parse_http_date(date_value)
    if not lowered.get("fspiop-source"):
        raise header_error('"fspiop-source" is required', "3102", "fspiop-source")
    return version
