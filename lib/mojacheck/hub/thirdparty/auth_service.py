"""The hub-hosted auth-service (behaviour ref §13), served under ``/auth-service``.

Its participant (``centralAuth`` in Mojaloop's provisioning) registers ``TP_CB_URL_CONSENT_POST`` and
``TP_CB_URL_TRANSACTION_REQUEST_VERIFY_POST`` at ``{hub}/auth-service``, so DFSPs reach it through the
thirdparty relay like any participant. It:

* registers consents (``POST /consents`` from a DFSP): checks the GENERIC credential's signature over the
  challenge derived from ``{consentId, scopes}``, stores the consent, makes itself the consent's authoritative
  source in ALS (``CONSENT`` party type) and answers ``PUT /consents/{ID}`` with the credential VERIFIED;
* verifies transaction signatures (``POST /thirdpartyRequests/verifications``) against the stored key;
* revokes consents (``DELETE /consents/{ID}``, routed here by the relay): REVOKED, ALS entry removed,
  ``PATCH /consents/{ID} {status: REVOKED, revokedAt}`` to the requester and to the issuing DFSP.

Error codes: a credential that does not verify at registration gets 2001 with an extension naming the failed
step (as Mojaloop's auth-service answers); an unknown or revoked consent 7213; a transaction signature that
does not verify 7212; FIDO credentials 7300 (the embedded auth-service verifies GENERIC credentials only).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_body
from mojacheck.fspiop.errors import CredentialError
from mojacheck.fspiop.thirdparty import consent_challenge, verify
from mojacheck.hub.als import parties as als
from mojacheck.hub.db import now_iso
from mojacheck.hub.thirdparty.relay import CONSENTS, TP, VERIFICATIONS, Family, deliver
from mojacheck.hub.thirdparty.validation import tp_route
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import log

if TYPE_CHECKING:
    from sqlite3 import Row

    from mojacheck.hub.context import Hub

DEFAULT_NAME = "centralAuth"
PREFIX = "/auth-service"


def _me(req: FspiopRequest) -> str:
    """The auth-service's participant name: the destination the DFSP addressed."""
    return req.destination or DEFAULT_NAME


def _error(hub: Hub, req: FspiopRequest, family: Family, ident: str, code: str, detail: str,
           extensions: list[dict[str, str]] | None = None) -> None:
    body = error_body(code, detail, extensions)
    deliver(hub, method="PUT", family=family, endpoint_type=family.error_endpoint, path=f"{family.path}/{ident}/error",
            source=_me(req), destination=req.source, body=body, ident=ident)


def consent(hub: Hub, consent_id: str) -> Row | None:
    return hub.db.one("SELECT * FROM tp_consent WHERE consent_id = ?", (consent_id,))


# ---------------------------------------------------------------- registration


def _credential_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """Why the credential cannot be registered: (code, detail), or None when it verifies."""
    credential = body.get("credential") or {}
    if credential.get("credentialType") != "GENERIC":
        return "7300", "Only GENERIC credentials can be verified by this auth-service"
    payload = credential.get("genericPayload") or {}
    try:
        ok = verify(str(payload.get("publicKey", "")), consent_challenge(body["consentId"], body["scopes"]),
                    str(payload.get("signature", "")))
    except CredentialError as exc:
        return "2001", f"credential cannot be read: {exc}"
    return None if ok else ("2001", "credential signature does not verify against the derived challenge")


def _store(hub: Hub, body: dict[str, Any], dfsp: str) -> bool:
    """Store the consent; False when the id is already taken."""
    credential = body["credential"]
    with hub.db.tx():
        if consent(hub, body["consentId"]) is not None:
            return False
        hub.db.execute(
            "INSERT INTO tp_consent (consent_id, participant_id, status, scopes, credential_type, public_key, "
            "challenge, credential, created) VALUES (?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?)",
            (body["consentId"], dfsp, json.dumps(body["scopes"]), credential["credentialType"],
             credential["genericPayload"]["publicKey"], consent_challenge(body["consentId"], body["scopes"]),
             json.dumps(credential), now_iso()))
    return True


def register_consent(hub: Hub, req: FspiopRequest) -> None:
    """Verify and store the consent, make the auth-service its ALS owner, answer (or refuse) by callback."""
    body, consent_id = req.body, str(req.body["consentId"])
    problem = _credential_problem(body)
    if problem is not None:
        code, detail = problem
        _error(hub, req, CONSENTS, consent_id, code, detail, [
            {"key": "authServiceParticipant", "value": _me(req)},
            {"key": "transitionFailure", "value": "RegisterConsent: start -> consentVerified"}])
        return
    if not _store(hub, body, req.source):
        _error(hub, req, CONSENTS, consent_id, "7213", f"Consent {consent_id} is already registered")
        return
    failure = als.register_party(hub, {"partyIdType": "CONSENT", "partyIdentifier": consent_id}, _me(req), None)
    if failure is not None:
        with hub.db.tx():
            hub.db.execute("DELETE FROM tp_consent WHERE consent_id = ?", (consent_id,))
        _error(hub, req, CONSENTS, consent_id, "7200", f"ALS registration failed: {failure[1]}")
        return
    verified = {**body["credential"], "status": "VERIFIED"}
    deliver(hub, method="PUT", family=CONSENTS, endpoint_type=f"{TP}CONSENT_PUT", path=f"/consents/{consent_id}",
            source=_me(req), destination=req.source, body={"scopes": body["scopes"], "credential": verified},
            ident=consent_id)


async def post_consent(hub: Hub, req: FspiopRequest) -> Response:
    register_consent(hub, req)  # stored before the 202 (the hub acknowledges only what it has stored)
    return Response(status_code=202)


# ---------------------------------------------------------------- verification


def _verification_problem(hub: Hub, req: FspiopRequest) -> tuple[str, str] | None:
    body = req.body
    row = consent(hub, str(body["consentId"]))
    if row is None:
        return "7213", f"Consent {body['consentId']} is not known to the auth-service"
    if row["status"] != "ACTIVE":
        return "7213", f"Consent {body['consentId']} is {row['status']}"
    if row["participant_id"] != req.source:
        return "7213", f"Consent {body['consentId']} was not issued by {req.source}"
    if body.get("signedPayloadType") != "GENERIC" or row["credential_type"] != "GENERIC":
        return "7300", "Only GENERIC signed payloads can be verified by this auth-service"
    try:
        ok = verify(row["public_key"], str(body["challenge"]), str(body.get("genericSignedPayload", "")))
    except CredentialError as exc:
        return "7212", f"signed payload cannot be read: {exc}"
    return None if ok else ("7212", "signature does not verify against the challenge with the consent's key")


async def post_verification(hub: Hub, req: FspiopRequest) -> Response:
    ident = str(req.body["verificationRequestId"])

    async def work() -> None:
        problem = _verification_problem(hub, req)
        if problem is not None:
            _error(hub, req, VERIFICATIONS, ident, *problem)
            return
        deliver(hub, method="PUT", family=VERIFICATIONS, endpoint_type=f"{TP}TRANSACTION_REQUEST_VERIFY_PUT",
                path=f"{VERIFICATIONS.path}/{ident}", source=_me(req), destination=req.source,
                body={"authenticationResponse": "VERIFIED"}, ident=ident)

    hub.outbox.spawn(work(), "auth-service POST /thirdpartyRequests/verifications")
    return Response(status_code=202)


# ---------------------------------------------------------------- revocation


def revoke(hub: Hub, consent_id: str) -> tuple[Row | None, str | None]:
    """Mark REVOKED and drop the ALS entry; (row, revokedAt) or (row, None) when not ACTIVE."""
    with hub.db.tx():
        row = consent(hub, consent_id)
        if row is None or row["status"] != "ACTIVE":
            return row, None
        revoked_at = now_iso()
        hub.db.execute("UPDATE tp_consent SET status = 'REVOKED', revoked_at = ? WHERE consent_id = ?",
                       (revoked_at, consent_id))
        hub.db.execute("DELETE FROM party WHERE id_type = 'CONSENT' AND identifier = ?", (consent_id,))
    return row, revoked_at


async def delete_consent(hub: Hub, req: FspiopRequest) -> Response:
    consent_id = req.params["ID"]
    row, revoked_at = revoke(hub, consent_id)  # committed before the 202
    if revoked_at is None or row is None:
        state = "not known" if row is None else f"already {row['status']}"
        _error(hub, req, CONSENTS, consent_id, "7213", f"Consent {consent_id} is {state}")
        return Response(status_code=202)
    patch = {"status": "REVOKED", "revokedAt": revoked_at}
    for party in dict.fromkeys((req.source, str(row["participant_id"]))):
        deliver(hub, method="PATCH", family=CONSENTS, endpoint_type=f"{TP}CONSENT_PATCH",
                path=f"/consents/{consent_id}", source=_me(req), destination=party, body=patch, ident=consent_id)
    log.info("consent %s revoked at the request of %s", consent_id, req.source)
    return Response(status_code=202)


routes = [
    Route("/consents", tp_route(post_consent, "auth.consents.post", required=("consentId", "scopes", "credential")),
          methods=["POST"]),
    Route("/consents/{ID}", tp_route(delete_consent), methods=["DELETE"]),
    Route("/thirdpartyRequests/verifications",
          tp_route(post_verification, "verifications.post",
                   required=("verificationRequestId", "challenge", "consentId", "signedPayloadType")),
          methods=["POST"]),
]
