"""ILP v1 as Mojaloop FSPs use it: payment packet, condition and fulfilment (behaviour reference §8).

The packet is the ILP v1 payment packet (type 1) in OER: type byte, then a variable-length octet string
holding UInt64 amount, var-octet-string ASCII account, var-octet-string data and a 0x00 extensions byte.
The payee derives the fulfilment from the packet string with an HMAC, so a payee that knows its secret
can fulfil without remembering the quote; the hub only checks sha256(fulfilment) == condition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from mojacheck.fspiop.errors import IlpError

PACKET_TYPE_PAYMENT = 1
_UINT64_MAX = 2**64 - 1
_PREIMAGE_BYTES = 32


@dataclass(frozen=True)
class IlpPayment:
    amount: int
    account: str
    data: bytes


@dataclass(frozen=True)
class Ilp:
    packet: str  # base64url of the serialized packet, no padding
    condition: str
    fulfilment: str


# ---------------------------------------------------------------- base64url


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """base64url without padding, as the Mojaloop SDK writes packets, conditions and fulfilments."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; IlpError on anything else (incl. '+' or '/')."""
    stripped = text.rstrip("=")
    if not _B64URL.fullmatch(stripped):  # a regex, not a check per character: packets are long, decoded per transfer
        raise IlpError(f"not base64url: {text!r}")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise IlpError(f"not base64url: {text!r}") from exc


# ---------------------------------------------------------------- amounts and addresses


@cache
def _exponents() -> dict[str, int]:
    raw = resources.files("mojacheck.fspiop").joinpath("data/currency_exponents.json").read_text("utf-8")
    return dict(json.loads(raw)["exponents"])


def currency_exponent(currency: str) -> int:
    try:
        return _exponents()[currency.upper()]
    except KeyError:
        raise IlpError(f"no ILP exponent known for currency {currency!r}") from None


def scaled_amount(amount: Decimal | str, currency: str, *, exact: bool = True) -> int:
    """Amount in the currency's minor units: ("10.5", "USD") → 1050. Never via float.

    Mojaloop amounts may carry up to 4 decimals whatever the currency, but an ILP v1 amount is an integer of
    minor units. `exact=False` rounds half up to the minor unit (the SDK cannot encode such amounts at all).
    """
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise IlpError(f"not an amount: {amount!r}") from exc
    scaled = value.scaleb(currency_exponent(currency))
    if not scaled.is_finite() or scaled < 0:
        raise IlpError(f"amount {amount} {currency} is not a non-negative amount")
    if scaled != scaled.to_integral_value():
        if exact:
            raise IlpError(f"amount {amount} {currency} does not fit the currency's minor units")
        scaled = scaled.to_integral_value(rounding=ROUND_HALF_UP)
    return int(scaled)


def ilp_address(fsp_id: str, party_id_type: str, party_identifier: str, sub_id: str | None = None) -> str:
    """`g.{fsp}.{type}.{id}[.{sub}]`, the account the SDK puts in the packet (fsp id keeps its case)."""
    address = f"g.{fsp_id}.{party_id_type.lower()}.{party_identifier.lower()}"
    return f"{address}.{sub_id.lower()}" if sub_id else address


# ---------------------------------------------------------------- OER


def _length_prefix(length: int) -> bytes:
    # OER length determinant: short form below 128, else 0x80|n followed by n big-endian bytes.
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _var_octets(data: bytes) -> bytes:
    return _length_prefix(len(data)) + data


class _Reader:
    """Bounds-checked reader, so truncated or padded input becomes IlpError, not IndexError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise IlpError("ILP packet truncated")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def length(self) -> int:
        first = self.take(1)[0]
        if first < 0x80:
            return first
        size = first & 0x7F
        if size == 0 or size > 8:
            raise IlpError("ILP packet has an invalid length prefix")
        return int.from_bytes(self.take(size), "big")

    def var_octets(self) -> bytes:
        return self.take(self.length())

    def at_end(self) -> bool:
        return self.pos == len(self.data)


def encode_packet_v1(amount: int, account: str, data: bytes) -> bytes:
    if not 0 <= amount <= _UINT64_MAX:
        raise IlpError(f"ILP amount out of UInt64 range: {amount}")
    try:
        account_bytes = account.encode("ascii")
    except UnicodeEncodeError as exc:
        raise IlpError(f"ILP account must be ASCII: {account!r}") from exc
    content = amount.to_bytes(8, "big") + _var_octets(account_bytes) + _var_octets(bytes(data)) + b"\x00"
    return bytes([PACKET_TYPE_PAYMENT]) + _var_octets(content)


def decode_packet_v1(packet: bytes) -> IlpPayment:
    outer = _Reader(bytes(packet))
    packet_type = outer.take(1)[0]
    if packet_type != PACKET_TYPE_PAYMENT:
        raise IlpError(f"not an ILP v1 payment packet (type {packet_type})")
    inner = _Reader(outer.var_octets())
    if not outer.at_end():
        raise IlpError("trailing bytes after the ILP packet")
    amount = int.from_bytes(inner.take(8), "big")
    try:
        account = inner.var_octets().decode("ascii")
    except UnicodeDecodeError as exc:
        raise IlpError("ILP account is not ASCII") from exc
    data = inner.var_octets()
    inner.take(1)  # extensions byte; the SDK always writes 0 and nothing reads it
    return IlpPayment(amount=amount, account=account, data=data)


# ---------------------------------------------------------------- transaction object and fulfilment


def stable_json(value: Any) -> str:
    """Sorted keys, no spaces, non-ASCII kept (as safe-stable-stringify / JSON.stringify write it)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def transaction_object(quote_request: dict[str, Any], quote_response: dict[str, Any]) -> dict[str, Any]:
    """What the payee seals into the packet: the quote request, with amount/expiration from the answer."""
    transaction: dict[str, Any] = {
        "quoteId": quote_request["quoteId"],
        "transactionId": quote_request["transactionId"],
        "transactionType": quote_request["transactionType"],
        "payee": quote_request["payee"],
        "payer": quote_request["payer"],
        "expiration": quote_response["expiration"],
        "amount": quote_response["transferAmount"],
    }
    if quote_request.get("note") is not None:
        transaction["note"] = quote_request["note"]
    return transaction


def fulfilment_for(packet: str, secret: str) -> str:
    """HMAC-SHA256, key ASCII(base64(secret)), over the packet string, base64url: the SDK's derivation."""
    key = base64.b64encode(secret.encode("utf-8"))
    digest = hmac.new(key, packet.encode("ascii"), hashlib.sha256).digest()
    return b64url_encode(digest)


def condition_for(fulfilment: str) -> str:
    return b64url_encode(hashlib.sha256(b64url_decode(fulfilment)).digest())


def fulfilment_matches(fulfilment: str, condition: str) -> bool:
    """The hub's check: a 32-byte base64url preimage whose sha256 is the condition."""
    try:
        preimage = b64url_decode(fulfilment)
        expected = b64url_decode(condition)
    except IlpError:
        return False
    if len(preimage) != _PREIMAGE_BYTES:
        return False
    return hmac.compare_digest(hashlib.sha256(preimage).digest(), expected)


def build_ilp(transaction: dict[str, Any], payee_fsp: str, secret: str) -> Ilp:
    """Packet, condition and fulfilment for a quote answer, exactly as the SDK builds ILP v1."""
    party = transaction["payee"]["partyIdInfo"]
    account = ilp_address(payee_fsp, party["partyIdType"], party["partyIdentifier"], party.get("partySubIdOrType"))
    # The packet amount is informative in FSPIOP mode (the hub checks only the condition; payees check the
    # transaction object), so a 4-decimal amount in a 2-decimal currency is rounded rather than refused.
    amount = scaled_amount(transaction["amount"]["amount"], transaction["amount"]["currency"], exact=False)
    data = b64url_encode(stable_json(transaction).encode("utf-8")).encode("ascii")
    packet = b64url_encode(encode_packet_v1(amount, account, data))
    fulfilment = fulfilment_for(packet, secret)
    return Ilp(packet=packet, condition=condition_for(fulfilment), fulfilment=fulfilment)


def decode_payment(packet: str) -> IlpPayment:
    """A base64url packet string → its payment fields."""
    return decode_packet_v1(b64url_decode(packet))


def decode_transaction(packet: str) -> dict[str, Any]:
    """The transaction object sealed in a packet's data (base64url stable JSON)."""
    data = decode_payment(packet).data
    try:
        value = json.loads(b64url_decode(data.decode("ascii")).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IlpError("ILP packet data is not a base64url JSON transaction") from exc
    if not isinstance(value, dict):
        raise IlpError("ILP packet data is not a JSON object")
    return value
