"""Every code block of README.md and docs/*.md runs, page by page, against a fresh sandbox.

A page is followed as a reader would in one terminal: its ```bash and ```python blocks run
in order, each in its own process; variables a bash block exports reach the later blocks.
The connection ``AIRFLOW_CONN_ENKASH_DEFAULT`` always points at the page's sandbox (a block
showing a real EnKash connection cannot reach EnKash), and every other HTTP(S) request is
sent to a dead proxy on 127.0.0.1. Python blocks are written into the DAGs folder, so a DAG
example can end with ``if __name__ == "__main__": <dag>.test()`` and really run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from tests.docs.blocks import DISPLAY_ONLY, REPO, RUNNABLE, CodeBlock, code_blocks, pages

BLOCK_TIMEOUT_S = 600  # the demo, the longest block, runs for about a minute alone
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, requests fail at once
_DEFINES_DAG = re.compile(r"^\s*@dag\b|\bDAG\(", re.MULTILINE)


def _page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def _blocks_to_run(path: Path) -> list[CodeBlock]:
    return [b for b in code_blocks(path) if b.language in RUNNABLE and b.not_run_reason is None]


@pytest.mark.parametrize("path", pages(), ids=_page_id)
def test_every_fence_follows_the_convention(path):
    for block in code_blocks(path):
        assert block.language in RUNNABLE | DISPLAY_ONLY, (
            f"{block.where}: fence language {block.language!r}; use python or bash (run), "
            f"or one of {sorted(DISPLAY_ONLY)} (display only); see docs/README-for-writers.md"
        )
        if block.not_run_reason is not None:
            assert block.language in RUNNABLE, (
                f"{block.where}: only python and bash blocks need a not-run marker"
            )
            assert len(block.not_run_reason) >= 15, f"{block.where}: say why the block does not run"
        if block.language == "python" and _DEFINES_DAG.search(block.code) and block.not_run_reason is None:
            assert ".test(" in block.code, (
                f"{block.where}: a DAG example ends with `if __name__ == '__main__': <dag>.test()`"
            )


def _env_after(env_file: Path) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in env_file.read_bytes().decode().split("\0") if "=" in item)
    return dict(pairs)


def _run(
    block: CodeBlock, env: dict[str, str], work: Path
) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    name = "docs_block_" + re.sub(r"\W", "_", block.where)
    if block.language == "python":
        script = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{name}.py"
        script.write_text(block.code)
        command = [sys.executable, str(script)]
    else:
        script = work / f"{name}.sh"
        env_file = work / f"{name}.env"
        script.write_text(f"set -euo pipefail\n{block.code}\nenv -0 > {env_file}\n")
        command = ["bash", str(script)]
    try:
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S, check=False
        )
    finally:
        if block.language == "python":
            script.unlink()
    return result, (_env_after(env_file) if block.language == "bash" and result.returncode == 0 else env)


@pytest.mark.parametrize("path", [p for p in pages() if _blocks_to_run(p)], ids=_page_id)
def test_code_blocks_run_against_the_sandbox(path, tmp_path):
    config = SandboxConfig(seed_cards=12, settle_delay_s=0.5)
    with Sandbox(config) as sandbox:
        pinned = {
            "AIRFLOW_CONN_ENKASH_DEFAULT": sandbox.connection_json(),
            "ENKASH_SANDBOX_URL": sandbox.url,
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "http_proxy": DEAD_PROXY,
            "https_proxy": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        env = {**os.environ, **pinned}
        for block in _blocks_to_run(path):
            result, env = _run(block, env, tmp_path)
            env = {**env, **pinned}
            assert result.returncode == 0, (
                f"{block.where} ({block.language}) failed with exit code {result.returncode}\n"
                f"--- code ---\n{block.code}\n--- stdout (end) ---\n{result.stdout[-3000:]}\n"
                f"--- stderr (end) ---\n{result.stderr[-5000:]}"
            )
