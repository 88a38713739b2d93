"""The simulator's mutable state besides the inbox: the test FSPs' parties and the behaviour rules.

One RuleBook serves every role the simulator plays: the payee's answers (``parties``, ``quotes``,
``transfers``), the request-to-pay roles (``transactionRequests``: the payer FSP's decision on a request, matched by
transactionRequestId or the payer's identifier; ``otp``: what the customer at the payee's device answers to
``GET /authorizations``, matched by transactionRequestId), the bulk payee's (``bulkQuotes``, ``bulkTransfers``: a
rule matching the bulk's id, or no id, acts on the whole bulk; one matching an item's quoteId/transferId on that
item only), the FXP's (``fxQuotes``: its answer to ``POST /fxQuotes``, matched by conversionRequestId,
conversionId or determiningTransferId; ``fxTransfers``: its answer to ``POST /fxTransfers``, matched by
commitRequestId or determiningTransferId) and the 3PPI PISP's (``authorizations``: its answer to
``POST /thirdpartyRequests/authorizations``, matched by transactionRequestId or authorizationRequestId;
``consents``: the credential it registers in answer to ``POST /consents``, matched by consentRequestId or
consentId). ``ALLOWED`` says which behaviours, match
fields and options each resource takes.

Control input is validated here; ``ControlError`` names the offending field so the control API can answer 400
with a message a notebook author can act on.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from dataclasses import dataclass
from typing import Any

BEHAVIOURS = ("normal", "invalid_fulfilment", "reserved", "committed", "reject", "no_answer", "delay",
              "bad_signature", "error", "wrong_otp", "wrong_once", "future_timestamp")
RESOURCES = ("parties", "quotes", "transfers", "authorizations", "consents", "fxQuotes", "fxTransfers",
             "transactionRequests", "otp", "bulkQuotes", "bulkTransfers")
# The behaviours each resource's role can play. Only a transfer has a fulfilment to spoil or a RESERVED state to
# announce; only the PISP signs (a bad signature); a PISP's reject is a REJECTED authorization, never an error
# code, and it cannot refuse to register a credential.
ALLOWED: dict[str, tuple[str, ...]] = {
    "parties": ("normal", "reject", "no_answer", "delay"),
    "quotes": ("normal", "reject", "no_answer", "delay"),
    "transfers": ("normal", "invalid_fulfilment", "reserved", "reject", "no_answer", "delay"),
    "authorizations": ("normal", "reject", "no_answer", "bad_signature"),
    "consents": ("normal", "no_answer", "bad_signature"),
    # The FXP: a conversion it fulfils answers RESERVED (as the Testing Toolkit's FXP) or, "committed", COMMITTED.
    "fxQuotes": ("normal", "reject", "no_answer", "delay"),
    "fxTransfers": ("normal", "committed", "invalid_fulfilment", "reject", "no_answer", "delay"),
    # reject: transactionRequestState REJECTED; error: PUT /transactionRequests/{ID}/error (errorCode, 4101)
    "transactionRequests": ("normal", "reject", "error", "no_answer", "delay"),
    # wrong_otp: a wrong value every time; wrong_once: wrong, then right; reject: responseType REJECTED
    "otp": ("normal", "wrong_otp", "wrong_once", "reject", "no_answer", "delay"),
    "bulkQuotes": ("normal", "reject", "no_answer", "delay"),
    "bulkTransfers": ("normal", "reject", "invalid_fulfilment", "future_timestamp", "no_answer", "delay"),
}
# The 3PPI resources match ids only (no party) and take neither an error code nor a delay.
THIRDPARTY = frozenset({"authorizations", "consents"})
# The FXP's resources match ids only (a conversion names no party) but take an error code and a delay.
NO_PARTY = THIRDPARTY | {"fxQuotes", "fxTransfers", "otp", "bulkQuotes", "bulkTransfers"}
DEFAULT_REJECT_CODE = {"transfers": "5105", "quotes": "5101", "parties": "3204", "fxQuotes": "5101",
                       "fxTransfers": "5105", "transactionRequests": "4101", "bulkQuotes": "5101",
                       "bulkTransfers": "5105"}
MAX_DELAY_MS = 600_000
_RULE_FIELDS = frozenset({"fsp", "resource", "match", "behaviour", "errorCode", "delayMs"})
_MATCH_FIELDS = frozenset({"id", "partyIdentifier"})
_ERROR_CODE_RE = re.compile(r"^\d{4}$")

PartyKey = tuple[str, str, str, str | None]


class ControlError(ValueError):
    """Bad control-API input; ``field`` is the JSON field (or path part) at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# ---------------------------------------------------------------- parties


class PartyStore:
    """FSPIOP ``Party`` objects per (fsp, type, id, subId); answers ``GET /parties`` for that FSP."""

    def __init__(self) -> None:
        self._parties: dict[PartyKey, dict[str, Any]] = {}

    def put(self, fsp: str, id_type: str, ident: str, sub_id: str | None, party: Any) -> dict[str, Any]:
        if isinstance(party, dict) and isinstance(party.get("party"), dict):
            party = party["party"]  # accept the PUT /parties body shape too
        if not isinstance(party, dict):
            raise ControlError("body", "expected a JSON object (an FSPIOP Party)")
        info = party.get("partyIdInfo", {})
        if not isinstance(info, dict):
            raise ControlError("partyIdInfo", "expected a JSON object")
        self._parties[(fsp, id_type, ident, sub_id)] = copy.deepcopy(party)
        return self.get(fsp, id_type, ident, sub_id) or {}

    def get(self, fsp: str, id_type: str, ident: str, sub_id: str | None) -> dict[str, Any] | None:
        """The stored party with ``partyIdInfo`` completed from the key (type, id, subId, fspId)."""
        stored = self._parties.get((fsp, id_type, ident, sub_id))
        if stored is None:
            return None
        party = copy.deepcopy(stored)
        info = party.setdefault("partyIdInfo", {})
        info.setdefault("partyIdType", id_type)
        info.setdefault("partyIdentifier", ident)
        if sub_id is not None:
            info.setdefault("partySubIdOrType", sub_id)
        info.setdefault("fspId", fsp)
        return party

    def delete(self, fsp: str, id_type: str, ident: str, sub_id: str | None) -> bool:
        return self._parties.pop((fsp, id_type, ident, sub_id), None) is not None

    def list(self, fsp: str) -> list[dict[str, Any]]:
        return [
            {"type": t, "id": i, "subId": s, "party": self.get(f, t, i, s)}
            for (f, t, i, s) in self._parties
            if f == fsp
        ]


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    id: str
    resource: str
    behaviour: str
    fsp: str | None = None
    match_id: str | None = None
    match_party: str | None = None
    error_code: str | None = None
    delay_ms: int = 0

    @property
    def reject_code(self) -> str:
        return self.error_code or DEFAULT_REJECT_CODE[self.resource]

    def applies(self, fsp: str, resource: str, ids: tuple[str, ...], party: str | None) -> bool:
        return (
            self.resource == resource
            and (self.fsp is None or self.fsp == fsp)
            and (self.match_id is None or self.match_id in ids)
            and (self.match_party is None or self.match_party == party)
        )

    def to_json(self) -> dict[str, Any]:
        match = {k: v for k, v in (("id", self.match_id), ("partyIdentifier", self.match_party)) if v}
        body: dict[str, Any] = {
            "id": self.id,
            "fsp": self.fsp,
            "resource": self.resource,
            "match": match,
            "behaviour": self.behaviour,
            "delayMs": self.delay_ms,
        }
        if self.behaviour in ("reject", "error") and self.resource in DEFAULT_REJECT_CODE:
            body["errorCode"] = self.reject_code
        return body


def _optional_str(body: dict[str, Any], field: str, label: str | None = None) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(label or field, f"expected a non-empty string, got {value!r}")
    return value


def _choice(body: dict[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = body.get(field)
    if value not in allowed:
        raise ControlError(field, f"expected one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _parse_match(raw: Any) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ControlError("match", "expected an object with optional 'id' and 'partyIdentifier'")
    unknown = sorted(set(raw) - _MATCH_FIELDS)
    if unknown:
        raise ControlError(f"match.{unknown[0]}", "unknown field; allowed: id, partyIdentifier")
    return _optional_str(raw, "id", "match.id"), _optional_str(raw, "partyIdentifier", "match.partyIdentifier")


def _parse_error_code(raw: Any) -> str | None:
    if raw is None:
        return None
    code = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not _ERROR_CODE_RE.match(code):
        raise ControlError("errorCode", f"expected a 4-digit FSPIOP error code, got {raw!r}")
    return code


def _parse_delay(raw: Any) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DELAY_MS:
        raise ControlError("delayMs", f"expected an integer 0..{MAX_DELAY_MS}, got {raw!r}")
    return raw


def parse_rule(body: Any, rule_id: str) -> Rule:
    """Validate a ``POST /_sim/rules`` body into a Rule."""
    if not isinstance(body, dict):
        raise ControlError("body", "expected a JSON object")
    unknown = sorted(set(body) - _RULE_FIELDS)
    if unknown:
        raise ControlError(unknown[0], f"unknown field; allowed: {', '.join(sorted(_RULE_FIELDS))}")
    resource = _choice(body, "resource", RESOURCES)
    behaviour = _choice(body, "behaviour", BEHAVIOURS)
    if behaviour not in ALLOWED[resource]:
        applies = ", ".join(r for r in RESOURCES if behaviour in ALLOWED[r])
        raise ControlError("behaviour", f"{behaviour!r} does not apply to resource {resource!r} (allowed: "
                                        f"{', '.join(ALLOWED[resource])}); it applies to: {applies}")
    match_id, match_party = _parse_match(body.get("match"))
    if resource in NO_PARTY:
        unused = [("match.partyIdentifier", match_party)]
        if resource in THIRDPARTY:
            unused += [("errorCode", body.get("errorCode")), ("delayMs", body.get("delayMs"))]
        for field, given in unused:
            if given is not None:
                raise ControlError(field, f"not used by resource {resource!r}")
    return Rule(
        id=rule_id,
        resource=resource,
        behaviour=behaviour,
        fsp=_optional_str(body, "fsp"),
        match_id=match_id,
        match_party=match_party,
        error_code=_parse_error_code(body.get("errorCode")),
        delay_ms=_parse_delay(body.get("delayMs")),
    )


class RuleBook:
    """Behaviour rules; the newest matching rule wins, no rule means ``normal``."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}  # insertion order = age
        self._ids = itertools.count(1)

    def add(self, body: Any) -> Rule:
        rule = parse_rule(body, f"rule-{next(self._ids)}")
        self._rules[rule.id] = rule
        return rule

    def delete(self, rule_id: str) -> bool:
        return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()

    def list(self) -> list[Rule]:
        return list(self._rules.values())

    def find(self, fsp: str, resource: str, ids: tuple[str, ...] = (), party: str | None = None) -> Rule | None:
        for rule in reversed(self._rules.values()):
            if rule.applies(fsp, resource, ids, party):
                return rule
        return None


async def answer_after(rule: Rule | None) -> bool:
    """Apply a role's rule before it answers: False for silence (do not answer at all), after sleeping the rule's
    delay otherwise (the behaviour under test is lateness itself)."""
    if rule is None:
        return True
    if rule.behaviour == "no_answer":
        return False
    if rule.delay_ms:
        await asyncio.sleep(rule.delay_ms / 1000)
    return True
