"""A simulated DFSP's 3PPI side: accounts, consent requests (WEB, OTP), consent grant and credential
registration with the hub's auth-service, account links in ALS, PISP-initiated transactions, unlinking.

Error codes are the 3PPI ones the Mojaloop thirdparty SDK sends: 7202 no accounts, 7203 no supported auth
channel, 7204 no supported scope action, 7209 no suitable scopes, 7211 unknown user, 7205 wrong OTP/secret,
7213 consent invalid (auth-service refused the credential; unknown or revoked consent behind a link),
7214 link registration failed; transactions 7101 invalid request, 7103 quote failed, 7104 no authorization,
7106 rejected by the user, 7107 unexpected answer, 7105 signature not verified, 7108 transfer failed.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mojacheck.fspiop import new_id
from mojacheck.fspiop.thirdparty import derive_challenge
from mojacheck.sim.thirdparty.state import FSPIOP_VERSION, Consent, ConsentRequest, Dfsp, Flows

if TYPE_CHECKING:
    from mojacheck.sim.payee import Incoming

SUPPORTED_ACTIONS = ("ACCOUNTS_TRANSFER", "ACCOUNTS_GET_BALANCE")
TX = "/thirdpartyRequests/transactions"


def _iso(seconds: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handler_for(tp: Flows, inc: Incoming) -> Coroutine[Any, Any, None] | None:
    parts = inc.path.split("?", 1)[0].strip("/").split("/")
    body = inc.body if isinstance(inc.body, dict) else {}
    source = inc.headers.get("fspiop-source", "")
    dfsp = tp.dfsps.get(inc.fsp)
    if parts[-1] == "error":
        return None  # an error nobody waits for any more: the inbox has it, nothing to answer
    if inc.method == "GET" and parts[0] == "accounts" and len(parts) == 2:
        return accounts(tp, inc.fsp, source, parts[1])
    if inc.method == "POST" and parts == ["consentRequests"]:
        return consent_request(tp, inc.fsp, source, body, inc.headers.get("host", ""))
    if inc.method == "PATCH" and parts[0] == "consentRequests" and len(parts) == 2:
        return authenticate(tp, inc.fsp, source, parts[1], body)
    if dfsp is not None and parts[0] == "consents" and len(parts) == 2 and parts[1] in dfsp.consents:
        if inc.method == "PUT":
            return register_credential(tp, inc.fsp, source, parts[1], body)
        if inc.method == "PATCH" and body.get("status") == "REVOKED":
            return revoked(tp, inc.fsp, parts[1])
        if inc.method == "DELETE":
            return unlink(tp, inc.fsp, source, parts[1])
    if inc.method == "POST" and parts == ["thirdpartyRequests", "transactions"]:
        return transaction(tp, inc.fsp, source, body)
    if inc.method == "GET" and parts[:2] == ["thirdpartyRequests", "transactions"] and len(parts) == 3:
        return transaction_state(tp, inc.fsp, source, parts[2])
    return None


# ---------------------------------------------------------------- linking


async def accounts(tp: Flows, fsp: str, pisp: str, user_id: str) -> None:
    found = tp.dfsp(fsp).users.get(user_id)
    if not found:
        await tp.send_error(fsp, pisp, f"/accounts/{user_id}", "7202", f"No accounts found for {user_id}")
        return
    listed = [{"accountNickname": a.get("accountNickname", a["address"]), "address": a["address"],
               "currency": a.get("currency", "USD")} for a in found]
    await tp.send(fsp, pisp, "PUT", f"/accounts/{user_id}", {"accounts": listed})


def _problem(dfsp: Dfsp, body: dict[str, Any]) -> tuple[str, str] | tuple[list[dict[str, Any]], str]:
    """(error code, detail) or (granted scopes, chosen channel)."""
    user = dfsp.users.get(str(body.get("userId")))
    if user is None:
        return "7211", f"No consent requests allowed for user {body.get('userId')!r}"
    owned = {a["address"] for a in user}
    scopes = [s for s in body.get("scopes") or [] if s.get("address") in owned]
    if not scopes:
        return "7209", "None of the requested accounts belongs to the user"
    granted = [{"address": s["address"], "actions": [a for a in s["actions"] if a in SUPPORTED_ACTIONS]}
               for s in scopes]
    granted = [s for s in granted if s["actions"]]
    if not granted:
        return "7204", f"Supported scope actions: {', '.join(SUPPORTED_ACTIONS)}"
    channels = [c for c in body.get("authChannels") or [] if c in dfsp.auth_channels]
    if not channels:
        return "7203", f"Supported authentication channels: {', '.join(dfsp.auth_channels)}"
    return granted, channels[0]


async def consent_request(tp: Flows, fsp: str, pisp: str, body: dict[str, Any], host: str) -> None:
    cr_id = str(body.get("consentRequestId"))
    path = f"/consentRequests/{cr_id}"
    dfsp = tp.dfsp(fsp)
    outcome = _problem(dfsp, body)
    if isinstance(outcome[0], str):
        await tp.send_error(fsp, pisp, path, outcome[0], str(outcome[1]))
        return
    scopes, channel = outcome
    assert isinstance(scopes, list)
    # OTP: six digits "texted" to the user; WEB: the secret the login page hands back through the redirect.
    secret = f"{secrets.randbelow(10**6):06d}" if channel == "OTP" else secrets.token_urlsafe(18)
    dfsp.requests[cr_id] = ConsentRequest(pisp, str(body["userId"]), scopes, str(channel),
                                          str(body.get("callbackUri", "")), secret)
    answer: dict[str, Any] = {"scopes": scopes, "authChannels": [channel], "callbackUri": body.get("callbackUri")}
    if channel == "WEB":
        answer["authUri"] = f"http://{host}/_sim/thirdparty/{fsp}/authorize/{cr_id}"
    await tp.send(fsp, pisp, "PUT", path, answer)


async def authenticate(tp: Flows, fsp: str, pisp: str, cr_id: str, body: dict[str, Any]) -> None:
    """PATCH /consentRequests/{ID} {authToken}: the user's OTP or web secret; a good one issues the consent."""
    path = f"/consentRequests/{cr_id}"
    cr = tp.dfsp(fsp).requests.get(cr_id)
    if cr is None or cr.pisp != pisp or cr.used:
        await tp.send_error(fsp, pisp, path, "7208", "No open consent request with this id for this PISP")
        return
    if not hmac.compare_digest(str(body.get("authToken", "")).encode(), cr.secret.encode()):
        await tp.send_error(fsp, pisp, path, "7205", f"{cr.channel} token does not match")
        return
    cr.used = True
    consent_id = new_id()
    tp.dfsp(fsp).consents[consent_id] = Consent(pisp, cr_id, cr.scopes)
    await tp.send(fsp, pisp, "POST", "/consents", {"consentId": consent_id, "consentRequestId": cr_id,
                                                  "scopes": cr.scopes, "status": "ISSUED"})


async def register_credential(tp: Flows, fsp: str, source: str, consent_id: str, body: dict[str, Any]) -> None:
    """The PISP's signed credential: have the auth-service verify and hold it, link the accounts, confirm."""
    dfsp = tp.dfsp(fsp)
    consent = dfsp.consents[consent_id]
    path = f"/consents/{consent_id}"
    if source != consent.pisp or consent.status != "ISSUED":
        await tp.send_error(fsp, source, path, "7213", f"Consent {consent_id} is {consent.status}, not awaiting "
                                                       f"a credential from {source}")
        return
    consent.status = "REGISTERING"
    answer = await tp.ask(fsp, dfsp.auth_service, "POST", "/consents", {
        "consentId": consent_id, "consentRequestId": consent.consent_request_id, "scopes": consent.scopes,
        "credential": body.get("credential"), "status": "ISSUED"}, answer_path=path, answer_from=dfsp.auth_service)
    credential = (answer.body or {}).get("credential") if answer is not None and not _is_error(answer) else None
    if not credential or credential.get("status") != "VERIFIED":
        consent.status = "INVALID"
        await tp.send_error(fsp, consent.pisp, path, "7213", "The auth-service did not verify the credential")
        return
    if not await _link_accounts(tp, fsp, consent):
        consent.status = "INVALID"
        await tp.send_error(fsp, consent.pisp, path, "7214", "Account links could not be registered in ALS")
        return
    consent.status, consent.credential = "ACTIVE", credential
    for scope in consent.scopes:
        dfsp.links[scope["address"]] = consent_id
    await tp.send(fsp, consent.pisp, "PUT", path, {"scopes": consent.scopes, "credential": credential})


def _is_error(inc: Incoming) -> bool:
    return inc.path.split("?", 1)[0].rstrip("/").endswith("/error")


async def _link_accounts(tp: Flows, fsp: str, consent: Consent) -> bool:
    """POST /participants/THIRD_PARTY_LINK/{address} per scope; True when ALS confirmed every one."""
    for scope in consent.scopes:
        path = f"/participants/THIRD_PARTY_LINK/{scope['address']}"
        answer = await tp.ask(fsp, "", "POST", path, {"fspId": fsp}, answer_path=path, version=FSPIOP_VERSION)
        if answer is None or _is_error(answer):
            return False
    return True


async def revoked(tp: Flows, fsp: str, consent_id: str) -> None:
    """PATCH /consents/{ID} REVOKED (from the auth-service): drop the links, here and in ALS."""
    dfsp = tp.dfsp(fsp)
    consent = dfsp.consents[consent_id]
    consent.status = "REVOKED"
    for scope in consent.scopes:
        if dfsp.links.get(scope["address"]) == consent_id:
            del dfsp.links[scope["address"]]
            await tp.send(fsp, "", "DELETE", f"/participants/THIRD_PARTY_LINK/{scope['address']}", None,
                          version=FSPIOP_VERSION)


async def unlink(tp: Flows, fsp: str, pisp: str, consent_id: str) -> None:
    """DELETE /consents/{ID} routed to the DFSP (no hub auth-service holds it): revoke and tell the PISP."""
    consent = tp.dfsp(fsp).consents[consent_id]
    if consent.pisp != pisp or consent.status != "ACTIVE":
        await tp.send_error(fsp, pisp, f"/consents/{consent_id}", "7213", f"Consent {consent_id} is {consent.status}")
        return
    await revoked(tp, fsp, consent_id)
    await tp.send(fsp, pisp, "PATCH", f"/consents/{consent_id}", {"status": "REVOKED", "revokedAt": _iso()})


# ---------------------------------------------------------------- transactions


def _validate(dfsp: Dfsp, fsp: str, pisp: str, body: dict[str, Any]) -> tuple[str, str] | tuple[str, None]:
    """(error code, detail), or (consentId, None) when the request may proceed."""
    payer = body.get("payer") or {}
    if payer.get("partyIdType") != "THIRD_PARTY_LINK" or payer.get("fspId") not in (None, fsp):
        return "7101", "payer must be a THIRD_PARTY_LINK issued by this DFSP"
    address = str(payer.get("partyIdentifier"))
    consent_id = dfsp.links.get(address)
    consent = dfsp.consents.get(consent_id or "")
    if consent is None:
        revoked = [c for c in dfsp.consents.values() if c.status == "REVOKED"
                   and any(s["address"] == address for s in c.scopes)]
        return "7213", f"No valid consent behind {address}" + (" (revoked)" if revoked else "")
    if consent.pisp != pisp or consent.status != "ACTIVE":
        return "7213", f"Consent {consent_id} is {consent.status} or not held by {pisp}"
    scope = next(s for s in consent.scopes if s["address"] == address)
    if "ACCOUNTS_TRANSFER" not in scope["actions"]:
        return "7213", f"Consent {consent_id} does not allow transfers"
    if not ((body.get("payee") or {}).get("partyIdInfo") or {}).get("fspId"):
        return "7101", "payee.partyIdInfo.fspId is required to address the quote"
    return str(consent_id), None


async def transaction(tp: Flows, fsp: str, pisp: str, body: dict[str, Any]) -> None:
    tr_id = str(body.get("transactionRequestId"))
    path = f"{TX}/{tr_id}"
    dfsp = tp.dfsp(fsp)
    consent_id, problem = _validate(dfsp, fsp, pisp, body)
    if problem is not None:
        await tp.send_error(fsp, pisp, path, consent_id, problem)
        return
    transaction_id = new_id()
    state = dfsp.transactions[tr_id] = {"transactionId": transaction_id, "transactionRequestState": "RECEIVED",
                                        "pisp": pisp}
    await tp.send(fsp, pisp, "PUT", path, {"transactionId": transaction_id, "transactionRequestState": "RECEIVED"})
    failure = await _run(tp, fsp, pisp, body, consent_id, transaction_id)
    if failure is not None:
        state["transactionRequestState"] = "REJECTED"
        await tp.send_error(fsp, pisp, path, *failure)
        return
    state["transactionRequestState"] = "ACCEPTED"
    await tp.send(fsp, pisp, "PATCH", path, {"completedTimestamp": _iso(), "transactionRequestState": "ACCEPTED",
                                             "transactionState": "COMPLETED"})


async def _quote(tp: Flows, fsp: str, body: dict[str, Any], transaction_id: str) -> tuple[str, Any]:
    payee_fsp = body["payee"]["partyIdInfo"]["fspId"]
    quote_id = new_id()
    request = {"quoteId": quote_id, "transactionId": transaction_id,
               "transactionRequestId": body["transactionRequestId"], "payee": body["payee"],
               "payer": {"partyIdInfo": {**body["payer"], "fspId": fsp}}, "amountType": body["amountType"],
               "amount": body["amount"], "transactionType": body["transactionType"]}
    answer = await tp.ask(fsp, payee_fsp, "POST", "/quotes", request, answer_path=f"/quotes/{quote_id}",
                          version=FSPIOP_VERSION)
    if answer is None or _is_error(answer) or not isinstance(answer.body, dict):
        return payee_fsp, None
    return payee_fsp, answer.body


async def _authorize(tp: Flows, fsp: str, pisp: str, body: dict[str, Any], quote: dict[str, Any],
                     challenge: str) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    auth_id = new_id()
    amount = quote["transferAmount"]
    answer = await tp.ask(fsp, pisp, "POST", "/thirdpartyRequests/authorizations", {
        "authorizationRequestId": auth_id, "transactionRequestId": body["transactionRequestId"],
        "challenge": challenge, "transferAmount": amount,
        "payeeReceiveAmount": quote.get("payeeReceiveAmount") or amount,
        "fees": {"amount": "0", "currency": amount["currency"]}, "payer": body["payer"], "payee": body["payee"],
        "transactionType": body["transactionType"], "expiration": quote.get("expiration") or _iso(60)},
        answer_path=f"/thirdpartyRequests/authorizations/{auth_id}")
    if answer is None or _is_error(answer) or not isinstance(answer.body, dict):
        return None, ("7104", "The PISP did not answer the authorization request")
    if answer.body.get("responseType") == "REJECTED":
        return None, ("7106", "The user rejected the authorization")
    signed = answer.body.get("signedPayload") or {}
    if answer.body.get("responseType") != "ACCEPTED" or signed.get("signedPayloadType") != "GENERIC":
        return None, ("7107", f"Unexpected authorization answer {answer.body.get('responseType')!r}")
    return signed, None


async def _verify(tp: Flows, fsp: str, consent_id: str, challenge: str, signed: dict[str, Any]) -> bool:
    auth_service = tp.dfsp(fsp).auth_service
    ver_id = new_id()
    answer = await tp.ask(fsp, auth_service, "POST", "/thirdpartyRequests/verifications", {
        "verificationRequestId": ver_id, "challenge": challenge, "consentId": consent_id,
        "signedPayloadType": "GENERIC", "genericSignedPayload": signed.get("genericSignedPayload")},
        answer_path=f"/thirdpartyRequests/verifications/{ver_id}")
    return answer is not None and not _is_error(answer) and \
        (answer.body or {}).get("authenticationResponse") == "VERIFIED"


async def _transfer(tp: Flows, fsp: str, payee_fsp: str, quote: dict[str, Any]) -> bool:
    transfer_id = new_id()
    answer = await tp.ask(fsp, payee_fsp, "POST", "/transfers", {
        "transferId": transfer_id, "payerFsp": fsp, "payeeFsp": payee_fsp, "amount": quote["transferAmount"],
        "ilpPacket": quote["ilpPacket"], "condition": quote["condition"], "expiration": _iso(60)},
        answer_path=f"/transfers/{transfer_id}", version=FSPIOP_VERSION)
    return answer is not None and not _is_error(answer) and (answer.body or {}).get("transferState") == "COMMITTED"


async def _run(tp: Flows, fsp: str, pisp: str, body: dict[str, Any], consent_id: str,
               transaction_id: str) -> tuple[str, str] | None:
    """Quote → authorization → verification → transfer; the failure (code, detail) or None."""
    payee_fsp, quote = await _quote(tp, fsp, body, transaction_id)
    if quote is None:
        return "7103", f"The quote with {payee_fsp} failed"
    challenge = derive_challenge(quote)
    signed, failure = await _authorize(tp, fsp, pisp, body, quote, challenge)
    if signed is None:
        return failure
    if not await _verify(tp, fsp, consent_id, challenge, signed):
        return "7105", "The auth-service did not verify the signed challenge"
    if not await _transfer(tp, fsp, payee_fsp, quote):
        return "7108", "The transfer was not committed"
    return None


async def transaction_state(tp: Flows, fsp: str, pisp: str, tr_id: str) -> None:
    path = f"{TX}/{tr_id}"
    state = tp.dfsp(fsp).transactions.get(tr_id)
    if state is None or state["pisp"] != pisp:
        await tp.send_error(fsp, pisp, path, "3206", f"No transaction request {tr_id} from {pisp}")
        return
    await tp.send(fsp, pisp, "PUT", path, {k: v for k, v in state.items() if k != "pisp"})
