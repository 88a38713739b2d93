"""conformance.py: callback bodies against the official FSPIOP OpenAPI files, read from ../shared/specs/fspiop.

The files are CC BY-ND and never copied into this repo: CI has `../shared` beside the clone, and these tests need it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mojacheck.evidence.conformance import SPEC_FILES, Conformance, operation_for, spec_version, validate
from mojacheck.reports.runs import check_identity

ROOT = Path(__file__).resolve().parents[2]
SPECS = (ROOT / ".." / "shared" / "specs" / "fspiop").resolve()
if not all((SPECS / name).is_file() for name in SPEC_FILES.values()):
    raise RuntimeError(f"the official FSPIOP OpenAPI files are needed in {SPECS} ({', '.join(SPEC_FILES.values())};"
                       " npm @mojaloop/api-snippets, docs/): CI keeps them in ../shared beside the clone")
V11 = SPECS / SPEC_FILES["1.1"]
V20 = SPECS / SPEC_FILES["2.0"]

QUOTE = {
    "transferAmount": {"amount": "100", "currency": "USD"},
    "payeeReceiveAmount": {"amount": "100", "currency": "USD"},
    "expiration": "2026-11-27T22:15:00.000Z",
    "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w",
    "condition": "f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA",
}


def headers(version: str) -> dict[str, str]:
    return {"content-type": f"application/vnd.interoperability.quotes+json;version={version}"}


def test_a_valid_put_quotes_body_passes() -> None:
    assert validate(V11, "PUT", "/quotes/0b9d8c4e-1c5e-4d2b-9b33-0f1f0c8f1e11", QUOTE) == ("PUT /quotes/{ID}", [])


def test_a_body_missing_condition_fails_naming_it() -> None:
    body = {k: v for k, v in QUOTE.items() if k != "condition"}
    operation, violations = validate(V11, "PUT", "/quotes/abc", body)
    assert operation == "PUT /quotes/{ID}"
    assert len(violations) == 1 and "'condition' is a required property" in violations[0], violations


def test_violations_name_where_and_what_shortly() -> None:
    body = {**QUOTE, "transferAmount": {"amount": "1.2.3", "currency": "USD"}, "extra": 1}
    _, violations = validate(V20, "PUT", "/quotes/abc", body)
    assert any(v.startswith("$.transferAmount.amount: '1.2.3' does not match") for v in violations), violations
    assert any(v.startswith("$: Additional properties are not allowed ('extra'") for v in violations), violations
    assert all(len(v) < 200 for v in violations)


def test_error_callbacks_are_validated_against_error_information() -> None:
    ok = {"errorInformation": {"errorCode": "3100", "errorDescription": "Generic validation error"}}
    assert validate(V11, "PUT", "/transfers/abc/error", ok) == ("PUT /transfers/{ID}/error", [])
    _, violations = validate(V11, "PUT", "/parties/MSISDN/123/error", {"errorInformation": {"errorCode": "31"}})
    assert violations and all(v.startswith("$.errorInformation") for v in violations), violations
    outcome = Conformance(str(SPECS)).check("PUT", "/transfers/abc/error", headers("1.1"), ok)
    # named by the resource's template plus a remark, so it pairs with the success callback across runs
    assert outcome.operation == "PUT /transfers/{ID}/error"
    assert outcome.check_name == "PUT /transfers/{ID} body conforms to FSPIOP 1.1 (error callback)"
    assert check_identity(outcome.check_name) == "PUT /transfers/{ID} body conforms to FSPIOP 1.1"


def test_templates_pick_literal_segments_and_subids() -> None:
    spec_paths = {"paths": {"/participants/{ID}/error": {"put": {}}, "/participants/{Type}/{ID}": {"put": {}}}}
    assert operation_for(spec_paths, "PUT", "/participants/abc/error") == "/participants/{ID}/error"
    assert operation_for(spec_paths, "PUT", "/participants/MSISDN/123") == "/participants/{Type}/{ID}"
    found = validate(V11, "PUT", "/parties/MSISDN/123/sub?x=1", {})
    assert found is not None and found[0] == "PUT /parties/{Type}/{ID}/{SubId}"
    assert validate(V11, "PATCH", "/transfers/abc", {})[0] == "PATCH /transfers/{ID}"


def test_unicode_name_patterns_work() -> None:  # the spec's name patterns use \p{L}, which Python's re lacks
    party = {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123"},
             "personalInfo": {"complexName": {"firstName": "Zoë", "lastName": "မောင်"}}}
    assert validate(V11, "PUT", "/parties/MSISDN/123", {"party": party})[1] == []
    party["personalInfo"]["complexName"]["firstName"] = "<script>"
    assert validate(V11, "PUT", "/parties/MSISDN/123", {"party": party})[1]


def test_paths_the_spec_does_not_define_are_not_checked() -> None:
    assert validate(V11, "PUT", "/consentRequests/abc", {"anything": 1}) is None  # 3PPI
    assert validate(V11, "PUT", "/thirdpartyRequests/transactions/abc", {}) is None
    assert validate(V11, "GET", "/quotes/abc", None) is None  # no request body
    c = Conformance(str(SPECS))
    assert c.check("PUT", "/consents/abc", headers("1.1"), {}) is None
    assert c.check("POST", "/_sim/rules", headers("1.1"), {}) is None


def test_the_version_in_content_type_picks_the_file() -> None:
    c = Conformance(str(SPECS))
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


def test_a_missing_version_file_is_not_checked_and_the_note_says_which_exist(tmp_path: Path) -> None:
    (tmp_path / SPEC_FILES["1.1"]).symlink_to(V11)
    c = Conformance(str(tmp_path))
    assert c.available() == ["1.1"]
    assert c.check("PUT", "/quotes/abc", headers("2.0"), QUOTE) is None
    assert c.check("PUT", "/quotes/abc", headers("1.1"), QUOTE) is not None
    assert "ON" in c.note() and "versions available: 1.1" in c.note() and "1.0, 2.0 are not validated" in c.note()


@pytest.mark.parametrize("spec_dir", [None, "/nonexistent/specs/fspiop"])
def test_validation_off_checks_nothing_and_says_why(spec_dir: str | None) -> None:
    c = Conformance(spec_dir)
    assert not c.enabled
    assert c.check("PUT", "/quotes/abc", headers("1.1"), {}) is None
    assert c.note().startswith("FSPIOP spec validation is OFF")
    assert ("is null" if spec_dir is None else "does not exist") in c.note()
