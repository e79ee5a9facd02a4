"""Sphinx configuration of the airflow-provider-enkash documentation (MyST Markdown pages).

Built by the test suite (tests/docs/test_docs_build.py) with warnings as errors; by hand:
``.venv/bin/python -m sphinx -W -b html docs docs/_build/html``.
"""

project = "airflow-provider-enkash"
author = "airflow-provider-enkash developers"
copyright = "the airflow-provider-enkash developers; Apache License 2.0"  # noqa: A001 - Sphinx's setting name
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links resolve
html_theme = "alabaster"
html_title = "airflow-provider-enkash"
