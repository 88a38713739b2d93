"""The error-code table and error bodies (behaviour reference §14)."""

from __future__ import annotations

import pytest

from mojacheck.fspiop import all_codes, error_body, error_message, http_status, is_known, lookup, normalise_code
from mojacheck.fspiop.errors import FspiopError


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        ("3001", "Unacceptable version requested", 406),
        ("3100", "Generic validation error", 400),
        ("3106", "Modified request", 400),
        ("3208", "Transfer ID not found", 400),  # no own status: category 32xx
        ("4001", "Payer FSP insufficient liquidity", 400),
        ("4200", "Payer limit error", 400),
        ("3000", "Generic client error", 400),  # primary meaning, not the 405 variant
        ("2002", "Not implemented", 501),
        ("1001", "Destination communication error", 503),  # category 10xx
        ("2001", "Internal server error", 500),
    ],
)
def test_known_codes(code: str, message: str, status: int) -> None:
    assert is_known(code)
    assert error_message(code) == message
    assert http_status(code) == status


def test_table_size_and_own_statuses() -> None:
    codes = all_codes()
    assert len(codes) == 87  # 88 entries: 3000 also has a Method-Not-Allowed variant
    assert lookup("3208").http_status is None  # only ever sent in an error callback
    assert lookup("3204").http_status == 400
    assert lookup("3303").key == "TRANSFER_EXPIRED"


def test_unknown_code_in_a_category() -> None:
    assert not is_known("3150")
    assert error_message("3150") == "Generic validation error"
    assert http_status("3150") == 400
    assert normalise_code("3150") == "3150"


@pytest.mark.parametrize("code", ["9999", "0000", "abc", "31000", "", "7999"])
def test_codes_outside_every_category_become_3100(code: str) -> None:
    assert normalise_code(code) == "3100"


def test_known_codes_stay_and_ints_are_accepted() -> None:
    assert normalise_code("7213") == "7213"  # 3PPI codes have no category but are known
    assert normalise_code(5105) == "5105"


def test_unknown_code_raises() -> None:
    with pytest.raises(FspiopError):
        error_message("9999")
    with pytest.raises(FspiopError):
        http_status("9999")


def test_error_body_format() -> None:
    body = error_body("3208", "transfer abc")
    assert body == {
        "errorInformation": {"errorCode": "3208", "errorDescription": "Transfer ID not found - transfer abc"}
    }
    assert error_body("3100") == {
        "errorInformation": {"errorCode": "3100", "errorDescription": "Generic validation error"}
    }


def test_error_body_truncates_to_128() -> None:
    description = error_body("3100", "x" * 300)["errorInformation"]["errorDescription"]
    assert len(description) == 128
    assert description.startswith("Generic validation error - xxx")


def test_error_body_extension_list() -> None:
    extensions = [{"key": "1", "value": "0"}, {"key": "1", "value": "1"}]
    info = error_body("3001", "The Client requested an unsupported version", extensions)["errorInformation"]
    assert info["extensionList"] == {"extension": extensions}
    assert info["errorDescription"] == ("Unacceptable version requested - The Client requested an unsupported version")
