"""Executed notebook → one self-contained HTML file, readable offline (an archived nightly report must still
open in five years, on an air-gapped machine).

nbconvert's lab template loads require.js, MathJax and mermaid from cdnjs and the widgets html-manager from
unpkg. We extend it with a template that empties exactly those blocks; CSS is inlined by the lab template
already, images are embedded as data URIs (`embed_images`). The price: LaTeX in markdown shows as source and
ipywidgets show their static fallback — acceptable for a test report.
"""

from __future__ import annotations

import warnings
from pathlib import Path

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
