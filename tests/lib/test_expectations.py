"""The release expectations table: rows, deployment overrides, and the differences a comparison may expect."""

from __future__ import annotations

from mojacheck.expectations import expectations_for, from_params, release_differences


def test_release_differences_name_the_v14_split_and_the_v15_get_fix() -> None:
    assert release_differences("13", "14") == {"ndc_exceeded_code": ("4001", "4200"),
                                               "unfunded_payer_code": (None, "4001")}
    assert release_differences("14", "17")["expired_transfer_get"] == ("3303", "ABORTED")
    assert release_differences("17", "17") == {}


def test_deployment_flags_override_the_row() -> None:
    exp = from_params({"hub": {"release": "17"},
                       "deployment": {"on_us_transfers": True, "supported_versions": ["1.0", "1.1"]}})
    assert exp.supported_versions == ("1.0", "1.1") and exp.hub_content_version == "1.1"
    assert (exp.on_us_result, exp.on_us_state) == ("COMMITTED", "COMMITTED")
    assert not exp.accepts("2.0") and exp.accepts("1.1")
    plain = expectations_for("13")
    assert (plain.on_us_result, plain.on_us_state, plain.liquidity_check) == ("3100", "ABORTED", False)
    assert plain.rows()[1][:2] == ("unfunded_payer_code", "no liquidity check")


def test_fx_arrives_at_17_and_the_embedded_hub_also_answers_fxp_discovery() -> None:
    changes = release_differences("14", "17")
    assert changes["fx_available"] == (False, True) and changes["fxp_discovery"] == (None, "params")
    assert "fx_available" not in release_differences("13", "14")
    assert from_params({"hub": {"release": "17", "embedded": True}}).fxp_discovery == "services"
    assert from_params({"hub": {"release": "17", "embedded": False}}).fxp_discovery == "params"
    assert from_params({"hub": {"release": "14", "embedded": True}}).fxp_discovery is None
