"""The test parties every suite uses, derived from the params' FSP ids.

Names cover what broke real switches before: accents, a non-Latin script (Burmese), and a party with a SubId.
"""

from __future__ import annotations

from typing import Any

from mojacheck.steps.p2p import Party

__all__ = ["standard_parties"]


def standard_parties(params: dict[str, Any]) -> dict[str, Party]:
    """The five test parties (payer, accented, with_subid, burmese, reserved), held by the params' payer FSP and
    first two payee FSPs."""
    payer = params["fsps"]["payer"]
    payee_a, payee_b = params["fsps"]["payees"][:2]
    return {
        "payer": Party(payer, "MSISDN", "27710101001", name="Amina Okafor", first_name="Amina",
                       last_name="Okafor"),
        "accented": Party(payee_a, "MSISDN", "27710202001", name="José Müller-Ñúñez",
                          first_name="José", last_name="Müller-Ñúñez"),
        "with_subid": Party(payee_a, "MSISDN", "27710202002", sub_id="SAVINGS", name="Chloé Dubois",
                            first_name="Chloé", last_name="Dubois"),
        "burmese": Party(payee_b, "MSISDN", "27710303001", name="အောင်ကိုကို", first_name="အောင်",
                         last_name="ကိုကို"),
        "reserved": Party(payee_b, "MSISDN", "27710303002", name="Kofi Mensah", first_name="Kofi",
                          last_name="Mensah"),
    }
