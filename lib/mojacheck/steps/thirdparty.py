"""3PPI (Thirdparty API v1.0) steps, as a PISP's app takes them: provisioning, account linking, payments
initiated by the PISP, unlinking (behaviour ref §13).

The notebook plays the PISP's app (and its user); the simulator plays the PISP's server side, which holds the
user's credential (a real key pair) and signs, and the DFSPs; the hub relays (thirdparty-api-svc) and hosts the
auth-service. Every step sends one request, checks the hub's sync answer and waits for the callback it leads to.
Everything is made with fresh ids (users, accounts, consent requests, transactions), so a second run on the
same hub meets nothing of the first.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.sim import Callback
from mojacheck.fspiop import new_id
from mojacheck.fspiop.errors import CallbackTimeout, CredentialError, UnexpectedResponse
from mojacheck.fspiop.thirdparty import consent_challenge, derive_challenge, verify
from mojacheck.steps.p2p import Party, participant_of

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = [
    "AUTH_TYPES", "NOT_FOR", "SERVICE", "TP_TYPES", "TP_VERSION", "TRANSFER_TYPE", "ConsentRequest", "Link",
    "ThirdPartyNet", "Transaction", "accounts", "amount_text", "auth_service_url", "authenticate", "challenge_of",
    "check_link", "credential_verifies", "dfsp_channels", "dfsp_state", "endpoint_values", "ensure_tp_endpoints",
    "link_account", "new_user", "next_matching", "owner_in_als", "quote_answer", "remove_user", "request_consent",
    "revoke", "send", "services", "set_auth_service", "signature_verifies", "transaction", "unlink",
    "user_authenticates",
]

TP_VERSION = "1.0"
SERVICE = "thirdparty"
TP_TYPES = (
    "TRANSACTION_REQUEST_POST", "TRANSACTION_REQUEST_PUT", "TRANSACTION_REQUEST_GET", "TRANSACTION_REQUEST_PUT_ERROR",
    "TRANSACTION_REQUEST_PATCH", "TRANSACTION_REQUEST_AUTH_POST", "TRANSACTION_REQUEST_AUTH_PUT",
    "TRANSACTION_REQUEST_AUTH_PUT_ERROR", "TRANSACTION_REQUEST_VERIFY_PUT", "TRANSACTION_REQUEST_VERIFY_PUT_ERROR",
    "CONSENT_REQUEST_POST", "CONSENT_REQUEST_PUT", "CONSENT_REQUEST_PUT_ERROR", "CONSENT_REQUEST_PATCH",
    "CONSENT_POST", "CONSENT_GET", "CONSENT_PUT", "CONSENT_PATCH", "CONSENT_PUT_ERROR", "ACCOUNTS_GET",
    "ACCOUNTS_PUT", "ACCOUNTS_PUT_ERROR", "SERVICES_GET", "SERVICES_PUT", "SERVICES_PUT_ERROR",
)
# What a role must not register: the hub's participant list tells DFSPs, PISPs and auth-services apart by
# who receives consent requests, authorization requests and verification requests.
NOT_FOR = {"dfsp": {"TRANSACTION_REQUEST_AUTH_POST"}, "pisp": {"CONSENT_REQUEST_POST"}}
AUTH_TYPES = ("CONSENT_POST", "TRANSACTION_REQUEST_VERIFY_POST", "CONSENT_PUT_ERROR",
              "TRANSACTION_REQUEST_VERIFY_PUT_ERROR")
TRANSFER_TYPE = {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"}


@dataclass(frozen=True)
class ThirdPartyNet:
    """Who plays what: the PISP, the DFSP holding the user's account, the payee's DFSP, the auth-service."""

    pisp: str
    dfsp: str
    payee_dfsp: str
    auth: str = "centralAuth"


def endpoint_values(role: str, base: str) -> dict[str, str]:
    """The ``TP_CB_URL_*`` endpoints of a ``dfsp``, ``pisp`` or ``auth`` participant (all base URLs)."""
    base = base.rstrip("/")
    kinds = AUTH_TYPES if role == "auth" else tuple(t for t in TP_TYPES if t not in NOT_FOR[role])
    return {f"TP_CB_URL_{kind}": base for kind in kinds}


def ensure_tp_endpoints(s: Session, name: str, role: str, base: str) -> int:
    """Register a role's 3PPI endpoints at ``base``; returns how many had to be (re)written."""
    current = s.admin.endpoints(name)
    changed = 0
    for kind, value in endpoint_values(role, base).items():
        if current.get(kind) != value:
            s.call("central_ledger_admin", "POST", f"/participants/{name}/endpoints", json={"type": kind,
                                                                                           "value": value})
            changed += 1
    return changed


def auth_service_url(s: Session) -> str:
    """Where the embedded hub serves its auth-service."""
    return f"{s.services[SERVICE]}/auth-service"


# ---------------------------------------------------------------- requests and callbacks


def _accepted(ex: Any, what: str, status: tuple[int, ...] = (202,)) -> None:
    if ex.status not in status:
        raise UnexpectedResponse(f"{what}: the hub answered {ex.status}: {ex.response_body}", response=ex)


def send(s: Session, method: str, path: str, source: str, destination: str | None, body: Any = None) -> Any:
    """One 3PPI request (Thirdparty API 1.0) as FSP ``source``; returns the hub's sync answer."""
    return s.fspiop(method, SERVICE, path, source=source, destination=destination, body=body, version=TP_VERSION)


def amount_text(amount: Decimal | str) -> str:
    """An FSPIOP Amount string: no exponent, no trailing zeros ("25.50" → "25.5")."""
    text = format(Decimal(str(amount)).normalize(), "f")
    return text


def _iso(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def services(s: Session, pisp: str, service_type: str = "THIRD_PARTY_DFSP") -> Callback:
    """GET /services/{service_type} as ``pisp``; returns the PUT /services/{Type} callback (or its /error)."""
    mark = s.sim.mark()
    _accepted(send(s, "GET", f"/services/{service_type}", pisp, None), f"GET /services/{service_type}")
    return s.await_callback(pisp, "services", service_type, after=mark)


def accounts(s: Session, pisp: str, dfsp: str, user_id: str) -> Callback:
    """GET /accounts/{user_id} from ``pisp`` to ``dfsp``; returns the PUT /accounts/{ID} callback (or its /error)."""
    mark = s.sim.mark()
    _accepted(send(s, "GET", f"/accounts/{user_id}", pisp, dfsp), f"GET /accounts/{user_id}")
    return s.await_callback(pisp, "accounts", user_id, after=mark)


# ---------------------------------------------------------------- the DFSP's customers (simulator)


def new_user(s: Session, dfsp: str, currency: str, *, accounts_n: int = 1) -> tuple[str, list[dict[str, str]]]:
    """A fresh customer of ``dfsp`` with ``accounts_n`` accounts (unique addresses); returns (userId, accounts)."""
    user = f"user-{secrets.token_hex(4)}"
    listed = [{"accountNickname": f"Account {i + 1}", "address": f"{dfsp}.{user}.{secrets.token_hex(4)}",
               "currency": currency} for i in range(accounts_n)]
    s.sim._call("PUT", f"/_sim/thirdparty/{dfsp}/users/{user}", json={"accounts": listed})
    return user, listed


def remove_user(s: Session, dfsp: str, user_id: str) -> None:
    """Delete a customer of the simulated ``dfsp`` (no error if it does not exist)."""
    s.sim._call("DELETE", f"/_sim/thirdparty/{dfsp}/users/{user_id}", ok=(204, 404))


def dfsp_state(s: Session, fsp: str) -> dict[str, Any]:
    """What the simulated FSP holds: consent states, account links, transactions, credentials (ids only)."""
    return s.sim._call("GET", f"/_sim/thirdparty/{fsp}")  # type: ignore[no-any-return]


@contextmanager
def dfsp_channels(s: Session, dfsp: str, channels: list[str]) -> Iterator[None]:
    """The DFSP supports only ``channels`` for the length of a ``with`` block."""
    s.sim._call("PUT", f"/_sim/thirdparty/{dfsp}/dfsp", json={"authChannels": channels})
    try:
        yield
    finally:
        s.sim._call("PUT", f"/_sim/thirdparty/{dfsp}/dfsp", json={"authChannels": ["WEB", "OTP"]})


def set_auth_service(s: Session, dfsp: str, auth: str) -> None:
    """Make the simulated ``dfsp`` use auth-service ``auth`` from now on (not restored afterwards)."""
    s.sim._call("PUT", f"/_sim/thirdparty/{dfsp}/dfsp", json={"authService": auth})


# ---------------------------------------------------------------- linking


@dataclass(frozen=True)
class ConsentRequest:
    """A POST /consentRequests sent: its id, its body and the DFSP's answer."""

    id: str
    request: dict[str, Any]
    callback: Callback  # PUT /consentRequests/{ID} (or its /error)

    @property
    def channel(self) -> str | None:
        """The auth channel the DFSP answered with (first of its authChannels); None if it refused or named none."""
        return None if self.callback.error else (self.callback.body.get("authChannels") or [None])[0]


def request_consent(s: Session, pisp: str, dfsp: str, user_id: str, addresses: list[str], channels: list[str], *,
                    actions: tuple[str, ...] = ("ACCOUNTS_TRANSFER", "ACCOUNTS_GET_BALANCE")) -> ConsentRequest:
    """POST /consentRequests from ``pisp`` to ``dfsp`` asking ``actions`` on each of ``addresses`` (fresh id);
    returns it with the PUT /consentRequests/{ID} callback (or its /error)."""
    cr_id = new_id()
    body = {"consentRequestId": cr_id, "userId": user_id,
            "scopes": [{"address": a, "actions": list(actions)} for a in addresses],
            "authChannels": channels, "callbackUri": "mojacheck-pisp://linking/done"}
    mark = s.sim.mark()
    _accepted(send(s, "POST", "/consentRequests", pisp, dfsp, body), "POST /consentRequests")
    return ConsentRequest(cr_id, body, s.await_callback(pisp, "consentRequests", cr_id, after=mark))


def user_authenticates(s: Session, dfsp: str, cr: ConsentRequest) -> str:
    """What the user brings back from the DFSP: the OTP it texted, or the secret of the web login's redirect."""
    if cr.channel == "OTP":
        return str(s.sim._call("GET", f"/_sim/thirdparty/{dfsp}/otp/{cr.id}")["otp"])
    auth_uri = cr.callback.body["authUri"]
    # The user's browser opens the DFSP's login page (served by the simulator; reached at sim.url).
    url = s.sim.url + urllib.parse.urlparse(auth_uri).path
    ex = s._request("GET", url, record=False)
    if ex.status != 302:
        raise UnexpectedResponse(f"the DFSP login answered {ex.status}, not a redirect", response=ex)
    location = ex.response_headers.get("location", "")
    return urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["secret"][0]


@dataclass(frozen=True)
class Link:
    """How an account linking ended (what `authenticate` returns)."""

    consent_request_id: str
    consent_id: str | None
    issued: Callback | None  # POST /consents (DFSP → PISP), None when the token was refused
    final: Callback  # PUT /consents/{ID} VERIFIED, or the error that ended the linking
    credential: dict[str, Any] | None  # what the PISP registered (public key, signature; no private key exists here)

    @property
    def linked(self) -> bool:
        """True when the linking ended with the consent's PUT /consents/{ID}, not an error."""
        return not self.final.error and self.final.resource == "consents"

    @property
    def scopes(self) -> list[dict[str, Any]]:
        """The scopes of the final PUT /consents body; [] when not linked."""
        return list((self.final.body or {}).get("scopes") or []) if self.linked else []


def next_matching(s: Session, fsp: str, after: int, match: Any, what: str) -> Callback:
    """The first delivery to ``fsp`` after ``after`` for which ``match(callback)`` holds (one deadline)."""
    deadline = time.monotonic() + s.timeout
    cursor = after
    while (left := deadline - time.monotonic()) > 0:
        try:
            cb = s.sim.wait_for(fsp, "", "", after=cursor, timeout=left, method=None)
        except CallbackTimeout:
            break
        if match(cb):
            return s.await_callback(fsp, cb.resource, cb.key, after=cb.seq - 1, method=cb.method, timeout=1)
        cursor = cb.seq
    raise CallbackTimeout(f"no {what} arrived at {fsp} within {s.timeout:g} s")


def authenticate(s: Session, pisp: str, dfsp: str, cr_id: str, token: str) -> Link:
    """PATCH /consentRequests/{ID} {authToken}; then the consent is issued, the PISP's credential registered
    with the auth-service and the account links made: returns how it ended."""
    mark = s.sim.mark()
    _accepted(send(s, "PATCH", f"/consentRequests/{cr_id}", pisp, dfsp, {"authToken": token}),
              "PATCH /consentRequests")
    first = next_matching(s, pisp, mark, lambda cb: (
        cb.method == "POST" and cb.resource == "consents" and (cb.body or {}).get("consentRequestId") == cr_id)
        or (cb.resource == "consentRequests" and cb.key == cr_id and cb.error),
        "POST /consents or PUT /consentRequests/{ID}/error")
    if first.error:
        return Link(cr_id, None, None, first, None)
    consent_id = str(first.body["consentId"])
    final = s.await_callback(pisp, "consents", consent_id, after=mark)
    sent = s.sim.sent(pisp, "consents", consent_id, after=mark)
    credential = next((i["body"].get("credential") for i in sent if i["method"] == "PUT"), None)
    return Link(cr_id, consent_id, first, final, credential)


def link_account(s: Session, net: ThirdPartyNet, currency: str, channel: str = "OTP") -> tuple[Link, str, str]:
    """A fresh user links one account with ``channel``; returns (link, userId, account address)."""
    user, listed = new_user(s, net.dfsp, currency)
    cr = request_consent(s, net.pisp, net.dfsp, user, [listed[0]["address"]], [channel])
    if cr.callback.error:
        raise UnexpectedResponse(f"consent request refused: {cr.callback.body}")
    link = authenticate(s, net.pisp, net.dfsp, cr.id, user_authenticates(s, net.dfsp, cr))
    return link, user, listed[0]["address"]


def revoke(s: Session, pisp: str, dfsp: str, consent_id: str) -> Callback:
    """DELETE /consents/{ID} (unlinking); returns the PATCH /consents/{ID} REVOKED the PISP receives (or error)."""
    mark = s.sim.mark()
    _accepted(send(s, "DELETE", f"/consents/{consent_id}", pisp, dfsp), "DELETE /consents")
    return s.await_callback(pisp, "consents", consent_id, after=mark, method=None)


def check_link(s: Session, net: ThirdPartyNet, link: Link, address: str) -> None:
    """The checks every successful account link must pass: consent ISSUED, credential VERIFIED, a GENERIC
    signature over ``{consentId, scopes}``, no private key on the wire, CONSENT and THIRD_PARTY_LINK in ALS."""
    s.check("consent issued to the PISP (POST /consents, ISSUED)", "ISSUED",
            (link.issued.body or {}).get("status") if link.issued else link.final.error_code)
    s.check("final PUT /consents: credential VERIFIED", "VERIFIED",
            link.final.error_code or ((link.final.body or {}).get("credential") or {}).get("status"),
            error_code=link.final.error_code)
    s.check("credential is GENERIC with a public key", "GENERIC", (link.credential or {}).get("credentialType"))
    s.check("the registered signature verifies against {consentId, scopes}", True,
            credential_verifies(link.credential, link.consent_id or "", link.scopes))
    s.check("no private key travels", False, "private" in str(link.credential).lower())
    consent_owner = owner_in_als(s, net.dfsp, "CONSENT", link.consent_id or "")
    s.check("ALS: CONSENT belongs to the auth-service", net.auth,
            consent_owner.error_code or (consent_owner.body or {}).get("fspId"), error_code=consent_owner.error_code)
    link_owner = owner_in_als(s, net.pisp, "THIRD_PARTY_LINK", address)
    s.check("ALS: THIRD_PARTY_LINK belongs to the DFSP", net.dfsp,
            link_owner.error_code or (link_owner.body or {}).get("fspId"), error_code=link_owner.error_code)


def unlink(s: Session, net: ThirdPartyNet, link: Link) -> Callback:
    """Revoke the link's consent (DELETE /consents) and check the PISP is told REVOKED."""
    revoked = revoke(s, net.pisp, net.dfsp, link.consent_id or "")
    s.check("unlinked: PATCH /consents REVOKED", "REVOKED", revoked.error_code or (revoked.body or {}).get("status"),
            error_code=revoked.error_code)
    return revoked


def owner_in_als(s: Session, requester: str, id_type: str, identifier: str) -> Callback:
    """GET /participants/{Type}/{ID}: who ALS says holds a CONSENT or THIRD_PARTY_LINK."""
    return participant_of(s, requester, Party("", id_type, identifier))


# ---------------------------------------------------------------- transactions


@dataclass(frozen=True)
class Transaction:
    """A PISP-initiated transaction request and the callbacks it led to (what `transaction` returns)."""

    id: str
    mark: int  # inbox position before the request: what came after belongs to this transaction
    request: dict[str, Any]
    received: Callback  # PUT /thirdpartyRequests/transactions/{ID} (RECEIVED) or its error
    authorization: Callback | None  # POST /thirdpartyRequests/authorizations to the PISP
    signed: dict[str, Any] | None  # the PISP's answer to it, as sent
    final: Callback  # PATCH …/transactions/{ID} (COMPLETED) or PUT …/error

    @property
    def error_code(self) -> str | None:
        """The final callback's errorCode; None when it carries none (e.g. a COMPLETED transaction)."""
        return self.final.error_code


def transaction(s: Session, net: ThirdPartyNet, payer_address: str, payee: Party, amount: Decimal | str,
                currency: str, *, transaction_request_id: str | None = None) -> Transaction:
    """POST /thirdpartyRequests/transactions from the linked account to ``payee``; waits for the final word."""
    tr_id = transaction_request_id or new_id()
    key = f"transactions/{tr_id}"
    body = {"transactionRequestId": tr_id, "payee": {"partyIdInfo": payee.id_info()},
            "payer": {"partyIdType": "THIRD_PARTY_LINK", "partyIdentifier": payer_address, "fspId": net.dfsp},
            "amountType": "SEND", "amount": {"amount": amount_text(amount), "currency": currency},
            "transactionType": TRANSFER_TYPE, "expiration": _iso(60)}
    mark = s.sim.mark()
    _accepted(send(s, "POST", "/thirdpartyRequests/transactions", net.pisp, net.dfsp, body),
              "POST /thirdpartyRequests/transactions")
    received = s.await_callback(net.pisp, "thirdpartyRequests", key, after=mark)
    if received.error:
        return Transaction(tr_id, mark, body, received, None, None, received)
    def ends(cb: Callback) -> bool:
        return cb.resource == "thirdpartyRequests" and cb.key == key and (cb.method == "PATCH" or cb.error)

    first = next_matching(s, net.pisp, mark, lambda cb: ends(cb) or (
        cb.method == "POST" and cb.key == "authorizations" and (cb.body or {}).get("transactionRequestId") == tr_id),
        "POST /thirdpartyRequests/authorizations or the transaction's end")
    if ends(first):
        return Transaction(tr_id, mark, body, received, None, None, first)
    auth_key = f"authorizations/{first.body['authorizationRequestId']}"
    final = next_matching(s, net.pisp, first.seq, ends, "PATCH or PUT …/error of the transaction request")
    sent = s.sim.sent(net.pisp, "thirdpartyRequests", auth_key, after=mark)
    return Transaction(tr_id, mark, body, received, first, sent[0]["body"] if sent else None, final)


# ---------------------------------------------------------------- independent checks of the cryptography


def challenge_of(value: Any) -> str:
    """The 3PPI challenge of an object: base64(hex(SHA-256(RFC 8785 JSON)))."""
    return derive_challenge(value)


def signature_verifies(public_key: str, challenge: str, signature: str) -> bool:
    """Whether ``signature`` is the key's ECDSA/RSA SHA-256 signature of ``challenge`` (False if unreadable)."""
    try:
        return verify(public_key, challenge, signature)
    except CredentialError:
        return False


def credential_verifies(credential: dict[str, Any] | None, consent_id: str, scopes: list[dict[str, Any]]) -> bool:
    """Whether a GENERIC credential's signature covers the challenge of ``{consentId, scopes}``."""
    payload = (credential or {}).get("genericPayload") or {}
    return signature_verifies(str(payload.get("publicKey", "")), consent_challenge(consent_id, scopes),
                              str(payload.get("signature", "")))


def quote_answer(s: Session, dfsp: str, after: int) -> dict[str, Any] | None:
    """The payee's PUT /quotes body the payer DFSP received after ``after`` (what the challenge is made of)."""
    found = s.sim._call("GET", "/_sim/inbox", params={"fsp": dfsp, "resource": "quotes", "method": "PUT",
                                                       "after": after, "direction": "in"})
    items = [i for i in found["items"] if not i.get("error")]
    return items[-1]["body"] if items else None
