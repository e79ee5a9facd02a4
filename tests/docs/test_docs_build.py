"""The documentation site builds with Sphinx, warnings as errors, and every docs page is in it."""

from __future__ import annotations

import subprocess
import sys

from tests.docs.blocks import REPO


def test_sphinx_builds_the_docs_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(REPO / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    pages = {p.stem for p in (REPO / "docs").glob("*.md")}
    built = {p.stem for p in out.glob("*.html")}
    assert "index" in pages and pages <= built, f"pages not built: {sorted(pages - built)}"
