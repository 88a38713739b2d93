from decimal import Decimal

from mojacheck.evidence.checks import Scenario


def test_check_records_pass_and_fail_with_text_values():
    sc = Scenario("s", 0)
    ok = sc.check("position", Decimal("10.1234"), Decimal("10.1234"))
    bad = sc.check("state", "COMMITTED", "ABORTED", error_code="3100")
    assert ok.passed and not bad.passed
    assert ok.expected == "10.1234" and bad.error_code == "3100"
    assert sc.failed == 1 and not sc.passed


def test_decimal_keeps_its_digits_and_none_is_named():
    sc = Scenario("s", 0)
    c = sc.check("amount", Decimal("1E+2"), None)
    assert c.expected == "100" and c.actual == "none" and not c.passed


def test_custom_compare_and_empty_scenario_is_not_a_pass():
    sc = Scenario("s", 3)
    assert not sc.passed  # no checks: never counts as passed
    sc.check("funded", Decimal(5), Decimal(7), compare=lambda e, a: a >= e)
    assert sc.passed
    scrap = sc.to_scrap()
    assert scrap["name"] == "s" and scrap["checks"][0]["passed"] is True and scrap["requests"] == []
