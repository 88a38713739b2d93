"""ILP v1 packet, condition and fulfilment (behaviour ref §8), checked against independent derivations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import pytest

from mojacheck.fspiop import (
    b64url_decode,
    b64url_encode,
    build_ilp,
    condition_for,
    decode_packet_v1,
    decode_payment,
    decode_transaction,
    encode_packet_v1,
    fulfilment_for,
    fulfilment_matches,
    ilp_address,
    scaled_amount,
    transaction_object,
)
from mojacheck.fspiop.errors import IlpError

ZERO_CONDITION = "Zmh6rfhivXdsj8GLjp-OIAiXFIVu4jOzkCpZHQ1fKSU"
SECRET = "Quoting Service Secret"

QUOTE_REQUEST: dict[str, Any] = {
    "quoteId": "7c23e80c-d078-4077-8263-2c047876fcf6",
    "transactionId": "85feac2f-39b2-491b-817e-4a03203d4f14",
    "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27713803912", "fspId": "payeefsp"}},
    "payer": {
        "partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "44123456789", "fspId": "payerfsp"},
        "name": "Émile Zoë",
    },
    "amountType": "SEND",
    "amount": {"amount": "100", "currency": "USD"},
    "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    "note": "rent",
}
QUOTE_RESPONSE: dict[str, Any] = {
    "transferAmount": {"amount": "100.25", "currency": "USD"},
    "expiration": "2030-01-01T00:00:00.000Z",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def oer_length(length: int) -> bytes:
    """OER length prefix, written out for the sizes this test meets (< 65536)."""
    return bytes([length]) if length < 128 else bytes([0x82]) + length.to_bytes(2, "big")


# ---------------------------------------------------------------- small pieces


def test_zero_fulfilment_known_vector() -> None:
    zero = b64url(bytes(32))
    assert condition_for(zero) == ZERO_CONDITION
    assert fulfilment_matches(zero, ZERO_CONDITION)
    assert b64url(hashlib.sha256(bytes(32)).digest()) == ZERO_CONDITION


def test_b64url_round_trip_with_and_without_padding() -> None:
    for size in range(0, 40):
        data = bytes(range(256))[:size] + b"\xfb\xff"
        text = b64url_encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64url_decode(text) == data
        assert b64url_decode(base64.urlsafe_b64encode(data).decode()) == data


@pytest.mark.parametrize("text", ["ab+/", "a b", "é", "a"])
def test_b64url_decode_rejects(text: str) -> None:
    with pytest.raises(IlpError):
        b64url_decode(text)


@pytest.mark.parametrize(
    ("amount", "currency", "scaled"),
    [
        ("100", "USD", 10000),
        ("10.5", "USD", 1050),
        (Decimal("1.234"), "BHD", 1234),
        ("500", "XOF", 500),
        ("0.0001", "XXX", 1),
        ("12345678901234567.89", "USD", 1234567890123456789),
    ],
)
def test_scaled_amount(amount: str | Decimal, currency: str, scaled: int) -> None:
    assert scaled_amount(amount, currency) == scaled


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "USD"), ("1.5", "XOF"), ("x", "USD"), ("1", "ZZZ"), ("-1", "USD")]
)
def test_scaled_amount_rejects(amount: str, currency: str) -> None:
    with pytest.raises(IlpError):
        scaled_amount(amount, currency)


def test_ilp_address() -> None:
    assert ilp_address("payeeFsp", "MSISDN", "27713803912") == "g.payeeFsp.msisdn.27713803912"
    assert ilp_address("fsp", "ACCOUNT_ID", "AbC", "Savings") == "g.fsp.account_id.abc.savings"


# ---------------------------------------------------------------- packet encoding


def test_encode_packet_layout_by_hand() -> None:
    packet = encode_packet_v1(1050, "g.fsp.msisdn.1", b"abc")
    content = (1050).to_bytes(8, "big") + bytes([14]) + b"g.fsp.msisdn.1" + bytes([3]) + b"abc" + b"\x00"
    assert packet == bytes([1, len(content)]) + content


def test_encode_decode_round_trip_long_data() -> None:
    data = b"x" * 70000  # needs a three-byte length prefix inside and outside
    packet = encode_packet_v1(2**64 - 1, "g.a.b.c", data)
    assert packet[:2] == b"\x01\x83"
    decoded = decode_packet_v1(packet)
    assert (decoded.amount, decoded.account, decoded.data) == (2**64 - 1, "g.a.b.c", data)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x0c\x01\x00",
        b"\x01",
        b"\x01\x05abc",
        b"\x01\x80",
        b"\x01\x02\x00\x00",
        encode_packet_v1(1, "g.a", b"d") + b"\x00",
        encode_packet_v1(1, "g.a", b"d")[:-1],
    ],
)
def test_decode_rejects_garbage(garbage: bytes) -> None:
    with pytest.raises(IlpError):
        decode_packet_v1(garbage)


def test_encode_rejects_out_of_range() -> None:
    with pytest.raises(IlpError):
        encode_packet_v1(-1, "g.a", b"")
    with pytest.raises(IlpError):
        encode_packet_v1(2**64, "g.a", b"")
    with pytest.raises(IlpError):
        encode_packet_v1(1, "g.é", b"")


# ---------------------------------------------------------------- the whole quote answer


def test_transaction_object_fields() -> None:
    transaction = transaction_object(QUOTE_REQUEST, QUOTE_RESPONSE)
    assert transaction == {
        "quoteId": QUOTE_REQUEST["quoteId"],
        "transactionId": QUOTE_REQUEST["transactionId"],
        "transactionType": QUOTE_REQUEST["transactionType"],
        "payee": QUOTE_REQUEST["payee"],
        "payer": QUOTE_REQUEST["payer"],
        "expiration": QUOTE_RESPONSE["expiration"],
        "amount": QUOTE_RESPONSE["transferAmount"],
        "note": "rent",
    }
    without_note = {k: v for k, v in QUOTE_REQUEST.items() if k != "note"}
    assert "note" not in transaction_object(without_note, QUOTE_RESPONSE)


def test_build_ilp_independent_derivation() -> None:
    transaction = transaction_object(QUOTE_REQUEST, QUOTE_RESPONSE)
    ilp = build_ilp(transaction, "payeefsp", SECRET)

    # Rebuild every step here with the standard library only.
    stable = json.dumps(transaction, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data = b64url(stable.encode("utf-8")).encode("ascii")
    account = b"g.payeefsp.msisdn.27713803912"
    content = (10025).to_bytes(8, "big") + bytes([len(account)]) + account
    content += oer_length(len(data)) + data + b"\x00"
    packet = b"\x01" + oer_length(len(content)) + content
    packet_text = b64url(packet)
    key = base64.b64encode(SECRET.encode()).decode("ascii").encode("ascii")
    fulfilment = b64url(hmac.new(key, packet_text.encode("ascii"), hashlib.sha256).digest())
    condition = b64url(hashlib.sha256(base64.urlsafe_b64decode(fulfilment + "=")).digest())

    assert ilp.packet == packet_text
    assert ilp.packet.startswith("AYI")  # type 1, two-byte length: what TTK golden-path packets look like
    assert ilp.fulfilment == fulfilment
    assert ilp.condition == condition
    assert len(ilp.condition) == 43 and len(ilp.fulfilment) == 43
    assert fulfilment_for(ilp.packet, SECRET) == fulfilment


def test_packet_decodes_back_to_the_transaction() -> None:
    transaction = transaction_object(QUOTE_REQUEST, QUOTE_RESPONSE)
    ilp = build_ilp(transaction, "payeefsp", SECRET)
    payment = decode_payment(ilp.packet)
    assert payment.amount == 10025
    assert payment.account == "g.payeefsp.msisdn.27713803912"
    assert decode_transaction(ilp.packet) == transaction


def test_sub_id_goes_into_the_account() -> None:
    request = json.loads(json.dumps(QUOTE_REQUEST))
    request["payee"]["partyIdInfo"]["partySubIdOrType"] = "WALLET"
    ilp = build_ilp(transaction_object(request, QUOTE_RESPONSE), "payeefsp", SECRET)
    assert decode_payment(ilp.packet).account == "g.payeefsp.msisdn.27713803912.wallet"


def test_fulfilment_matches_only_the_right_preimage() -> None:
    ilp = build_ilp(transaction_object(QUOTE_REQUEST, QUOTE_RESPONSE), "payeefsp", SECRET)
    assert fulfilment_matches(ilp.fulfilment, ilp.condition)
    changed = bytearray(b64url_decode(ilp.fulfilment))
    changed[0] ^= 0x01
    assert not fulfilment_matches(b64url(bytes(changed)), ilp.condition)
    assert not fulfilment_matches(fulfilment_for(ilp.packet, "another secret"), ilp.condition)


def test_fulfilment_matches_false_on_bad_preimage() -> None:
    short = b64url(bytes(31))
    assert not fulfilment_matches(short, condition_for(short))  # right hash, wrong length
    assert not fulfilment_matches("not base64url!", ZERO_CONDITION)
    assert not fulfilment_matches(b64url(bytes(32)), "%%%")


def test_decode_transaction_rejects_non_json_data() -> None:
    packet = b64url(encode_packet_v1(1, "g.a.b.c", b"!!!"))
    with pytest.raises(IlpError):
        decode_transaction(packet)
    packet = b64url(encode_packet_v1(1, "g.a.b.c", b64url(b"[1]").encode()))
    with pytest.raises(IlpError):
        decode_transaction(packet)


def test_four_decimal_amount_rounds_in_the_packet_only_when_asked():
    import pytest as _pytest

    from mojacheck.fspiop import scaled_amount
    from mojacheck.fspiop.errors import IlpError

    with _pytest.raises(IlpError):
        scaled_amount("10.1234", "USD")
    assert scaled_amount("10.1234", "USD", exact=False) == 1012
    assert scaled_amount("10.1250", "USD", exact=False) == 1013
