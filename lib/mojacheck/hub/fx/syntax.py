"""Synchronous body checks of the FX resources, as the services' OpenAPI validation answers them (fx.md §3.2, §4.1):
a missing element is 3102, a value of the wrong type, pattern or enumeration 3101 (the hub answers pattern errors
with 3101 throughout, as Mojaloop does with ERROR_HANDLING_AJV_JOI_PARITY). Properties the schema does not name
are accepted: quoting-service's and ml-api-adapter's FX schemas are open (the TTK sends ``amountType`` in
``POST /fxTransfers``), unlike the FSPIOP 2.0 definition (fx.md §10.1–2).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mojacheck.fspiop import is_valid_id
from mojacheck.fspiop.ilp import IlpError, currency_exponent
from mojacheck.hub.transfers.prepare import AMOUNT, CONDITION
from mojacheck.hub.transfers.store import parse_datetime
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import ApiError, require

FULFILMENT = re.compile(r"^[A-Za-z0-9-_]{43}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
AMOUNT_TYPES = ("SEND", "RECEIVE")
TRANSFER_STATES = ("RECEIVED", "RESERVED", "COMMITTED", "ABORTED")
MAX_CHARGES = 16

QUOTE_REQUIRED = ("conversionRequestId", "conversionTerms")
TERMS_REQUIRED = ("conversionId", "initiatingFsp", "counterPartyFsp", "amountType", "sourceAmount.currency",
                  "targetAmount.currency", "expiration")
TRANSFER_REQUIRED = ("commitRequestId", "initiatingFsp", "counterPartyFsp", "sourceAmount.amount",
                     "sourceAmount.currency", "targetAmount.amount", "targetAmount.currency", "condition")


def _bad(path: str, message: str, where: str = "body") -> ApiError:
    return ApiError("3101", f"/{where}/{path.replace('.', '/')} {message}")


def correlation_id(value: Any, path: str, version: str) -> None:
    if not isinstance(value, str) or not is_valid_id(value, version):
        raise _bad(path, "does not match the CorrelationId pattern")


def fsp_id(value: Any, path: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= 32:
        raise _bad(path, "must be an FspId (a string of 1 to 32 characters)")


def currency(value: Any, path: str, where: str = "body") -> None:
    """Currency: one of the ISO 4217 codes (the spec's enumeration; the ILP exponent table lists the same codes)."""
    try:
        ok = isinstance(value, str) and CURRENCY.match(value) is not None and currency_exponent(value) >= 0
    except IlpError:
        ok = False
    if not ok:
        raise _bad(path, "must be equal to one of the allowed values (ISO 4217 currency)", where)


def money(value: Any, path: str, *, amount_required: bool) -> None:
    """Money (amount required) or FxMoney (amount optional)."""
    if not isinstance(value, dict):
        raise _bad(path, "must be an object")
    currency(value.get("currency"), f"{path}.currency")
    given = value.get("amount")
    if ("amount" in value or amount_required) and (not isinstance(given, str) or not AMOUNT.match(given)):
        raise _bad(f"{path}.amount", "does not match the Amount pattern")


def date_time(value: Any, path: str) -> datetime:
    try:
        return parse_datetime(str(value)) if isinstance(value, str) else parse_datetime("")
    except ValueError:
        raise _bad(path, "must be an ISO-8601 date-time") from None


def charges(value: Any, path: str) -> None:
    if not isinstance(value, list) or len(value) > MAX_CHARGES:
        raise _bad(path, f"must be an array of at most {MAX_CHARGES} charges")
    for i, charge in enumerate(value):
        where = f"{path}.{i}"
        if not isinstance(charge, dict):
            raise _bad(where, "must be an object")
        if charge.get("chargeType") is None:
            raise ApiError("3102", f"/body/{where.replace('.', '/')} must have required property 'chargeType'")
        if not isinstance(charge["chargeType"], str) or not 1 <= len(charge["chargeType"]) <= 32:
            raise _bad(f"{where}.chargeType", "must be a string of 1 to 32 characters")
        for side in ("sourceAmount", "targetAmount"):
            if side in charge:
                money(charge[side], f"{where}.{side}", amount_required=True)


def conversion_terms(terms: Any, version: str, path: str = "conversionTerms") -> None:
    """FxConversion: the terms of a conversion, in a quote request or an FXP's answer."""
    if not isinstance(terms, dict):
        raise _bad(path, "must be an object")
    require(terms, *TERMS_REQUIRED)
    correlation_id(terms["conversionId"], f"{path}.conversionId", version)
    if terms.get("determiningTransferId") is not None:
        correlation_id(terms["determiningTransferId"], f"{path}.determiningTransferId", version)
    fsp_id(terms["initiatingFsp"], f"{path}.initiatingFsp")
    fsp_id(terms["counterPartyFsp"], f"{path}.counterPartyFsp")
    if terms["amountType"] not in AMOUNT_TYPES:
        raise _bad(f"{path}.amountType", f"must be one of {', '.join(AMOUNT_TYPES)}")
    money(terms["sourceAmount"], f"{path}.sourceAmount", amount_required=False)
    money(terms["targetAmount"], f"{path}.targetAmount", amount_required=False)
    date_time(terms["expiration"], f"{path}.expiration")
    if "charges" in terms:
        charges(terms["charges"], f"{path}.charges")


def fx_quote_request(req: FspiopRequest) -> None:
    """POST /fxQuotes: FxQuotesPostRequest."""
    require(req.body, *QUOTE_REQUIRED)
    correlation_id(req.body["conversionRequestId"], "conversionRequestId", req.version)
    conversion_terms(req.body["conversionTerms"], req.version)


def fx_quote_answer(req: FspiopRequest) -> None:
    """PUT /fxQuotes/{ID}: FxQuotesIDPutResponse (condition optional, as in the schema)."""
    require(req.body, "conversionTerms")
    conversion_terms(req.body["conversionTerms"], req.version)
    if "condition" in req.body and (not isinstance(req.body["condition"], str)
                                    or not CONDITION.match(req.body["condition"])):
        raise _bad("condition", "does not match the IlpCondition pattern")


def fx_transfer_request(req: FspiopRequest) -> datetime | None:
    """POST /fxTransfers: FxTransfersPostRequest as ml-api-adapter validates it; returns the expiration (optional
    in the schema; central-ledger then refuses a conversion without one, asynchronously)."""
    body = req.body
    require(body, *TRANSFER_REQUIRED)
    correlation_id(body["commitRequestId"], "commitRequestId", req.version)
    if body.get("determiningTransferId") is not None:
        correlation_id(body["determiningTransferId"], "determiningTransferId", req.version)
    fsp_id(body["initiatingFsp"], "initiatingFsp")
    fsp_id(body["counterPartyFsp"], "counterPartyFsp")
    money(body["sourceAmount"], "sourceAmount", amount_required=True)
    money(body["targetAmount"], "targetAmount", amount_required=True)
    if not isinstance(body["condition"], str) or not CONDITION.match(body["condition"]):
        raise _bad("condition", "does not match the IlpCondition pattern")
    return None if body.get("expiration") is None else date_time(body["expiration"], "expiration")


def fx_fulfil(req: FspiopRequest) -> None:
    """PUT /fxTransfers/{ID}: FxTransfersIDPutResponse."""
    body = req.body
    if body.get("conversionState") not in TRANSFER_STATES:
        raise _bad("conversionState", f"must be one of {', '.join(TRANSFER_STATES)}")
    if "fulfilment" in body and (not isinstance(body["fulfilment"], str) or not FULFILMENT.match(body["fulfilment"])):
        raise _bad("fulfilment", "does not match the IlpFulfilment pattern")
