"""Correlation ids (behaviour reference §1)."""

from __future__ import annotations

import uuid

import pytest

from mojacheck.fspiop import is_valid_id, new_id


def test_new_id_is_lowercase_uuid4() -> None:
    value = new_id()
    assert value == value.lower()
    assert uuid.UUID(value).version == 4
    assert is_valid_id(value, "1.0") and is_valid_id(value, "1.1") and is_valid_id(value, "2.0")
    assert len({new_id() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    ("value", "v1", "v2"),
    [
        ("b51ec534-ee48-4575-b6a9-ead2955b8069", True, True),
        ("B51EC534-EE48-4575-B6A9-EAD2955B8069", False, False),  # uppercase UUID
        ("0190c6a4-5b3e-7a8c-9d1e-2f3a4b5c6d7e", False, True),  # UUID v7
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", False, True),  # ULID
        ("01ARZ3NDEKTSV4RRFFQ69G5FAU", False, False),  # U is not Crockford base32
        ("b51ec534-ee48-4575-c6a9-ead2955b8069", False, False),  # wrong variant
        ("b51ec534ee484575b6a9ead2955b8069", False, False),
        ("b51ec534-ee48-4575-b6a9-ead2955b8069\n", False, False),
        ("", False, False),
    ],
)
def test_is_valid_id(value: str, v1: bool, v2: bool) -> None:
    assert is_valid_id(value) is v1
    assert is_valid_id(value, "1.0") is v1
    assert is_valid_id(value, "2.0") is v2
