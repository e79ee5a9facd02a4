"""A stateful local simulator of the EnKash Prepaid Card API, with fault injection.

``Sandbox(SandboxConfig(...)).start()`` serves it in-process on a free
127.0.0.1 port; ``enkash-sandbox`` / ``python -m airflow_provider_enkash.sandbox``
run it in the foreground. See the README section "The sandbox".
"""

from __future__ import annotations

from airflow_provider_enkash.sandbox.config import SandboxConfig
from airflow_provider_enkash.sandbox.faults import FaultRule
from airflow_provider_enkash.sandbox.server import Sandbox, connection_json_from_line

__all__ = ["FaultRule", "Sandbox", "SandboxConfig", "connection_json_from_line"]
