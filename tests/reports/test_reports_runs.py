"""Reading a run's executed notebooks, request types, the run report's tables and its own checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scenario, write_executed

from mojacheck.evidence.checks import Scenario
from mojacheck.reports import report
from mojacheck.reports.runs import check_identity, load_run, request_type, resolve_run_dir


@pytest.mark.parametrize(("method", "url", "kind", "expected"), [
    ("GET", "http://h:4040/transfers/0191e3a2-1111-7222-8333-444455556666", "request", "GET /transfers/{id}"),
    ("PUT", "/mcpayerfsp/transfers/0191e3a2-1111-7222-8333-444455556666/error", "callback",
     "PUT /{fsp}/transfers/{id}/error"),
    ("GET", "http://h/parties/MSISDN/27710202002/SAVINGS", "request", "GET /parties/MSISDN/{id}/{id}"),
    ("GET", "http://h/admin/participants/mcpayeefsp1/positions?currency=USD", "request",
     "GET /admin/participants/{id}/positions"),
    ("POST", "http://h/admin/participants/mcpayerfsp/accounts/7", "request",
     "POST /admin/participants/{id}/accounts/{id}"),
    ("GET", "http://h/admin/participants", "request", "GET /admin/participants"),
    ("GET", "http://h/settlement/v2/settlementWindows/12", "request", "GET /settlement/v2/settlementWindows/{id}"),
])
def test_request_type_groups_ids(method: str, url: str, kind: str, expected: str) -> None:
    assert request_type(method, url, kind) == expected


def test_check_identity_drops_a_trailing_remark() -> None:
    name = "Hub HUB_RECONCILIATION USD"
    assert check_identity(f"{name} (created)") == check_identity(f"{name} (existed)") == name
    assert check_identity("state is COMMITTED") == "state is COMMITTED"
    assert check_identity("quote to mcghost4fe6f574") == check_identity("quote to mcghoste9aefd0d")
    assert check_identity("lookup of MSISDN 277960107072") == "lookup of MSISDN {id}"
    assert check_identity("GET /transfers/0191e3a2-1111-7222-8333-444455556666") == "GET /transfers/{id}"
    assert check_identity("accepted in a decade") == "accepted in a decade"  # hex letters alone are words


def test_check_identity_keeps_the_ordinal_of_a_repeated_name() -> None:
    name = "party is held by the payee FSP"
    assert len({check_identity(name), check_identity(f"{name} #2"), check_identity(f"{name} #3")}) == 3
    assert check_identity(f"{name} #2") == f"{name} #2"
    # the remark before an ordinal still goes, the ordinal stays
    assert check_identity("Hub account USD (created) #2") == check_identity("Hub account USD (existed) #2") \
        == "Hub account USD #2"
    assert check_identity("quote to mcghost4fe6f574 #2") == check_identity("quote to mcghoste9aefd0d #2") \
        == check_identity("quote to mcghost4fe6f574") + " #2"


def _run(tmp_path: Path) -> Path:
    folder = tmp_path / "20261127T000000Z-aaaaaa"
    write_executed(folder / "00_environment.ipynb", [scenario("health", 0, [("hub answers", True)])])
    write_executed(folder / "20_p2p.ipynb", [
        scenario("send", 0, [("state", True), ("positions", False)],
                 requests=[("POST", "http://h/transfers", 12.0), ("GET", "http://h/transfers/1", 3.0)]),
        scenario("get", 1, [("read back", True)], requests=[("GET", "http://h/transfers/2", 5.0)])])
    write_executed(folder / "30_crash.ipynb", [], crash="boom")
    write_executed(folder / "90_run_report.ipynb", [scenario("self", 0, [("x", True)])])
    (folder / "20_p2p.html").write_text("<html/>")
    return folder


def test_load_run_reads_scraps_before_the_report_and_spots_a_crash(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path), before="90_run_report")
    assert [nb.name for nb in run.notebooks] == ["00_environment", "20_p2p", "30_crash"]
    assert [s["name"] for s in run.notebooks[1].scenarios] == ["send", "get"]
    assert run.notebooks[2].crashed == "RuntimeError: boom" and run.summary is None
    table = report.notebook_table(run)
    assert list(table["status"]) == ["passed", "failed", "crashed"]


def test_latency_slowest_and_failures(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path), before="90_run_report")
    latency = report.latency_table(run).set_index("type")
    assert latency.loc["GET /transfers/{id}", "count"] == 2
    assert latency.loc["GET /transfers/{id}", "p50_ms"] == 4.0
    assert list(report.slowest_requests(run, 2)["elapsed_ms"]) == [12.0, 5.0]
    failures = report.failures(run)
    first = failures.to_dict("records")[0]
    assert (first["notebook"], first["scenario"], first["check"]) == ("20_p2p", "send", "positions")
    html = report.failures_html(failures)
    # straight to the failing scenario's cell: its heading carries the anchor (evidence.scenario_html)
    assert "<a href='20_p2p.html#mc-scenario-000'>20_p2p</a>" in html and "send" in html
    assert report.latency_chart(report.latency_table(run)).axes


def test_report_checks_skip_crashed_notebooks_and_pass_despite_failures(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path), before="90_run_report")
    sc = Scenario("report", 0)
    report.check_glued(sc, run)
    report.check_every_scenario_checked(sc, run)
    report.check_failure_links(sc, run)
    names = [c.name for c in sc.checks]
    assert "30_crash glued its scenarios" not in names  # its crash is counted by the runner, not again here
    assert sc.passed, [c for c in sc.checks if not c.passed]


def test_report_check_fails_when_a_finished_notebook_glued_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_executed(folder / "10_silent.ipynb", [])
    sc = Scenario("report", 0)
    report.check_glued(sc, load_run(folder))
    report.check_failure_links(sc, load_run(folder))
    assert [c.name for c in sc.checks if not c.passed] == ["10_silent glued its scenarios"]


def test_resolve_run_dir_defaults_to_latest(tmp_path: Path) -> None:
    (tmp_path / "outputs" / "local" / "r1").mkdir(parents=True)
    (tmp_path / "outputs" / "local" / "latest").symlink_to("r1")
    assert resolve_run_dir(None, "local", root=tmp_path).name == "r1"
    assert resolve_run_dir(str(tmp_path / "x"), "local") == (tmp_path / "x").resolve()


def test_scrap_carries_created_transfer_ids() -> None:
    sc = scenario("send", 0, [("ok", True)], requests=[("POST", "http://h/transfers", 1.0),
                                                      ("POST", "http://h/quotes", 1.0)])
    assert sc.to_scrap()["transfers"] == ["t-0-0"]
    assert "transfers" not in scenario("none", 1, [("ok", True)]).to_scrap()
