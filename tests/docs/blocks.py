"""The code blocks of README.md and docs/*.md, read with the Markdown parser MyST itself uses.

The convention (docs/README-for-writers.md): ```python and ```bash blocks run, in page
order, against a sandbox; a block that must not run is preceded by
``<!-- not run: <reason> -->``; other fences (```text, ```json, ...) only display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[2]
RUNNABLE = frozenset({"python", "bash"})
DISPLAY_ONLY = frozenset({"text", "json", "csv", "toml", "ini", "yaml", "sql", "jsonl"})
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$", re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: where it is, its language, its code, and why it does not run (None: it runs)."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    not_run_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def pages() -> list[Path]:
    """README.md and every docs/*.md page."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def code_blocks(path: Path) -> list[CodeBlock]:
    """The fenced code blocks of ``path`` in page order (MyST directives such as ```{toctree} excluded)."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    blocks: list[CodeBlock] = []
    previous = None
    for token in tokens:
        if token.type == "fence" and not token.info.startswith("{"):
            language = token.info.split()[0] if token.info.strip() else ""
            marker = (
                _NOT_RUN.match(previous.content.strip())
                if previous and previous.type == "html_block"
                else None
            )
            blocks.append(
                CodeBlock(
                    path=path,
                    line=token.map[0] + 1 if token.map else 0,
                    language=language,
                    code=token.content,
                    not_run_reason=marker.group("reason") if marker else None,
                )
            )
        previous = token
    return blocks
