"""What transaction-requests-service's own OpenAPI document accepts (paraphrased; hub/bodycheck.py applies it).

The service types almost every leaf as a plain string: ids, amounts, currencies, ``transactionRequestState`` and
``responseType`` are not checked against the FSPIOP patterns and enumerations (the golden-path collections rely on
it: ``responseType: "WHAT"`` is answered 200). Only the query of ``GET /authorizations/{ID}`` is strict:
``authenticationType`` OTP or QRCODE (no U2F), ``retriesLeft`` an integer, ``amount`` the FSPIOP Amount pattern,
``currency`` an ISO 4217 code.
"""

from __future__ import annotations

from mojacheck.hub.bodycheck import AMOUNT_PATTERN, EXTENSION_LIST, ISO_CURRENCIES, STRING, Schema, error_object


def _obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


PARTY_ID_INFO = _obj(["partyIdType", "partyIdentifier"], partyIdType=STRING, partyIdentifier=STRING,
                     partySubIdOrType=STRING, fspId=STRING)
# FirstName/MiddleName/LastName: the only patterned strings of the document besides the GET query.
NAME = {"type": "string", "pattern": r"^(?!\s*$)[\p{L}\p{gc=Mark}\p{digit}\p{gc=Connector_Punctuation}"
                                     r"\p{Join_Control} .,'-]{1,128}$"}
PARTY = _obj(["partyIdInfo"], partyIdInfo=PARTY_ID_INFO, merchantClassificationCode=STRING, name=STRING,
             personalInfo=_obj([], complexName=_obj([], firstName=NAME, middleName=NAME, lastName=NAME),
                               dateOfBirth=STRING))
MONEY = _obj(["currency", "amount"], currency=STRING, amount=STRING)
TRANSACTION_TYPE = _obj(["scenario", "initiator", "initiatorType"], scenario=STRING, subScenario=STRING,
                        initiator=STRING, initiatorType=STRING,
                        refundInfo=_obj(["originalTransactionId"], originalTransactionId=STRING,
                                        refundReason=STRING),
                        balanceOfPayments=STRING)
GEO_CODE = _obj(["latitude", "longitude"], latitude=STRING, longitude=STRING)

POST_TRANSACTION_REQUEST = _obj(
    ["transactionRequestId", "payee", "payer", "amount", "transactionType"],
    transactionRequestId=STRING, payee=PARTY, payer=PARTY_ID_INFO, amount=MONEY, transactionType=TRANSACTION_TYPE,
    note=STRING, geoCode=GEO_CODE, authenticationType=STRING, expiration=STRING, extensionList=EXTENSION_LIST)
PUT_TRANSACTION_REQUEST = _obj(["transactionRequestState"], transactionId=STRING, transactionRequestState=STRING,
                               extensionList=EXTENSION_LIST)
PUT_AUTHORIZATION = _obj(["responseType"], responseType=STRING,
                         authenticationInfo={"type": "object", "required": ["authentication", "authenticationValue"],
                                             "properties": {"authentication": STRING,
                                                            "authenticationValue": STRING}})
ERROR = error_object()
GET_AUTHORIZATION_QUERY: Schema = {
    "required": ["authenticationType", "retriesLeft", "amount", "currency"],
    "properties": {
        "authenticationType": {"type": "string", "enum": ("OTP", "QRCODE")},
        "retriesLeft": {"type": "integer"},
        "amount": {"type": "string", "pattern": AMOUNT_PATTERN},
        "currency": {"type": "string", "enum": ISO_CURRENCIES},
    },
}
