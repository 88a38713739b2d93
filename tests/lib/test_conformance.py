"""conformance.py and evidence/specs.py: callback bodies against FSPIOP OpenAPI files, and whether validation is on.

Every validator test runs twice: against small OpenAPI fragments this module writes itself (always), and against
the official files of npm @mojaloop/api-snippets at the pinned version, from the user's cache that `mojacheck specs`
fills (`nox -s tests` runs it first). The second run skips, saying why, only when the cache does not hold them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mojacheck.evidence import specs
from mojacheck.evidence.conformance import SPEC_FILES, Conformance, operation_for, spec_version, validate
from mojacheck.evidence.specs import spec_status
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.reports.runs import check_identity

QUOTE = {
    "transferAmount": {"amount": "100", "currency": "USD"},
    "payeeReceiveAmount": {"amount": "100", "currency": "USD"},
    "expiration": "2026-11-27T22:15:00.000Z",
    "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w",
    "condition": "f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA",
}


# ---------------------------------------------------------------- a made-up FSPIOP-like definition, per version


def _body(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _op(ref: str | None = None, *, shared: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"responses": {"200": {"description": "OK"}}}
    if ref:
        op["requestBody"] = _body(ref)
    if shared:  # a requestBody kept under components/requestBodies
        op["requestBody"] = {"$ref": f"#/components/requestBodies/{shared}"}
    return op


def fragment(closed: bool) -> dict[str, Any]:
    """Enough of an FSPIOP definition for the validator: quotes, parties (with SubId), transfers, error
    callbacks. `closed`: objects forbid additional properties, as FSPIOP 2.0's do."""
    money = {"type": "object", "required": ["amount", "currency"], "properties": {
        "amount": {"type": "string", "pattern": r"^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$"},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3}}}
    quote = {"type": "object", "required": ["transferAmount", "expiration", "ilpPacket", "condition"], "properties": {
        "transferAmount": {"$ref": "#/components/schemas/Money"},
        "payeeReceiveAmount": {"$ref": "#/components/schemas/Money"},
        "expiration": {"type": "string"}, "ilpPacket": {"type": "string"}, "condition": {"type": "string"}}}
    name = {"title": "FirstName", "type": "string", "pattern": r"^(?!\s*$)[\p{L}\p{gc=Mark} .,'-]{1,128}$"}
    party = {"type": "object", "required": ["party"], "properties": {"party": {"type": "object", "properties": {
        "partyIdInfo": {"type": "object"},
        "personalInfo": {"type": "object", "properties": {"complexName": {"type": "object", "properties": {
            "firstName": {"$ref": "#/components/schemas/FirstName"},
            "lastName": {"$ref": "#/components/schemas/FirstName"}}}}}}}}}
    error = {"type": "object", "required": ["errorInformation"], "properties": {"errorInformation": {
        "type": "object", "required": ["errorCode", "errorDescription"], "properties": {
            "errorCode": {"type": "string", "pattern": r"^[1-9]\d{3}$"},
            "errorDescription": {"type": "string", "minLength": 1, "maxLength": 128}}}}}
    transfer = {"type": "object", "required": ["transferState"], "properties": {"transferState": {"type": "string"}}}
    schemas = {"Money": money, "QuotesIDPutResponse": quote, "FirstName": name, "PartiesTypeIDPutResponse": party,
               "ErrorInformationObject": error, "TransfersIDPutResponse": transfer}
    if closed:
        for schema in (money, quote):
            schema["additionalProperties"] = False
    paths = {
        "/quotes/{ID}": {"get": _op(), "put": _op("QuotesIDPutResponse")},
        "/quotes/{ID}/error": {"put": _op("ErrorInformationObject")},
        "/parties/{Type}/{ID}": {"put": _op("PartiesTypeIDPutResponse")},
        "/parties/{Type}/{ID}/error": {"put": _op("ErrorInformationObject")},
        "/parties/{Type}/{ID}/{SubId}": {"put": _op("PartiesTypeIDPutResponse")},
        "/participants/{ID}/error": {"put": _op("ErrorInformationObject")},
        "/participants/{Type}/{ID}": {"put": _op("PartiesTypeIDPutResponse")},
        "/transfers/{ID}": {"put": _op("TransfersIDPutResponse"), "patch": _op("TransfersIDPutResponse")},
        "/transfers/{ID}/error": {"put": _op(shared="ErrorInformationObject")},
    }
    return {"openapi": "3.0.1", "info": {"title": "fragment for mojacheck tests", "version": "0"}, "paths": paths,
            "components": {"schemas": schemas, "requestBodies": {"ErrorInformationObject": _body(
                "ErrorInformationObject")}}}


def write_fragments(folder: Path, versions: tuple[str, ...] = tuple(SPEC_FILES)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for version in versions:
        doc = fragment(closed=version == "2.0")
        (folder / SPEC_FILES[version]).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


def official_specs() -> Path:
    """The official files in the pinned cache, or a skip that says how to get them."""
    folder = specs.pinned_spec_dir()
    if not specs.is_cached():
        pytest.skip(f"npm {specs.PACKAGE} {specs.VERSION} is not in the cache {folder.parent} "
                    "(`mojacheck specs` fetches it; `nox -s tests` runs that before the tests)")
    return folder


@pytest.fixture(params=["fragments", "api-snippets"])
def spec_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "fragments":
        return write_fragments(tmp_path_factory.mktemp("specs"))
    return official_specs()


def headers(version: str) -> dict[str, str]:
    return {"content-type": f"application/vnd.interoperability.quotes+json;version={version}"}


# ---------------------------------------------------------------- the validator


def test_a_valid_put_quotes_body_passes(spec_dir: Path) -> None:
    v11 = spec_dir / SPEC_FILES["1.1"]
    assert validate(v11, "PUT", "/quotes/0b9d8c4e-1c5e-4d2b-9b33-0f1f0c8f1e11", QUOTE) == ("PUT /quotes/{ID}", [])


def test_a_body_missing_condition_fails_naming_it(spec_dir: Path) -> None:
    body = {k: v for k, v in QUOTE.items() if k != "condition"}
    operation, violations = validate(spec_dir / SPEC_FILES["1.1"], "PUT", "/quotes/abc", body)
    assert operation == "PUT /quotes/{ID}"
    assert len(violations) == 1 and "'condition' is a required property" in violations[0], violations


def test_violations_name_where_and_what_shortly(spec_dir: Path) -> None:
    body = {**QUOTE, "transferAmount": {"amount": "1.2.3", "currency": "USD"}, "extra": 1}
    _, violations = validate(spec_dir / SPEC_FILES["2.0"], "PUT", "/quotes/abc", body)
    assert any(v.startswith("$.transferAmount.amount: '1.2.3' does not match") for v in violations), violations
    assert any(v.startswith("$: Additional properties are not allowed ('extra'") for v in violations), violations
    assert all(len(v) < 200 for v in violations)


def test_error_callbacks_are_validated_against_error_information(spec_dir: Path) -> None:
    v11 = spec_dir / SPEC_FILES["1.1"]
    ok = {"errorInformation": {"errorCode": "3100", "errorDescription": "Generic validation error"}}
    assert validate(v11, "PUT", "/transfers/abc/error", ok) == ("PUT /transfers/{ID}/error", [])
    _, violations = validate(v11, "PUT", "/parties/MSISDN/123/error", {"errorInformation": {"errorCode": "31"}})
    assert violations and all(v.startswith("$.errorInformation") for v in violations), violations
    outcome = Conformance(str(spec_dir)).check("PUT", "/transfers/abc/error", headers("1.1"), ok)
    # named by the resource's template plus a remark, so it pairs with the success callback across runs
    assert outcome.operation == "PUT /transfers/{ID}/error"
    assert outcome.check_name == "PUT /transfers/{ID} body conforms to FSPIOP 1.1 (error callback)"
    assert check_identity(outcome.check_name) == "PUT /transfers/{ID} body conforms to FSPIOP 1.1"


def test_templates_pick_literal_segments_and_subids(spec_dir: Path) -> None:
    spec_paths = {"paths": {"/participants/{ID}/error": {"put": {}}, "/participants/{Type}/{ID}": {"put": {}}}}
    assert operation_for(spec_paths, "PUT", "/participants/abc/error") == "/participants/{ID}/error"
    assert operation_for(spec_paths, "PUT", "/participants/MSISDN/123") == "/participants/{Type}/{ID}"
    v11 = spec_dir / SPEC_FILES["1.1"]
    found = validate(v11, "PUT", "/parties/MSISDN/123/sub?x=1", {})
    assert found is not None and found[0] == "PUT /parties/{Type}/{ID}/{SubId}"
    assert validate(v11, "PATCH", "/transfers/abc", {})[0] == "PATCH /transfers/{ID}"


def test_unicode_name_patterns_work(spec_dir: Path) -> None:  # the spec's name patterns use \p{L}, which re lacks
    v11 = spec_dir / SPEC_FILES["1.1"]
    party = {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123"},
             "personalInfo": {"complexName": {"firstName": "Zoë", "lastName": "မောင်"}}}
    assert validate(v11, "PUT", "/parties/MSISDN/123", {"party": party})[1] == []
    party["personalInfo"]["complexName"]["firstName"] = "<script>"
    assert validate(v11, "PUT", "/parties/MSISDN/123", {"party": party})[1]


def test_paths_the_spec_does_not_define_are_not_checked(spec_dir: Path) -> None:
    v11 = spec_dir / SPEC_FILES["1.1"]
    assert validate(v11, "PUT", "/consentRequests/abc", {"anything": 1}) is None  # 3PPI
    assert validate(v11, "PUT", "/thirdpartyRequests/transactions/abc", {}) is None
    assert validate(v11, "GET", "/quotes/abc", None) is None  # no request body
    c = Conformance(str(spec_dir))
    assert c.check("PUT", "/consents/abc", headers("1.1"), {}) is None
    assert c.check("POST", "/_sim/rules", headers("1.1"), {}) is None


def test_the_version_in_content_type_picks_the_file(spec_dir: Path) -> None:
    c = Conformance(str(spec_dir))
    extra = {**QUOTE, "extra": 1}  # 1.1 allows additional properties, 2.0 does not
    v11 = c.check("PUT", "/quotes/abc", headers("1.1"), extra)
    v20 = c.check("PUT", "/quotes/abc", {"Content-Type": "application/vnd.interoperability.quotes+json; version=2.0"},
                  extra)
    assert (v11.version, v11.violations, v11.actual) == ("1.1", (), "no violations")
    assert v11.check_name == "PUT /quotes/{ID} body conforms to FSPIOP 1.1"
    assert v20.version == "2.0" and v20.violations and v20.check_name.endswith("FSPIOP 2.0")
    assert c.check("PUT", "/quotes/abc", {"content-type": "application/json"}, QUOTE) is None
    assert c.check("PUT", "/quotes/abc", headers("9.9"), QUOTE) is None
    assert spec_version({"Content-Type": "application/vnd.interoperability.iso20022.quotes+json;version=2.0"}) is None


def test_a_missing_version_file_is_not_checked_and_the_note_says_which_exist(spec_dir: Path, tmp_path: Path) -> None:
    (tmp_path / SPEC_FILES["1.1"]).symlink_to(spec_dir / SPEC_FILES["1.1"])
    c = Conformance(str(tmp_path))
    assert c.available() == ["1.1"]
    assert c.check("PUT", "/quotes/abc", headers("2.0"), QUOTE) is None
    assert c.check("PUT", "/quotes/abc", headers("1.1"), QUOTE) is not None
    assert "ON" in c.note() and "versions available: 1.1" in c.note() and "1.0, 2.0 are not validated" in c.note()


def test_a_file_that_is_no_openapi_document_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / SPEC_FILES["1.1"]).write_text("just: text\n", encoding="utf-8")
    with pytest.raises(MojacheckError, match="is not an OpenAPI 3 document with paths"):
        validate(tmp_path / SPEC_FILES["1.1"], "PUT", "/quotes/abc", QUOTE)


# ---------------------------------------------------------------- on or off, and why (evidence/specs.py)


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(specs.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("spec_dir", [None, "/nonexistent/specs/fspiop"])
def test_validation_off_checks_nothing_and_says_why(spec_dir: str | None, empty_cache: Path) -> None:
    c = Conformance(spec_dir)
    assert not c.enabled
    assert c.check("PUT", "/quotes/abc", headers("1.1"), {}) is None
    assert c.note().startswith("FSPIOP spec validation is OFF")
    assert ("is null" if spec_dir is None else "does not exist") in c.note()
    assert c.status.line().startswith("spec validation OFF: api.spec_dir")


def test_the_pinned_cache_when_not_fetched_is_off_and_says_how_to_fetch(empty_cache: Path) -> None:
    status = spec_status(str(specs.pinned_spec_dir()))
    assert not status.validation
    assert status.line() == (f"spec validation OFF: npm @mojaloop/api-snippets {specs.VERSION} is not in the cache "
                             f"{empty_cache / ('api-snippets-' + specs.VERSION)}; `mojacheck specs` fetches it")
    assert status.to_json() == {"validation": False, "package": "@mojaloop/api-snippets", "version": specs.VERSION,
                                "folder": str(empty_cache / f"api-snippets-{specs.VERSION}" / "docs"),
                                "fspiop_versions": [], "reason": status.reason}
    # docs/ there but no manifest (an unfinished or hand-made copy): still not the pinned package
    write_fragments(specs.pinned_spec_dir())
    assert not spec_status(str(specs.pinned_spec_dir())).validation


def test_the_pinned_cache_when_fetched_is_on_with_its_version(empty_cache: Path) -> None:
    write_fragments(specs.pinned_spec_dir())
    manifest = {"package": specs.PACKAGE, "version": specs.VERSION, "integrity": specs.INTEGRITY}
    (specs.pinned_dir() / specs.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    status = Conformance(str(specs.pinned_spec_dir())).status
    assert status.validation and status.line() == f"spec validation on (api-snippets {specs.VERSION})"
    assert status.to_json()["version"] == specs.VERSION and status.to_json()["fspiop_versions"] == ["1.0", "1.1", "2.0"]
    assert f"npm @mojaloop/api-snippets {specs.VERSION}" in status.note()
    manifest["integrity"] = "sha512-other"  # a cache of something else is not the pin
    (specs.pinned_dir() / specs.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert not specs.is_cached() and not spec_status(str(specs.pinned_spec_dir())).validation


def test_a_folder_of_an_npm_pack_names_its_version_and_a_bare_folder_its_path(tmp_path: Path) -> None:
    docs = write_fragments(tmp_path / "package" / "docs")
    (tmp_path / "package" / "package.json").write_text('{"name": "@mojaloop/api-snippets", "version": "17.10.2"}')
    status = spec_status(str(docs))
    assert status.validation and status.line() == "spec validation on (api-snippets 17.10.2)"
    assert f"verified with @mojaloop/api-snippets {specs.VERSION}; this folder holds 17.10.2" in status.note()
    bare = write_fragments(tmp_path / "bare", ("1.1",))
    assert spec_status(str(bare)).line() == f"spec validation on ({bare})"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert spec_status(str(empty)).reason.startswith("no FSPIOP definition file")


def test_the_cache_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(specs.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert specs.cache_root() == tmp_path / "xdg" / "mojacheck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert specs.cache_root() == tmp_path / "home" / ".cache" / "mojacheck"
    monkeypatch.setenv(specs.CACHE_ENV, str(tmp_path / "own"))
    assert specs.pinned_spec_dir() == tmp_path / "own" / f"api-snippets-{specs.VERSION}" / "docs"


def test_the_official_files_in_the_cache_are_the_pinned_version() -> None:
    folder = official_specs()
    status = spec_status(str(folder))
    assert status.to_json() == {"validation": True, "package": specs.PACKAGE, "version": specs.VERSION,
                                "folder": str(folder), "fspiop_versions": ["1.0", "1.1", "2.0"], "reason": None}
