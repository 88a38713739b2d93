"""The callback header contract the notebooks check on every awaited callback."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from mojacheck.evidence.callback_headers import check_headers, path_template
from mojacheck.fspiop import http_date, jws

GOOD = {"content-type": "application/vnd.interoperability.transfers+json;version=1.1", "date": http_date(),
        "fspiop-source": "Hub", "fspiop-destination": "payer", "fspiop-uri": "/transfers/1",
        "fspiop-http-method": "PUT"}


def verdict(headers: dict, **kwargs: object) -> tuple[str, ...]:
    options = {"hub_name": "Hub", "hub_version": "1.1", **kwargs}
    return check_headers("PUT", "/transfers/1", "payer", headers, {"a": 1}, **options).problems  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "template"), [
    ("/transfers/abc", "/transfers/{ID}"), ("/transfers/abc/error", "/transfers/{ID}/error"),
    ("/parties/MSISDN/123/sub/error", "/parties/{Type}/{ID}/{SubId}/error"),
    ("/participants/abc", "/participants/{ID}"), ("/participants/MSISDN/1", "/participants/{Type}/{ID}"),
    ("/quotes", "/quotes"),
])
def test_path_templates(path: str, template: str) -> None:
    assert path_template(path) == template


def test_a_hub_made_callback_as_mojaloop_sends_it_passes() -> None:
    assert verdict(GOOD) == ()


@pytest.mark.parametrize(("change", "problem"), [
    ({"fspiop-uri": None}, "no FSPIOP-URI"),
    ({"fspiop-http-method": "PATCH"}, "FSPIOP-HTTP-Method PATCH"),
    ({"accept": "application/vnd.interoperability.transfers+json;version=1"}, "Accept on a PUT"),
    ({"fspiop-destination": "other"}, "not the receiving FSP"),
    ({"content-type": "application/vnd.interoperability.transfers+json;version=2.0"}, "version 2.0"),
    ({"date": "yesterday"}, "RFC 1123"),
])
def test_each_broken_rule_is_named(change: dict, problem: str) -> None:
    headers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert any(problem in p for p in verdict(headers)), verdict(headers)


def test_a_relayed_callback_may_be_in_the_senders_version() -> None:
    relayed = {**GOOD, "fspiop-source": "payee", "content-type": GOOD["content-type"].replace("1.1", "1.0")}
    assert verdict(relayed) == ()


def test_the_hubs_signature_is_verified_when_its_key_is_known() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private = RSAKey.import_key(pem)
    public = RSAKey.import_key(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    signed = jws.signed_headers(GOOD, json.dumps({"a": 1}, separators=(",", ":")).encode(), private)
    assert verdict(signed, hub_key=public) == ()
    assert any("does not verify" in p for p in verdict(GOOD, hub_key=public))


def _hub(resource: str, uri: str, *, to: str = "payer", version: str = "1.1") -> dict[str, str]:
    return {"content-type": f"application/vnd.interoperability.{resource}+json;version={version}",
            "date": http_date(), "fspiop-source": "Hub", "fspiop-destination": to, "fspiop-uri": uri,
            "fspiop-http-method": "PUT"}


def test_mojaloop_quirks_are_the_contract_where_they_occur_and_nowhere_else() -> None:
    # bulk-api-adapter's BULK_TRANSFERS_PUT template: the receiving FSP's name before the resource
    bulk = _hub("bulkTransfers", "/payer/bulkTransfers/1")
    assert check_headers("PUT", "/bulkTransfers/1", "payer", bulk, {}, hub_name="Hub", hub_version="1.1").problems == ()
    other = check_headers("PUT", "/bulkTransfers/1", "payer", _hub("bulkTransfers", "/payee/bulkTransfers/1"), {},
                          hub_name="Hub", hub_version="1.1").problems
    assert any("not a /bulkTransfers path" in p for p in other)
    # quoting-service's own error about a bulk quote names quotes; its relayed answers may not
    quirk = _hub("quotes", "/bulkQuotes/1/error")
    assert check_headers("PUT", "/bulkQuotes/1/error", "payer", quirk, {}, hub_name="Hub",
                         hub_version="1.1").problems == ()
    assert check_headers("PUT", "/bulkQuotes/1", "payer", _hub("quotes", "/bulkQuotes/1"), {}, hub_name="Hub",
                         hub_version="1.1").problems == ("Content-Type names quotes, not bulkQuotes",)
    # transaction-requests-service bounces the request's own headers with its error
    bounced = {**_hub("transactionRequests", "/transactionRequests/1/error", to="ghost"), "fspiop-source": "payee"}
    assert check_headers("PUT", "/transactionRequests/1/error", "payee", bounced, {}, hub_name="Hub",
                         hub_version="1.1").problems == ()
    relayed = {**bounced, "fspiop-source": "someone"}
    assert check_headers("PUT", "/transactionRequests/1/error", "payee", relayed, {}, hub_name="Hub",
                         hub_version="1.1").problems == ("FSPIOP-Destination 'ghost', not the receiving FSP payee",)
