"""Lint, format and types are part of the suite: ``ruff check`` and ``ruff format --check`` over the
repository, ``mypy`` (strict) over the package.

Both are configured in ``pyproject.toml`` (``[tool.ruff]``, ``[tool.mypy]``); run
``ruff check --fix . && ruff format .`` to comply with ruff.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"ruff {' '.join(command)} failed:\n{result.stdout}{result.stderr}"


def test_mypy_strict_on_the_package() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"
