"""Scraps written by our own glue (no scrapbook import in the kernel) must read back with scrapbook."""

import json

import nbformat
import scrapbook
from nbclient import NotebookClient

from mojacheck.evidence.checks import Record, Scenario
from mojacheck.evidence.render import scenario_html


def test_glued_scrap_reads_back_with_scrapbook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "from mojacheck.evidence.render import glue\n"
        "glue('mc_scenario_000', {'name': 'x', 'checks': [{'name': 'c', 'passed': True}], 'requests': []})\n"
        "import mojacheck, sys; print([m for m in ('scrapbook', 'nbformat', 'rfc3987_syntax') if m in sys.modules])"))
    NotebookClient(nb, kernel_name="python3", timeout=60).execute()
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    scraps = scrapbook.read_notebook(str(path)).scraps
    assert scraps["mc_scenario_000"].data["checks"][0]["name"] == "c"
    printed = nb.cells[0].outputs[-1]["text"].strip()
    assert printed == "[]", "the kernel must not import scrapbook/nbformat (rfc3987-syntax import tax)"


def test_scenario_html_escapes_bodies_and_shows_failures():
    sc = Scenario("<b>s</b>", 0)
    sc.check("state", "COMMITTED", "ABORTED")
    sc.records.append(Record("request", "POST", "http://h/transfers", 202, 3.2, {"Content-Type": "x"},
                             {"note": "<script>"}, None))
    page = scenario_html(sc)
    assert "&lt;b&gt;s&lt;/b&gt;" in page and "FAILED" in page
    assert "<h4 id='mc-scenario-000'>" in page  # the anchor the run report links failures to
    assert "<script>" not in page and json.dumps("&lt;script&gt;")[1:-1] in page
