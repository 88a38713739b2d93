"""FSPIOP JWS (``FSPIOP-Signature``) as Mojaloop's JWS library makes and checks it (sdk-standard-components
``JwsSigner``/``JwsValidator``), with the kept JOSE library ``joserfc``.

* Signing: RS256 (ES256 for an EC key); the protected header holds ``alg``, ``FSPIOP-URI``, ``FSPIOP-HTTP-Method``,
  ``FSPIOP-Source``, then ``FSPIOP-Destination`` and ``Date`` when those headers are present, in that order; the
  payload is the body and travels detached: ``FSPIOP-Signature`` is ``{"signature": …, "protectedHeader": …}``.
* Validating: the signature over ``protectedHeader.base64url(body).signature`` with the source's public key, then
  the protected header against the HTTP headers (URI, method, source; Date and Destination where present). Mojaloop
  re-serialises the parsed body before checking: arrival order before sdk-standard-components 19.18.9, sorted keys
  since; a signature over either serialisation is accepted here. Failures carry the validator's own wording.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from mojacheck.fspiop.errors import JwsError

__all__ = ["load_private_key", "load_public_key", "sign", "signed_headers", "verify"]

SIGNATURE_ALGORITHMS = ("RS256", "ES256")
_PROTECTED = ("FSPIOP-URI", "FSPIOP-HTTP-Method", "FSPIOP-Source", "FSPIOP-Destination", "Date")
_REGISTRY = JWSRegistry(header_registry={name: HeaderParameter(name, "str") for name in _PROTECTED},
                        algorithms=list(SIGNATURE_ALGORITHMS))
Key = RSAKey | ECKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def load_private_key(path: str | Path, password: str | None = None) -> Key:
    """A PEM private key (RSA or EC, encrypted when ``password`` is given); JwsError naming the file otherwise."""
    try:
        data = Path(path).read_bytes()
        key = serialization.load_pem_private_key(data, password.encode() if password else None)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    except (OSError, ValueError, TypeError) as exc:
        raise JwsError(f"cannot read the JWS signing key {path}: {exc}") from None
    return ECKey.import_key(pem) if b"BEGIN EC " in data or "EC" in type(key).__name__ else RSAKey.import_key(pem)


def load_public_key(path: str | Path) -> Key:
    """A PEM public key or X.509 certificate (an FSP's registered certificate); JwsError when unreadable."""
    try:
        data = Path(path).read_bytes()
        if b"BEGIN CERTIFICATE" in data:
            public = x509.load_pem_x509_certificate(data).public_key()
        else:
            public = serialization.load_pem_public_key(data)
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (OSError, ValueError, TypeError) as exc:
        raise JwsError(f"cannot read the JWS public key {path}: {exc}") from None
    return ECKey.import_key(pem) if "EC" in type(public).__name__ else RSAKey.import_key(pem)


def sign(headers: Mapping[str, str], body: bytes, key: Key) -> str:
    """The ``FSPIOP-Signature`` value for a message with these headers and exactly these body bytes."""
    protected: dict[str, Any] = {"alg": "ES256" if isinstance(key, ECKey) else "RS256"}
    for name in _PROTECTED:
        value = _header(headers, name)
        if value is None and name in ("FSPIOP-URI", "FSPIOP-HTTP-Method", "FSPIOP-Source"):
            raise JwsError(f"{name} is required to sign a message")
        if value is not None:
            protected[name] = value.upper() if name == "FSPIOP-HTTP-Method" else value
    try:
        token = jws.serialize_compact(protected, body, key, registry=_REGISTRY)
    except JoseError as exc:
        raise JwsError(f"cannot sign: {exc}") from None
    protected_header, _payload, signature = token.split(".")
    return json.dumps({"signature": signature, "protectedHeader": protected_header}, separators=(",", ":"))


def signed_headers(headers: Mapping[str, str], body: bytes, key: Key) -> dict[str, str]:
    """``headers`` plus their ``FSPIOP-Signature``."""
    return {**headers, "FSPIOP-Signature": sign(headers, body, key)}


def _serialisations(body: Any) -> list[bytes]:
    """The bytes Mojaloop's validators re-serialise a parsed body to (arrival order; sorted keys since SDK 19.18.9)."""
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ordered = json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return [compact] if compact == ordered else [compact, ordered]


def verify(headers: Mapping[str, str], body: Any, key: Key) -> dict[str, Any]:
    """Check an FSPIOP-Signature over the parsed ``body``; returns the protected header, JwsError otherwise."""
    uri, method, source = (_header(headers, n) for n in ("FSPIOP-URI", "FSPIOP-HTTP-Method", "FSPIOP-Source"))
    value = _header(headers, "FSPIOP-Signature")
    if not uri or not method or not value:
        raise JwsError("fspiop-uri, fspiop-http-method and fspiop-signature HTTP headers are all required for JWS")
    try:
        parts = json.loads(value)
        protected_b64, signature = str(parts["protectedHeader"]), str(parts["signature"])
    except (ValueError, KeyError, TypeError):
        raise JwsError("FSPIOP-Signature is not {signature, protectedHeader} JSON") from None
    protected: dict[str, Any] | None = None
    for payload in _serialisations(body):
        try:
            token = jws.deserialize_compact(f"{protected_b64}.{_b64url(payload)}.{signature}", key,
                                            registry=_REGISTRY)
        except (JoseError, ValueError):
            continue
        protected = dict(token.headers())
        break
    if protected is None:
        raise JwsError("invalid signature")
    _check_protected(headers, protected, uri, method, source)
    return protected


def _check_protected(headers: Mapping[str, str], protected: Mapping[str, Any], uri: str, method: str,
                     source: str | None) -> None:
    if protected.get("alg") not in SIGNATURE_ALGORITHMS:
        raise JwsError(f"Invalid protected header alg '{protected.get('alg')}' should be 'RS256 or ES256'")
    for name, actual in (("FSPIOP-URI", uri), ("FSPIOP-HTTP-Method", method), ("FSPIOP-Source", source)):
        if protected.get(name) != actual:
            raise JwsError(f"{name} HTTP request header value: {actual} does not match protected header value: "
                           f"{protected.get(name)}")
    date = _header(headers, "Date")
    if protected.get("Date") and protected.get("Date") != date:
        raise JwsError(f"HTTP date header: {date} does not match protected header Date value: {protected.get('Date')}")
    destination = _header(headers, "FSPIOP-Destination")
    if (destination or protected.get("FSPIOP-Destination")) and destination != protected.get("FSPIOP-Destination"):
        raise JwsError(f"HTTP FSPIOP-Destination header: {destination} does not match protected header "
                       f"FSPIOP-Destination value: {protected.get('FSPIOP-Destination')}")
