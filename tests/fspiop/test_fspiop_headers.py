"""Header builders, parsers and the hub's synchronous header check (behaviour reference §2–3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mojacheck.fspiop import (
    SUPPORTED_VERSIONS,
    accept_header,
    callback_headers,
    content_type,
    http_date,
    new_traceparent,
    parse_accept,
    parse_content_type,
    parse_http_date,
    request_headers,
    resource_of,
    validate_headers,
)
from mojacheck.fspiop.errors import HeaderError

CT_PREFIX = "application/vnd.interoperability."
R13 = SUPPORTED_VERSIONS["13"]
R17 = SUPPORTED_VERSIONS["17"]


def good(version: str = "1.1", **overrides: str | None) -> dict[str, str]:
    headers = request_headers("transfers", "payerfsp", "payeefsp", version=version)
    for name, value in overrides.items():
        key = name.replace("_", "-")
        headers = {k: v for k, v in headers.items() if k.lower() != key.lower()}
        if value is not None:
            headers[key] = value
    return headers


def raised(method: str, headers: dict[str, str], supported: tuple[str, ...] = R13) -> HeaderError:
    with pytest.raises(HeaderError) as info:
        validate_headers(method, headers, supported)
    return info.value


# ---------------------------------------------------------------- builders


def test_content_type_and_accept_builders() -> None:
    assert content_type("quotes") == f"{CT_PREFIX}quotes+json;version=1.1"
    assert content_type("quotes", "2.0") == f"{CT_PREFIX}quotes+json;version=2.0"
    assert accept_header("parties") == f"{CT_PREFIX}parties+json;version=1"
    assert accept_header("parties", None) == f"{CT_PREFIX}parties+json"


def test_request_headers_full_set() -> None:
    headers = request_headers("transfers", "payerfsp", "payeefsp", version="2.0", traceparent="00-a-b-01")
    assert headers["Content-Type"] == content_type("transfers", "2.0")
    assert headers["Accept"] == accept_header("transfers", "2")
    assert headers["FSPIOP-Source"] == "payerfsp"
    assert headers["FSPIOP-Destination"] == "payeefsp"
    assert headers["traceparent"] == "00-a-b-01"
    assert abs(parse_http_date(headers["Date"]) - datetime.now(UTC)) < timedelta(seconds=5)


def test_request_headers_without_destination_or_accept() -> None:
    headers = request_headers("parties", "payerfsp", accept=False)
    assert "FSPIOP-Destination" not in headers
    assert "Accept" not in headers
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", headers["traceparent"])


def test_callback_headers_have_no_accept() -> None:
    headers = callback_headers("quotes", "payeefsp", "payerfsp", version="1.0")
    assert "Accept" not in headers
    assert headers["Content-Type"] == content_type("quotes", "1.0")
    assert (headers["FSPIOP-Source"], headers["FSPIOP-Destination"]) == ("payeefsp", "payerfsp")


def test_new_traceparent_shape_and_uniqueness() -> None:
    values = {new_traceparent() for _ in range(50)}
    assert len(values) == 50
    assert all(re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", v) for v in values)


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/transfers/abc/error", "transfers"),
        ("transfers", "transfers"),
        ("/parties/MSISDN/123", "parties"),
        ("/thirdpartyRequests/transactions/x", "thirdpartyRequests"),
        ("/quotes?x=1", "quotes"),
    ],
)
def test_resource_of(path: str, resource: str) -> None:
    assert resource_of(path) == resource


# ---------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{CT_PREFIX}transfers+json;version=1.1", ("transfers", "1.1")),
        (f"{CT_PREFIX}fxQuotes+json ; version=2.0", ("fxQuotes", "2.0")),
        (f"{CT_PREFIX}iso20022.parties+json;version=2.0", ("parties", "2.0")),
    ],
)
def test_parse_content_type(value: str, expected: tuple[str, str]) -> None:
    assert parse_content_type(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        f"{CT_PREFIX}transfers+json",
        f"{CT_PREFIX}transfers+json;version=1",
        f"{CT_PREFIX}transfers+json;  version=1.1",
        f"{CT_PREFIX}transfers+json;version=1.1;charset=utf-8",
    ],
)
def test_parse_content_type_malformed(value: str) -> None:
    with pytest.raises(HeaderError) as info:
        parse_content_type(value)
    assert (info.value.code, info.value.header) == ("3101", "content-type")


def test_parse_accept_list() -> None:
    value = f"{CT_PREFIX}quotes+json;version=1, {CT_PREFIX}quotes+json;version=2.0,{CT_PREFIX}quotes+json"
    assert parse_accept(value) == [("quotes", "1"), ("quotes", "2.0"), ("quotes", None)]


@pytest.mark.parametrize("value", ["*/*", f"{CT_PREFIX}quotes+json;version=x", f"{CT_PREFIX}quotes+json,"])
def test_parse_accept_malformed(value: str) -> None:
    with pytest.raises(HeaderError) as info:
        parse_accept(value)
    assert (info.value.code, info.value.header) == ("3101", "accept")


def test_http_date_format_known_instant() -> None:
    assert http_date(datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    # Another zone is converted to GMT, a naive value is taken as UTC.
    plus2 = timezone(timedelta(hours=2))
    assert http_date(datetime(2024, 3, 1, 1, 0, 0, tzinfo=plus2)) == "Thu, 29 Feb 2024 23:00:00 GMT"
    assert http_date(datetime(2024, 3, 1, 1, 0, 0)) == "Fri, 01 Mar 2024 01:00:00 GMT"


def test_http_date_round_trip() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    text = http_date(now)
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", text)
    assert parse_http_date(text) == now


def test_http_date_matches_an_independent_rfc1123_formatter_for_every_day_and_month() -> None:
    # email.utils formats RFC 2822/1123 dates with fixed English names, whatever the locale.
    from email.utils import format_datetime

    for month in range(1, 13):
        for day in range(1, 8):
            moment = datetime(2024, month, day, 13, 4, 5, tzinfo=UTC)
            assert http_date(moment) == format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    "value",
    ["2024-05-02T00:00:00Z", "Thu, 02 May 2024 00:00:00 UTC", "Thu, 31 Feb 2024 00:00:00 GMT", ""],
)
def test_parse_http_date_rejects(value: str) -> None:
    with pytest.raises(HeaderError) as info:
        parse_http_date(value)
    assert (info.value.code, info.value.header) == ("3101", "date")


# ---------------------------------------------------------------- validate_headers: accepted


def test_valid_request_returns_version() -> None:
    assert validate_headers("POST", good("1.0"), R13) == "1.0"
    assert validate_headers("post", good("1.1"), R13) == "1.1"


def test_release_17_accepts_2_0() -> None:
    assert validate_headers("POST", good("2.0"), R17) == "2.0"


def test_header_names_are_case_insensitive() -> None:
    lowered = {name.lower(): value for name, value in good().items()}
    upper = {name.upper(): value for name, value in good().items()}
    assert validate_headers("GET", lowered, R13) == "1.1"
    assert validate_headers("GET", upper, R13) == "1.1"


def test_put_callback_needs_no_accept() -> None:
    headers = callback_headers("transfers", "payeefsp", "payerfsp")
    assert validate_headers("PUT", headers, R13) == "1.1"
    assert validate_headers("PATCH", headers, R13) == "1.1"


def test_accept_without_version_means_any() -> None:
    assert validate_headers("GET", good(Accept=accept_header("transfers", None)), R13) == "1.1"


def test_accept_list_with_one_supported_version_passes() -> None:
    accept = f"{accept_header('transfers', '2')},{accept_header('transfers', '1.0')}"
    assert validate_headers("GET", good(Accept=accept), R13) == "1.1"


# ---------------------------------------------------------------- validate_headers: each error


def test_missing_content_type_is_3102() -> None:
    error = raised("PUT", good(Content_Type=None))
    assert (error.code, error.header, error.status, error.extension_list) == ("3102", "content-type", 400, None)
    assert str(error) == "Content-type is required"


def test_malformed_content_type_is_3101() -> None:
    error = raised("POST", good(Content_Type="application/json"))
    assert (error.code, error.header, error.status) == ("3101", "content-type", 400)


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_missing_accept_is_3102(method: str) -> None:
    error = raised(method, good(Accept=None))
    assert (error.code, error.header, error.status) == ("3102", "accept", 400)
    assert str(error) == "Accept is required"


def test_malformed_accept_is_3101_even_on_put() -> None:
    error = raised("PUT", good(Accept="*/*"))
    assert (error.code, error.header, error.status) == ("3101", "accept", 400)


def test_release_13_refuses_content_type_2_0() -> None:
    error = raised("PUT", callback_headers("transfers", "payeefsp", "payerfsp", version="2.0"), R13)
    assert (error.code, error.header, error.status) == ("3001", "content-type", 406)
    assert str(error) == "Client supplied a protocol version which is not supported by the server"
    assert error.extension_list == [{"key": "1", "value": "0"}, {"key": "1", "value": "1"}]


def test_release_13_refuses_accept_2() -> None:
    error = raised("POST", good("1.1", Accept=accept_header("transfers", "2")), R13)
    assert (error.code, error.header, error.status) == ("3001", "accept", 406)
    assert str(error).startswith("The Client requested an unsupported version")


def test_release_17_3001_extension_list_is_exact() -> None:
    error = raised("GET", good("1.1", Accept=accept_header("transfers", "3")), R17)
    assert error.code == "3001"
    assert error.status == 406
    assert error.extension_list == [
        {"key": "1", "value": "0"},
        {"key": "1", "value": "1"},
        {"key": "2", "value": "0"},
    ]


def test_missing_date_is_3102_and_bad_date_3101() -> None:
    assert (raised("POST", good(Date=None)).code, raised("POST", good(Date=None)).header) == ("3102", "date")
    error = raised("POST", good(Date="yesterday"))
    assert (error.code, error.header, error.status) == ("3101", "date", 400)


def test_missing_source_is_3102() -> None:
    error = raised("POST", good(FSPIOP_Source=None))
    assert (error.code, error.header, error.status) == ("3102", "fspiop-source", 400)


def test_content_type_presence_is_checked_before_accept() -> None:
    assert raised("GET", good(Content_Type=None, Accept=None)).header == "content-type"


def test_resource_must_match_path_when_given() -> None:
    headers = good()
    assert validate_headers("POST", headers, R13, resource="transfers") == "1.1"
    with pytest.raises(HeaderError) as info:
        validate_headers("POST", headers, R13, resource="quotes")
    assert info.value.code == "3101"
