"""Request bodies and query strings checked the way Mojaloop's OpenAPI-validated services answer them.

transaction-requests-service, bulk-api-adapter and quoting-service validate each request against their own OpenAPI
document (openapi-backend + ajv) and turn the first violation into an FSPIOP error with
central-services-error-handling's mapping: a missing property → 3102, an unexpected one → 3103, a wrong JSON type →
3101, anything else (pattern, enum, item count) → 3100; the detail is ajv's ``<instancePath> <message>``, the path
starting at ``/requestBody`` or ``/query``.

Schemas here are small dicts in the JSON Schema subset those documents use (``type``, ``required``, ``properties``,
``additionalProperties: False``, ``items``, ``minItems``/``maxItems``, ``pattern``, ``enum``); the services' own
documents are paraphrased per domain (``transaction_requests/bodies.py``, ``bulk/bodies.py``), never copied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import regex

from mojacheck.fspiop.errors import FspiopError
from mojacheck.fspiop.ilp import currency_exponent
from mojacheck.hub.web import ApiError

Schema = Mapping[str, Any]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "integer": (int,),
}


@lru_cache(maxsize=64)
def _regex(pattern: str) -> regex.Pattern[str]:
    # The `regex` module: the documents' name patterns use Unicode property escapes (\p{L}) that `re` lacks.
    return regex.compile(pattern)


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES[kind])


def violation(schema: Schema, value: Any, path: str) -> tuple[str, str] | None:
    """The first violation of ``schema`` by ``value`` as (FSPIOP code, ajv-style detail), None when it conforms."""
    kind = schema.get("type")
    if kind is not None and not _type_ok(kind, value):
        return "3101", f"{path} must be {kind}"
    if "enum" in schema and value not in schema["enum"]:
        return "3100", f"{path} must be equal to one of the allowed values"
    if "pattern" in schema and isinstance(value, str) and not _regex(schema["pattern"]).search(value):
        return "3100", f'{path} must match pattern "{schema["pattern"]}"'
    if isinstance(value, dict):
        return _object(schema, value, path)
    if isinstance(value, list):
        return _array(schema, value, path)
    return None


def _object(schema: Schema, value: dict[str, Any], path: str) -> tuple[str, str] | None:
    for name in schema.get("required", ()):
        if name not in value:
            return "3102", f"{path} must have required property '{name}'"
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if schema.get("additionalProperties") is False:
        extra = next((name for name in value if name not in properties), None)
        if extra is not None:
            return "3103", f"{path} must NOT have additional properties ({extra})"
    for name, sub in properties.items():
        if name in value:
            found = violation(sub, value[name], f"{path}/{name}")
            if found is not None:
                return found
    return None


def _array(schema: Schema, value: list[Any], path: str) -> tuple[str, str] | None:
    if len(value) < schema.get("minItems", 0):
        return "3100", f"{path} must NOT have fewer than {schema['minItems']} items"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return "3100", f"{path} must NOT have more than {schema['maxItems']} items"
    items = schema.get("items")
    if items is not None:
        for index, item in enumerate(value):
            found = violation(items, item, f"{path}/{index}")
            if found is not None:
                return found
    return None


def check_body(schema: Schema, body: Any) -> None:
    """ApiError (sync 400) for the first violation of ``schema`` by a request body."""
    found = violation(schema, body, "/requestBody")
    if found is not None:
        raise ApiError(*found)


def check_query(schema: Schema, query: Mapping[str, str]) -> dict[str, Any]:
    """The query string validated and coerced as openapi-backend does (``coerceTypes``): integers become int.

    ApiError for the first violation; the coerced values are what a service forwards.
    """
    coerced: dict[str, Any] = {}
    properties: Mapping[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in query:
            raise ApiError("3102", f"/query must have required property '{name}'")
    for name, value in query.items():
        sub = properties.get(name, {})
        if sub.get("type") == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise ApiError("3101", f"/query/{name} must be integer")
            coerced[name] = int(value)
            continue
        found = violation(sub, value, f"/query/{name}")
        if found is not None:
            raise ApiError(*found)
        coerced[name] = value
    return coerced


# Shapes several documents share (paraphrased from the FSPIOP definitions the services ship).
STRING: Schema = {"type": "string"}
AMOUNT_PATTERN = r"^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$"


class _IsoCurrencies:
    """Membership = an ISO 4217 code the ILP currency table knows (the services' CurrencyEnum, XTS/XXX included)."""

    def __contains__(self, value: Any) -> bool:
        if not isinstance(value, str) or value != value.upper():
            return False
        try:
            currency_exponent(value)
        except FspiopError:
            return False
        return True


ISO_CURRENCIES = _IsoCurrencies()
EXTENSION_LIST: Schema = {
    "type": "object", "required": ["extension"], "additionalProperties": False,
    "properties": {"extension": {"type": "array", "minItems": 1, "maxItems": 16, "items": {
        "type": "object", "required": ["key", "value"], "additionalProperties": False,
        "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}}},
}


def error_object(code_pattern: str | None = None) -> Schema:
    """``{errorInformation: {errorCode, errorDescription, extensionList?}}``; ``code_pattern`` where a service
    constrains the code (bulk-api-adapter: four digits)."""
    code: dict[str, Any] = {"type": "string"}
    if code_pattern:
        code["pattern"] = code_pattern
    return {
        "type": "object", "required": ["errorInformation"], "additionalProperties": False,
        "properties": {"errorInformation": {
            "type": "object", "required": ["errorCode", "errorDescription"], "additionalProperties": False,
            "properties": {"errorCode": code, "errorDescription": {"type": "string"},
                           "extensionList": EXTENSION_LIST}}},
    }
