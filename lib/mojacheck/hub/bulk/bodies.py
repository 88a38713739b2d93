"""What bulk-api-adapter's and quoting-service's OpenAPI documents accept for the bulk resources (paraphrased;
``hub/bodycheck.py`` applies them).

bulk-api-adapter: the POST needs ``bulkTransferId, bulkQuoteId, payerFsp, payeeFsp, individualTransfers`` (at least
one, no upper bound) and an ``expiration`` whose pattern demands milliseconds; each item ``transferId,
transferAmount{currency, amount}, ilpPacket, condition`` with the FSPIOP patterns. The payee's PUT needs only
``bulkTransferState`` (any string). quoting-service: ``bulkQuoteId, payer, individualQuotes`` (1..1000) on POST,
``expiration`` on PUT.
"""

from __future__ import annotations

from mojacheck.hub.bodycheck import AMOUNT_PATTERN, EXTENSION_LIST, ISO_CURRENCIES, STRING, Schema, error_object

CONDITION = {"type": "string", "pattern": r"^[A-Za-z0-9-_]{43}$"}
ILP_PACKET = {"type": "string", "pattern": r"^[A-Za-z0-9-_]+[=]{0,2}$"}
# An ISO-8601 date-time with milliseconds and a zone (the adapter's own pattern, simplified to the shape).
EXPIRATION = {"type": "string",
              "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:\d{2})$"}
MONEY: Schema = {"type": "object", "required": ["currency", "amount"], "properties": {
    "currency": {"type": "string", "enum": ISO_CURRENCIES},
    "amount": {"type": "string", "pattern": AMOUNT_PATTERN}}}

INDIVIDUAL_TRANSFER: Schema = {
    "type": "object", "required": ["transferId", "transferAmount", "ilpPacket", "condition"],
    "properties": {"transferId": STRING, "transferAmount": MONEY, "ilpPacket": ILP_PACKET, "condition": CONDITION,
                   "extensionList": EXTENSION_LIST}}
POST_BULK_TRANSFER: Schema = {
    "type": "object",
    "required": ["bulkTransferId", "bulkQuoteId", "payerFsp", "payeeFsp", "individualTransfers", "expiration"],
    "properties": {"bulkTransferId": STRING, "bulkQuoteId": STRING, "payeeFsp": STRING, "payerFsp": STRING,
                   "extensionList": EXTENSION_LIST, "expiration": EXPIRATION,
                   "individualTransfers": {"type": "array", "minItems": 1, "items": INDIVIDUAL_TRANSFER}}}
INDIVIDUAL_RESULT: Schema = {
    "type": "object", "required": ["transferId"],
    "properties": {"transferId": STRING, "fulfilment": STRING, "extensionList": EXTENSION_LIST,
                   "errorInformation": error_object(r"^[0-9]{4}")["properties"]["errorInformation"]}}
# bulk-api-adapter's schema leaves individualTransferResults optional, then its handler crashes on a PUT without
# them (sync 500). The hub answers 3102 naming the field instead: never a 500 (docs/internals.md).
PUT_BULK_TRANSFER: Schema = {
    "type": "object", "required": ["bulkTransferState", "individualTransferResults"],
    "properties": {"bulkTransferState": STRING, "completedTimestamp": STRING, "extensionList": EXTENSION_LIST,
                   "individualTransferResults": {"type": "array", "minItems": 1, "maxItems": 1000,
                                                 "items": INDIVIDUAL_RESULT}}}
BULK_ERROR = error_object(r"^[0-9]{4}")

PARTY: Schema = {"type": "object", "required": ["partyIdInfo"], "properties": {"partyIdInfo": {
    "type": "object", "required": ["partyIdType", "partyIdentifier"]}}}
INDIVIDUAL_QUOTE: Schema = {
    "type": "object", "required": ["quoteId", "transactionId", "payee", "amountType", "amount", "transactionType"],
    "properties": {"quoteId": STRING, "transactionId": STRING, "payee": PARTY,
                   "amountType": {"type": "string", "enum": ("SEND", "RECEIVE")}, "amount": MONEY, "fees": MONEY,
                   "transactionType": {"type": "object", "required": ["scenario", "initiator", "initiatorType"]},
                   "note": STRING, "extensionList": EXTENSION_LIST}}
POST_BULK_QUOTE: Schema = {
    "type": "object", "required": ["bulkQuoteId", "payer", "individualQuotes"], "additionalProperties": False,
    "properties": {"bulkQuoteId": STRING, "payer": PARTY, "geoCode": {"type": "object"}, "expiration": STRING,
                   "individualQuotes": {"type": "array", "minItems": 1, "maxItems": 1000, "items": INDIVIDUAL_QUOTE},
                   "extensionList": EXTENSION_LIST}}
PUT_BULK_QUOTE: Schema = {
    "type": "object", "required": ["expiration"], "additionalProperties": False,
    "properties": {"individualQuoteResults": {"type": "array", "maxItems": 1000, "items": {
        "type": "object", "required": ["quoteId"]}}, "expiration": STRING, "extensionList": EXTENSION_LIST}}
QUOTE_ERROR = error_object()
