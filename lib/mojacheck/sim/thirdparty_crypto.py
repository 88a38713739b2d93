"""The PISP's credential as the simulator plays it: a real key pair, challenges derived as the spec says.

* Challenge: the RFC 8785 canonical JSON of the signed object, SHA-256, lowercase hex, base64 — how Mojaloop's
  auth-service derives it (``base64(hex(sha256(cjson)))``). For linking the object is ``{consentId, scopes}``;
  for a transaction it is the payee's ``PUT /quotes/{ID}`` body (3PPI transfer patterns, §4.1).
* Credential: an EC P-256 key pair made per consent; the GENERIC credential carries the public key as a
  base64url DER SubjectPublicKeyInfo; signatures are ECDSA with SHA-256 over the UTF-8 challenge string
  (``sign(SHA256(challenge))`` in the spec's words), base64url DER.

Private keys stay in the simulator's memory: they are never sent, logged or put in the inbox.
This is the simulator's own implementation; the hub verifies with its own code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def cjson(value: Any) -> str:
    """RFC 8785 canonical JSON of strings, integers, booleans, null, arrays and objects (no floats on our wire)."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + cjson(v) for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(cjson(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats have no place in a signed 3PPI object (money is a string)")
    return json.dumps(value, ensure_ascii=False)


def challenge_of(value: Any) -> str:
    return base64.b64encode(hashlib.sha256(cjson(value).encode("utf-8")).hexdigest().encode("ascii")).decode()


def consent_challenge(consent_id: str, scopes: list[dict[str, Any]]) -> str:
    return challenge_of({"consentId": consent_id,
                         "scopes": [{"address": s["address"], "actions": s["actions"]} for s in scopes]})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyPair:
    """One credential: a fresh EC P-256 private key."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def __repr__(self) -> str:  # never print key material
        return f"KeyPair(public={self.public_key[:16]}…)"

    @property
    def public_key(self) -> str:
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        return _b64url(der)

    def sign(self, challenge: str) -> str:
        return _b64url(self._key.sign(challenge.encode("utf-8"), ec.ECDSA(hashes.SHA256())))


def verify(public_key: str, challenge: str, signature: str) -> bool:
    """A DFSP's own check of a GENERIC signature (EC keys)."""
    key = serialization.load_der_public_key(_unb64url(public_key))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(_unb64url(signature), challenge.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
