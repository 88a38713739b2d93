"""3PPI cryptography, written once for the hub's auth-service, the simulator's PISP and DFSP, and the notebook
steps that check their work: RFC 8785 canonical JSON, challenges, GENERIC credentials and their signatures.

* Challenge: as Mojaloop's auth-service derives it, the SHA-256 of the RFC 8785 canonical JSON of the signed
  object, written as lowercase hex, then base64 encoded (``base64(hex(sha256(cjson)))``). For account linking the
  object is ``{consentId, scopes}``; for a transaction it is the payee's ``PUT /quotes/{ID}`` body.
* Credential: a GENERIC credential's ``publicKey`` is a base64url DER SubjectPublicKeyInfo (EC P-256 or RSA); its
  signatures are over the UTF-8 challenge string with SHA-256 (ECDSA or RSA PKCS#1 v1.5), base64url.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from mojacheck.fspiop.errors import CredentialError
from mojacheck.fspiop.ilp import b64url_encode

__all__ = ["KeyPair", "b64url_bytes", "canonical_json", "consent_challenge", "derive_challenge",
           "load_public_key", "verify"]


def _number(value: int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("RFC 8785 has no form for NaN or Infinity")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def canonical_json(value: Any) -> str:
    """RFC 8785 (JCS): keys sorted by UTF-16 code units, no whitespace, minimal string escapes."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: str(k).encode("utf-16-be"))
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{canonical_json(value[k])}"
                              for k in keys) + "}"
    raise TypeError(f"{type(value).__name__} cannot be canonicalised")


def derive_challenge(value: Any) -> str:
    """``base64(hex(sha256(RFC 8785 JSON of value)))``."""
    digest = hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def consent_challenge(consent_id: str, scopes: list[dict[str, Any]]) -> str:
    """The challenge a PISP signs to register a credential: over ``{consentId, scopes}``."""
    trimmed = [{"address": s.get("address"), "actions": s.get("actions")} for s in scopes]
    return derive_challenge({"consentId": consent_id, "scopes": trimmed})


def b64url_bytes(text: str) -> bytes:
    """Decode base64url (padding optional); standard base64 is accepted too."""
    if not isinstance(text, str) or not text:
        raise CredentialError("expected a non-empty base64url string")
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CredentialError(f"not base64url: {exc}") from None


def load_public_key(text: str) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """A GENERIC credential's ``publicKey``: base64url DER SubjectPublicKeyInfo, EC or RSA."""
    try:
        key = serialization.load_der_public_key(b64url_bytes(text))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CredentialError(f"publicKey is not a DER public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise CredentialError(f"unsupported key type {type(key).__name__}; use EC or RSA")
    return key


def verify(public_key: str, challenge: str, signature: str) -> bool:
    """Whether ``signature`` is the key's SHA-256 signature of the challenge string; CredentialError when the key
    or signature cannot even be read."""
    key = load_public_key(public_key)
    raw = b64url_bytes(signature)
    data = challenge.encode("utf-8")
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


class KeyPair:
    """One GENERIC credential as a PISP holds it: a fresh EC P-256 private key that never leaves this object."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def __repr__(self) -> str:  # never print key material
        return f"KeyPair(public={self.public_key[:16]}…)"

    @property
    def public_key(self) -> str:
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        return b64url_encode(der)

    def sign(self, challenge: str) -> str:
        return b64url_encode(self._key.sign(challenge.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
