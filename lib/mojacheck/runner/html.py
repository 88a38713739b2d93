"""Executed notebook → one self-contained HTML file, readable offline (an archived nightly report must still
open in five years, on an air-gapped machine).

nbconvert's lab template loads require.js, MathJax and mermaid from cdnjs and the widgets html-manager from
unpkg. We extend it with a template that empties exactly those blocks; CSS is inlined by the lab template
already, images are embedded as data URIs (`embed_images`). The price: LaTeX in markdown shows as source and
ipywidgets show their static fallback — acceptable for a test report.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import TextIO

_TEMPLATE_NAME = "mojacheck_offline.html.j2"
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def export_html(notebook: Path, html: Path) -> None:
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",  # for the lab template's static CSS, which gets inlined
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        embed_images=True,
        # belt and braces: even if a block we did not override renders these, they point nowhere external
        mathjax_url="",
        require_js_url="",
        widget_renderer_url="",
        jupyter_widgets_base_url="",
        mermaid_js_url="",
    )
    # papermill's injected parameters are evidence in the .ipynb, not something to read first in the report
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"injected-parameters"}), enabled=True)
    nb = nbformat.read(str(notebook), as_version=4)
    with warnings.catch_warnings():
        # scrapbook's scrap outputs have no HTML form; nbconvert warns once per scrap. They are meant unseen.
        warnings.filterwarnings("ignore", message=".*is not able to be represented", category=UserWarning)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    html.write_text(body, encoding="utf-8")


class BackgroundExport:
    """HTML export off the critical path: one worker process renders while the next notebook runs (nbconvert is
    CPU-bound, and the machine's other core is otherwise idle while a kernel waits on the hub). ``drain()`` waits
    for everything submitted; a report that cannot be rendered is a warning, never the run's failure."""

    def __init__(self, out: TextIO) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._out = out
        # spawn, not fork: the runner has threads (kernel starter, watchdog) that a fork would copy mid-lock
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._pending: list[tuple[Path, Future[None]]] = []

    def submit(self, notebook: Path, html: Path) -> None:
        self._pending.append((notebook, self._pool.submit(export_html, notebook, html)))

    def drain(self) -> None:
        pending, self._pending = self._pending, []
        for notebook, future in pending:
            try:
                future.result()
            except Exception as exc:
                print(f"mojacheck: warning: no HTML for {notebook.name}: {type(exc).__name__}: {exc}", file=self._out)

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
