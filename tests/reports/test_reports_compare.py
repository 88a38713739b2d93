"""Run comparison: classification against the release expectations table, callback field sets, latency, and
`mojacheck compare`'s exit codes on bad input (the real two-run comparison is in test_reports_cli_runs.py)."""

from __future__ import annotations

from pathlib import Path

from conftest import check, scenario, summary, write_executed, write_summary

from mojacheck.cli import main as cli_main
from mojacheck.evidence.checks import Record, Scenario
from mojacheck.expectations import release_differences
from mojacheck.reports.callbacks import field_paths
from mojacheck.reports.compare import compare_checks, compare_latency, compare_runs


def _ndc(code: str, release: str) -> dict:
    return summary("01x", release, [check("payer over NDC is refused", True, code, "ndc_exceeded_code")])


def test_4001_to_4200_between_13_and_14_is_expected() -> None:
    a, b = _ndc("4001", "13"), _ndc("4200", "14")
    (diff,) = compare_checks(a, b, release_differences("13", "14"))
    assert (diff.kind, diff.a, diff.b, diff.expected) == ("error_code", "4001", "4200", True)
    assert "ndc_exceeded_code" in diff.why


def test_the_same_change_between_two_17_runs_is_unexpected() -> None:
    (diff,) = compare_checks(_ndc("4001", "17"), _ndc("4200", "17"), release_differences("17", "17"))
    assert diff.kind == "error_code" and not diff.expected


def test_a_code_change_other_than_the_tables_is_unexpected() -> None:
    (diff,) = compare_checks(_ndc("4001", "13"), _ndc("3100", "14"), release_differences("13", "14"))
    assert not diff.expected and "4001 → 4200" in diff.why


def test_outcomes_failures_are_never_expected_and_unnamed_checks_never_explained() -> None:
    a = summary("01x", "13", [check("v2.0 accepted", False, "3001", "supported_versions"), check("plain", True),
                              check("gone", True)])
    b = summary("02x", "17", [check("v2.0 accepted", True, None, "supported_versions"), check("plain", False),
                              check("new one", True, None, "supported_versions")])
    diffs = {(d.kind, d.subject): d for d in compare_checks(a, b, release_differences("13", "17"))}
    assert diffs[("outcome", "v2.0 accepted")].expected  # failed → passed, explained by supported_versions
    assert not diffs[("outcome", "plain")].expected  # passed → failed: never expected
    assert not diffs[("outcome", "gone")].expected and diffs[("outcome", "gone")].b == "absent"
    assert diffs[("outcome", "new one")].expected and diffs[("outcome", "new one")].a == "absent"
    assert diffs[("error_code", "v2.0 accepted")].a == "3001"


def test_identical_summaries_have_no_differences() -> None:
    a = summary("01x", "17", [check("x"), check("x"), check("y", False, "3100")])
    assert compare_checks(a, a, {}) == []


def test_latency_only_counts_a_large_slowdown() -> None:
    rows, diffs = compare_latency({"GET /a": (3, 10.0), "GET /b": (3, 10.0)}, {"GET /a": (3, 15.0),
                                                                              "GET /b": (3, 900.0)})
    assert [r["type"] for r in rows] == ["GET /a", "GET /b"]
    assert [d.subject for d in diffs] == ["GET /b"] and not diffs[0].expected


def test_field_paths() -> None:
    body = {"a": {"b": 1}, "l": [{"c": 2}, {"d": 3}]}
    assert set(field_paths(body)) == {"a", "a.b", "l", "l[].c", "l[].d"}


def _folder(tmp_path: Path, name: str, release: str, callback: dict) -> Path:
    folder = tmp_path / name
    write_executed(folder / "20_p2p.ipynb", [scenario("send", 0, [("state", True)], callback=callback,
                                                      requests=[("POST", "http://h/transfers", 2.0)])])
    return write_summary(folder, summary(name, release, [check("state", notebook="20_p2p", scenario_name="send")]))


def test_compare_runs_reads_callback_field_sets_from_the_evidence(tmp_path: Path) -> None:
    a = _folder(tmp_path, "01a", "17", {"transferState": "COMMITTED", "fulfilment": "f", "completedTimestamp": "t"})
    b = _folder(tmp_path, "02b", "17", {"transferState": "COMMITTED", "completedTimestamp": "t",
                                        "extensionList": {"extension": [{"key": "k", "value": "v"}]}})
    result = compare_runs(a, b)
    (diff,) = result.differences
    assert diff.kind == "callback_fields" and diff.scenario == "send"
    assert diff.subject == "PUT /transfers/{id} (answer to POST)"
    assert diff.a == "−fulfilment" and "+extensionList" in diff.b and not diff.expected
    assert result.to_dict()["counts"]["unexpected"] == 1
    assert compare_runs(a, a).differences == []


def _lookup_folder(tmp_path: Path, name: str, *, register: bool) -> Path:
    """A provisioning scenario as a fresh hub runs it (register, then look up) or a provisioned one (look up)."""
    sc = Scenario("parties", 0)
    sc.check("party belongs to payee", "x", "x")
    path = "/participants/MSISDN/27710305999"
    if register:
        sc.records += [Record("request", "POST", f"http://h{path}", 202, 1.0, request_body={"fspId": "payee"}),
                       Record("callback", "PUT", path, None, 0.0, request_body={
                           "partyList": [{"partyIdType": "MSISDN", "partyIdentifier": "27710305999",
                                          "fspId": "payee"}], "currency": "XXX"})]
    sc.records += [Record("request", "GET", f"http://h{path}", 202, 1.0),
                   Record("callback", "PUT", path, None, 0.0, request_body={"fspId": "payee"})]
    write_executed(tmp_path / name / "10_provisioning.ipynb", [sc])
    return write_summary(tmp_path / name, summary(name, "17", [check("party belongs to payee",
                                                                     notebook="10_provisioning",
                                                                     scenario_name="parties")]))


def test_answers_to_different_requests_on_one_path_are_not_compared_with_each_other(tmp_path: Path) -> None:
    fresh = _lookup_folder(tmp_path, "01a", register=True)
    provisioned = _lookup_folder(tmp_path, "02b", register=False)
    assert compare_runs(fresh, provisioned).differences == []  # the POST's answer (partyList) is in one run only


def test_compare_cli_cannot_compare_missing_or_unfinished_runs(tmp_path: Path, capsys) -> None:
    done = write_summary(tmp_path / "done", summary("01x", "17", [check("x")]))
    (tmp_path / "unfinished").mkdir()
    assert cli_main(["compare", str(tmp_path / "nope"), str(done)]) == 2
    assert "RUN_A: no such run folder" in capsys.readouterr().err
    assert cli_main(["compare", str(done), str(tmp_path / "unfinished")]) == 2
    assert "has no summary.json" in capsys.readouterr().err


def test_a_check_named_after_its_code_pairs_by_expectation_key() -> None:
    a = summary("01x", "13", [check("payer over NDC is told: 4001", True, "4001", "ndc_exceeded_code")])
    b = summary("02x", "14", [check("payer over NDC is told: 4200", True, "4200", "ndc_exceeded_code")])
    (diff,) = compare_checks(a, b, release_differences("13", "14"))
    assert (diff.kind, diff.a, diff.b, diff.expected) == ("error_code", "4001", "4200", True)
    assert diff.subject == "payer over NDC is told: 4200"


def test_an_error_code_becoming_a_state_is_expected_only_where_the_table_says_so() -> None:
    # expired_transfer_get: 3303 at 14, a PUT with state ABORTED (no error code) at 17.
    a = summary("01x", "14", [check("GET of an expired transfer", True, "3303", "expired_transfer_get")])
    b = summary("02x", "17", [check("GET of an expired transfer", True, None, "expired_transfer_get")])
    (diff,) = compare_checks(a, b, release_differences("14", "17"))
    assert (diff.kind, diff.a, diff.b, diff.expected) == ("error_code", "3303", "no error", True)
    assert diff.why == "expired_transfer_get changes from 3303 error to ABORTED between releases 14 and 17"
    (same,) = compare_checks(a, b, release_differences("17", "17"))
    assert not same.expected


def test_a_passing_conformance_check_in_one_run_only_is_no_difference_but_a_failing_one_is() -> None:
    name = "PUT /participants/{Type}/{ID} body conforms to FSPIOP 1.1"
    a = summary("01x", "13", [check(name, True), check(name + " (error callback)", True), check("kept", True)])
    b = summary("02x", "14", [check("kept", True), check("PUT /quotes/{ID} body conforms to FSPIOP 1.1", False)])
    one_sided: list[str] = []
    diffs = compare_checks(a, b, release_differences("13", "14"), one_sided)
    assert sorted(one_sided) == [name, name + " (error callback)"]  # registered on the fresh hub only
    assert [d for d in diffs if d.b == "absent"] == []
    (failed,) = [d for d in diffs if d.b == "failed"]
    assert not failed.expected


def test_a_passing_header_check_in_one_run_only_is_no_difference_but_a_failing_one_is() -> None:
    names = ["PUT /participants/{Type}/{ID} callback headers",
             "PUT /participants/{Type}/{ID}/error callback headers #3"]
    a = summary("01x", "13", [*(check(n, True) for n in names), check("kept", True)])
    b = summary("02x", "14", [check("kept", True), check("PUT /transfers/{ID} callback headers #2", False)])
    one_sided: list[str] = []
    diffs = compare_checks(a, b, release_differences("13", "14"), one_sided)
    assert sorted(one_sided) == sorted(names)
    (failed,) = diffs
    assert failed.b == "failed" and not failed.expected


def test_callback_fields_change_as_expected_only_where_the_scenario_follows_a_changing_table_entry() -> None:
    from mojacheck.reports.compare import changing_scenarios, compare_field_sets

    key = ("21_errors", "missing fulfilment", "PUT /transfers/{id} (answer to GET)")
    fa, fb = {key: {"transferState"}}, {key: {"transferState", "extensionList"}}
    a = summary("01a", "14", [check("payer is told", True, None, "missing_fulfilment", "21_errors",
                                    "missing fulfilment")])
    b = summary("02b", "17", [check("payer is told", True, "3100", "missing_fulfilment", "21_errors",
                                    "missing fulfilment")])
    changing = changing_scenarios(a, b, release_differences("14", "17"))
    assert changing == {("21_errors", "missing fulfilment"): "missing_fulfilment"}
    (diff,) = compare_field_sets(fa, fb, changing)
    assert diff.expected and "missing_fulfilment" in diff.why
    # the same entry does not change between two runs of 17: the new field is unexplained
    (same,) = compare_field_sets(fa, fb, changing_scenarios(b, b, release_differences("17", "17")))
    assert not same.expected


def test_a_ledger_check_whose_move_depends_on_the_table_pairs_across_releases() -> None:
    a = summary("01a", "14", [check("payer POSITION USD moved by exactly 1.5", True, None, "missing_fulfilment")])
    b = summary("02b", "17", [check("payer POSITION USD exactly as before", True, None, "missing_fulfilment")])
    assert compare_checks(a, b, release_differences("14", "17")) == []
