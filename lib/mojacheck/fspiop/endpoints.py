"""The callback endpoints an FSP registers with the hub (central-ledger admin `POST /participants/{name}/endpoints`),
as templates: wire knowledge shared by the operator client (clients/admin.py) and the load engine's payer FSPs.
"""

from __future__ import annotations

__all__ = ["FSPIOP_ENDPOINTS", "FXP_ENDPOINTS", "FX_ENDPOINTS", "endpoint_values"]

# Callback endpoints an FSP registers, as the TTK hub provisioning collections do ({BASE} = FSP base URL).
FSPIOP_ENDPOINTS: dict[str, str] = {
    "FSPIOP_CALLBACK_URL_PARTIES_GET": "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTIES_PUT": "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR": "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}/error",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET":
        "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT":
        "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR":
        "{BASE}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT": "{BASE}/participants/{{partyIdType}}/{{partyIdentifier}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR": "{BASE}/participants/{{partyIdType}}/{{partyIdentifier}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT":
        "{BASE}/participants/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR":
        "{BASE}/participants/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_DELETE":
        "{BASE}/participants/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT": "{BASE}/participants/{{requestId}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR": "{BASE}/participants/{{requestId}}/error",
    "FSPIOP_CALLBACK_URL_QUOTES": "{BASE}",
    "FSPIOP_CALLBACK_URL_BULK_QUOTES": "{BASE}",
    "FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE": "{BASE}",
    "FSPIOP_CALLBACK_URL_AUTHORIZATIONS": "{BASE}",
    "FSPIOP_CALLBACK_URL_TRANSFER_POST": "{BASE}/transfers",
    "FSPIOP_CALLBACK_URL_TRANSFER_PUT": "{BASE}/transfers/{{transferId}}",
    "FSPIOP_CALLBACK_URL_TRANSFER_ERROR": "{BASE}/transfers/{{transferId}}/error",
    "FSPIOP_CALLBACK_URL_BULK_TRANSFER_POST": "{BASE}/bulkTransfers",
    "FSPIOP_CALLBACK_URL_BULK_TRANSFER_PUT": "{BASE}/bulkTransfers/{{id}}",
    "FSPIOP_CALLBACK_URL_BULK_TRANSFER_ERROR": "{BASE}/bulkTransfers/{{id}}/error",
}


# FX (release 17 on; central-ledger knows these endpoint types from v18, older ones refuse them): what a DFSP needs to
# convert as payer (the FXP's quote answer, the conversion's fulfil and errors) and what an FXP needs besides (the
# conversion's prepare; the hub's PATCH goes to the PUT endpoint).
FX_ENDPOINTS: dict[str, str] = {
    "FSPIOP_CALLBACK_URL_FX_QUOTES": "{BASE}",
    "FSPIOP_CALLBACK_URL_FX_TRANSFER_PUT": "{BASE}/fxTransfers/{{commitRequestId}}",
    "FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR": "{BASE}/fxTransfers/{{commitRequestId}}/error",
}
FXP_ENDPOINTS: dict[str, str] = {**FX_ENDPOINTS, "FSPIOP_CALLBACK_URL_FX_TRANSFER_POST": "{BASE}/fxTransfers"}


def endpoint_values(base: str, table: dict[str, str] | None = None) -> dict[str, str]:
    """`table` (default FSPIOP_ENDPOINTS) with `base` (trailing / dropped) in place of {BASE}; the {{…}}
    placeholders are kept."""
    return {k: v.replace("{BASE}", base.rstrip("/")) for k, v in (table or FSPIOP_ENDPOINTS).items()}
