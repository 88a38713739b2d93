"""prose.py: every value shape of the release table and of check values reads as words, never a Python repr."""

from __future__ import annotations

import re
from dataclasses import asdict, fields
from decimal import Decimal

import pytest

from mojacheck.evidence.prose import NONE_READS_AS, STATE_OR_CODE, and_list, change, counted, prose
from mojacheck.expectations import DESCRIPTIONS, RELEASES, Expectations, expectations_for, release_differences

REPR = re.compile(r"None|True|False|\(['\"]|\[['\"]|Decimal\(|\{['\"]")


@pytest.mark.parametrize(("value", "entry", "words"), [
    ("4001", "ndc_exceeded_code", "4001"),  # a code
    (None, "unfunded_payer_code", "no liquidity check"),  # None with a meaning of its own
    (None, None, "none"),  # None anywhere else
    (("1.0", "1.1"), "supported_versions", "1.0 and 1.1"),  # a tuple of versions
    (("1.0", "1.1", "2.0"), "supported_versions", "1.0, 1.1 and 2.0"),
    (["1.0", "1.1", "2.0"], "supported_versions", "1.0, 1.1 and 2.0"),  # the same, read back from JSON
    (("2.0",), "supported_versions", "2.0"),
    ("2.0", "hub_content_version", "2.0"),  # a version
    (True, "reserved_patch", "yes"),  # a flag
    (False, "on_us_transfers", "no"),
    ("3303", "expired_transfer_get", "3303 error"),  # a code beside states: says it is an error
    ("ABORTED", "expired_transfer_get", "ABORTED"),  # a state
    ("3100", "unknown_payee_transfer_code", "3100"),
])
def test_every_value_shape_of_the_release_table(value, entry, words) -> None:
    assert prose(value, entry) == words


def test_no_entry_of_any_release_reads_as_a_repr() -> None:
    for release in RELEASES:
        for entry, value in asdict(expectations_for(release)).items():
            assert not REPR.search(prose(value, entry)), (release, entry, prose(value, entry))
    for a, b in (("13", "14"), ("14", "17"), ("13", "17")):
        for entry, (before, after) in release_differences(a, b).items():
            assert not REPR.search(change(entry, before, after))


def test_a_release_change_reads_in_the_entrys_words() -> None:
    assert change("ndc_exceeded_code", "4001", "4200") == "4001 → 4200"
    assert change("unfunded_payer_code", None, "4001") == "no liquidity check → 4001"
    assert change("expired_transfer_get", "3303", "ABORTED") == "3303 error → ABORTED"
    assert change("supported_versions", ("1.0", "1.1"), ("1.0", "1.1", "2.0")) == "1.0 and 1.1 → 1.0, 1.1 and 2.0"


def test_the_phrase_tables_name_real_entries() -> None:
    names = {f.name for f in fields(Expectations)}
    assert set(NONE_READS_AS) <= names and set(STATE_OR_CODE) <= names and set(DESCRIPTIONS) <= names


@pytest.mark.parametrize(("value", "words"), [
    (Decimal("1E+2"), "100"),  # Decimals keep their digits, never an exponent
    (Decimal("74.7500"), "74.7500"),
    (7, "7"),
    ("COMMITTED", "COMMITTED"),
    ([], "none"),
    (("OPEN", True), "OPEN and yes"),
    ([("mcpayerfsp", "USD"), ("mcpayee", "XOF")], "mcpayerfsp USD and mcpayee XOF"),  # records inside a list
    ({("mcpayerfsp", "USD"): Decimal("74.75"), ("mcpayerfsp", "XOF"): Decimal("750")},
     "mcpayerfsp USD: 74.75; mcpayerfsp XOF: 750"),
    ({"transferState": "ABORTED", "completedTimestamp": None}, "transferState: ABORTED; completedTimestamp: none"),
    ({"a": {"b": 1}}, "a: (b: 1)"),
    ({"XOF", "USD"}, "USD and XOF"),  # a set reads in one order, whatever its hash order
    ({}, "none"),
])
def test_check_values_read_as_words(value, words) -> None:
    assert prose(value) == words
    assert not REPR.search(prose(value))


def test_and_list_and_counted_nouns() -> None:
    assert [and_list([]), and_list(["a"]), and_list(["a", "b"]), and_list(["a", "b", "c"])] == \
        ["none", "a", "a and b", "a, b and c"]
    assert counted(1, "unexpected difference") == "1 unexpected difference"
    assert counted(0, "check") == "0 checks"
    assert counted(2, "entity", "entities") == "2 entities"
    assert counted(1, "entity", "entities") == "1 entity"
