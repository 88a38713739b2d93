"""A simulated PISP's automatic part: it holds the user's credential (a real EC P-256 key pair per consent)
and signs what the user is asked to sign. The rest of the PISP (choosing a DFSP, asking for accounts and
consent, entering the OTP, starting a payment, unlinking) is what a notebook does, as the PISP's app.

* ``POST /consents`` (consent ISSUED by the DFSP): make a key pair, sign the challenge derived from
  ``{consentId, scopes}``, answer ``PUT /consents/{ID}`` with a GENERIC credential (status PENDING).
  Rule ``consents``/``bad_signature`` signs the challenge of other scopes instead (the auth-service refuses);
  ``no_answer`` stays silent.
* ``POST /thirdpartyRequests/authorizations``: sign the challenge with the key of the consent behind the
  payer's account link and answer ``ACCEPTED``; rule ``authorizations``/``reject`` answers ``REJECTED``,
  ``bad_signature`` signs a changed challenge, ``no_answer`` stays silent.
* ``PATCH /consents/{ID}`` REVOKED: the key pair is forgotten.

Rules are the simulator's one RuleBook (``POST /_sim/rules``, resources ``consents`` and ``authorizations``).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from mojacheck.fspiop.thirdparty import KeyPair, consent_challenge
from mojacheck.sim.thirdparty.state import Flows

if TYPE_CHECKING:
    from mojacheck.sim.payee import Incoming


def handler_for(tp: Flows, inc: Incoming) -> Coroutine[Any, Any, None] | None:
    parts = inc.path.split("?", 1)[0].strip("/").split("/")
    body = inc.body if isinstance(inc.body, dict) else {}
    source = inc.headers.get("fspiop-source", "")
    if inc.method == "POST" and parts == ["consents"]:
        return credential(tp, inc.fsp, source, body)
    if inc.method == "POST" and parts == ["thirdpartyRequests", "authorizations"]:
        return authorization(tp, inc.fsp, source, body)
    if inc.method == "PATCH" and parts[0] == "consents" and len(parts) == 2 and body.get("status") == "REVOKED":
        return forget(tp, inc.fsp, parts[1])
    return None


async def credential(tp: Flows, fsp: str, dfsp: str, body: dict[str, Any]) -> None:
    consent_id, scopes = str(body.get("consentId")), list(body.get("scopes") or [])
    rule = tp.rule(fsp, "consents", (consent_id, str(body.get("consentRequestId"))))
    if rule is not None and rule.behaviour == "no_answer":
        return
    pisp = tp.pisp(fsp)
    key = pisp.keys[consent_id] = KeyPair()
    for scope in scopes:
        pisp.links[scope["address"]] = consent_id
    signed_scopes = scopes
    if rule is not None and rule.behaviour == "bad_signature":
        signed_scopes = [{**s, "address": s["address"] + "-other"} for s in scopes]
    signature = key.sign(consent_challenge(consent_id, signed_scopes))
    await tp.send(fsp, dfsp, "PUT", f"/consents/{consent_id}", {"scopes": scopes, "credential": {
        "credentialType": "GENERIC", "status": "PENDING",
        "genericPayload": {"publicKey": key.public_key, "signature": signature}}})


async def authorization(tp: Flows, fsp: str, dfsp: str, body: dict[str, Any]) -> None:
    auth_id = str(body.get("authorizationRequestId"))
    path = f"/thirdpartyRequests/authorizations/{auth_id}"
    rule = tp.rule(fsp, "authorizations", (str(body.get("transactionRequestId")), auth_id))
    behaviour = "normal" if rule is None else rule.behaviour
    if behaviour == "no_answer":
        return
    if behaviour == "reject":
        await tp.send(fsp, dfsp, "PUT", path, {"responseType": "REJECTED"})
        return
    pisp = tp.pisp(fsp)
    consent_id = pisp.links.get(str((body.get("payer") or {}).get("partyIdentifier")))
    key = pisp.keys.get(consent_id or "")
    if key is None:
        await tp.send_error(fsp, dfsp, path, "7213", "This PISP holds no credential for the payer's account link")
        return
    challenge = str(body.get("challenge", ""))
    signature = key.sign(challenge + "#" if behaviour == "bad_signature" else challenge)
    await tp.send(fsp, dfsp, "PUT", path, {"responseType": "ACCEPTED", "signedPayload": {
        "signedPayloadType": "GENERIC", "genericSignedPayload": signature}})


async def forget(tp: Flows, fsp: str, consent_id: str) -> None:
    pisp = tp.pisp(fsp)
    pisp.keys.pop(consent_id, None)
    for address in [a for a, c in pisp.links.items() if c == consent_id]:
        del pisp.links[address]
