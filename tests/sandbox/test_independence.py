"""The sandbox is an independent oracle: it runs with no module of the provider and none of Airflow.

The sandbox is started with ``python -m airflow_provider_enkash.sandbox`` under an import
blocker that refuses every module outside the standard library, ``cryptography`` (and its
``cffi`` backend) and the sandbox package itself, exactly what a venv holding only the
sandbox's needs would offer; then the provider's hook works against it end to end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from airflow_provider_enkash.operations import OPERATIONS, TOKEN_PATH
from airflow_provider_enkash.sandbox import connection_json_from_line
from airflow_provider_enkash.sandbox.api_spec import ENDPOINTS
from airflow_provider_enkash.sandbox.api_spec import TOKEN_PATH as SANDBOX_TOKEN_PATH

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, runpy, sys

    ALLOWED_TOP = {"cryptography", "cffi", "_cffi_backend"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED_TOP:
                return None
            if name == "airflow_provider_enkash" or name.startswith("airflow_provider_enkash.sandbox"):
                return None
            if importlib.machinery.PathFinder.find_spec(name, path) is None:
                return None  # not installed anyway (e.g. a stdlib probe for an optional module)
            print(f"BLOCKED IMPORT {name}", file=sys.stderr, flush=True)
            raise ImportError(f"the sandbox must not import {name}")

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["enkash-sandbox", "--port", "0"]
    runpy.run_module("airflow_provider_enkash.sandbox", run_name="__main__", alter_sys=True)
    """
)


def test_sandbox_runs_without_provider_or_airflow_modules(monkeypatch):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCKER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("export AIRFLOW_CONN_ENKASH_DEFAULT="), (
            proc.stderr.read() if proc.poll() is not None else line
        )
        conn = connection_json_from_line(line)
        json.loads(conn)
        monkeypatch.setenv("AIRFLOW_CONN_ENKASH_PROBE_INDEP", conn)
        from airflow_provider_enkash.hooks.enkash import EnKashHook

        hook = EnKashHook("enkash_probe_indep")
        account = hook.get_card_account_details()
        assert account["cardAccountId"] == json.loads(conn)["extra"]["card_account_id"]
        assert hook.get_all_transactions()["data"] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "BLOCKED IMPORT" not in stderr, stderr


def test_provider_paths_match_the_sandbox_copy_of_the_docs():
    """The provider's operation table and the sandbox's vendored endpoint list agree (two independent copies)."""
    assert TOKEN_PATH == SANDBOX_TOKEN_PATH
    assert set(OPERATIONS) == set(ENDPOINTS)
    for name, operation in OPERATIONS.items():
        assert operation.path == ENDPOINTS[name].path, name
