from decimal import Decimal
from pathlib import Path

from mojacheck.evidence.checks import Scenario, name_key, unique_name

ROOT = Path(__file__).resolve().parents[2]


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


# -- unique names ---------------------------------------------------------------------------------------------


def _names(scenario: Scenario) -> list[str]:
    return [c.name for c in scenario.checks]


def test_a_repeated_check_name_gets_an_ordinal_in_order():
    sc = Scenario("Transfers between three FSPs", 0)
    for _ in range(3):
        sc.check("party is held by the payee FSP", True, True)
        sc.check("payer is told the transfer is COMMITTED", "COMMITTED", "COMMITTED")
    assert _names(sc) == ["party is held by the payee FSP", "payer is told the transfer is COMMITTED",
                          "party is held by the payee FSP #2", "payer is told the transfer is COMMITTED #2",
                          "party is held by the payee FSP #3", "payer is told the transfer is COMMITTED #3"]
    assert len(set(_names(sc))) == len(sc.checks) == 6  # no check lost, every name once


def test_names_are_stable_from_run_to_run():
    def run() -> list[str]:
        sc = Scenario("s", 0)
        for name in ("a", "b", "a", "a (error callback)", "b", "a"):
            sc.check(name, 1, 1)
        return _names(sc)

    assert run() == run() == ["a", "b", "a #2", "a (error callback) #3", "b #2", "a #4"]


def test_a_name_differing_only_by_its_remark_is_the_same_name():
    # `… (error callback)` pairs with the success callback's check across runs (reports/runs.check_identity),
    # so within one scenario it takes the next ordinal, and the two never share an identity.
    name = "PUT /parties/{Type}/{ID} body conforms to FSPIOP 1.1"
    sc = Scenario("s", 0)
    sc.check(name, "no violations", "no violations")
    sc.check(f"{name} (error callback)", "no violations", "no violations")
    assert _names(sc) == [name, f"{name} (error callback) #2"]
    assert [name_key(n) for n in _names(sc)] == [name, f"{name} #2"]


def test_an_ordinal_already_taken_is_skipped():
    taken: set[str] = set()
    assert [unique_name(n, taken) for n in ("x #2", "x", "x", "x")] == ["x #2", "x", "x #3", "x #4"]


def test_a_repeated_scenario_name_gets_an_ordinal(capsys):
    from mojacheck.clients.session import connect
    from mojacheck.params import load_params

    session = connect(load_params("local", root=ROOT).public_dict())
    try:
        for _ in range(2):
            with session.scenario("Unknown party: 3204") as sc:
                sc.check("lookup answers 3204", "3204", "3204")
        with session.scenario("Unknown party: 3204 (again)") as sc:
            sc.check("lookup answers 3204", "3204", "3204")
    finally:
        session.close()
    assert [s.name for s in session.scenarios] == ["Unknown party: 3204", "Unknown party: 3204 #2",
                                                   "Unknown party: 3204 (again) #3"]
    assert "Unknown party: 3204 #2" in capsys.readouterr().out  # the evidence shows the name the reports use
