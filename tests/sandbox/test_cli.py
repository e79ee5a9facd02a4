"""The command line: one flag per config field, the connection line, clean shutdown on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from airflow_provider_enkash.sandbox import FaultRule, SandboxConfig, connection_json_from_line
from airflow_provider_enkash.sandbox.__main__ import build_parser, config_from_args
from tests.sandbox.conftest import free_port


def test_every_config_field_has_a_flag():
    options = {opt for action in build_parser()._actions for opt in action.option_strings}
    for f in fields(SandboxConfig):
        assert "--" + f.name.replace("_", "-") in options, f.name


def test_flags_build_the_config():
    config = config_from_args(
        [
            "--port",
            "9999",
            "--client-secret",
            "s3cret",
            "--no-echo-otp",
            "--settle-delay-s",
            "0.5",
            "--card-account-balance",
            "123.45",
            "--fault",
            "mode=http_500,rate=0.1,operation=load_card_balance",
            "--fault",
            '{"mode": "latency", "latency_ms": 20}',
            "--envelope-overrides",
            "get_card_details=response_code",
            "--seed-end",
            "2025-01-01T00:00:00Z",
            "--duplicate-references",
            "reject",
        ]
    )
    assert config.port == 9999 and config.client_secret == "s3cret" and config.echo_otp is False
    assert config.settle_delay_s == 0.5 and config.card_account_balance == Decimal("123.45")
    assert config.faults == (
        FaultRule("http_500", operation="load_card_balance", rate=0.1),
        FaultRule("latency", latency_ms=20),
    )
    assert config.envelope_overrides == {"get_card_details": "response_code"}
    assert config.seed_end == datetime(2025, 1, 1, tzinfo=UTC)
    assert config_from_args([]).port == 8765
    assert config_from_args([]).envelope_overrides == {"get_card_account_details": "response_code"}


def test_bad_flag_value_exits_2():
    with pytest.raises(SystemExit) as info:
        config_from_args(["--failure-rate", "7"])
    assert info.value.code == 2


def test_cli_prints_the_connection_line_and_serves_until_sigterm():
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_enkash.sandbox",
            "--port",
            str(port),
            "--seed-cards",
            "2",
            "--password",
            "pw-cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        conn = json.loads(connection_json_from_line(line))
        exported = subprocess.run(
            ["bash", "-c", f'{line}\nprintf %s "$AIRFLOW_CONN_ENKASH_DEFAULT"'],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(exported.stdout) == conn  # the printed line is a working bash export
        assert conn["host"] == f"http://127.0.0.1:{port}" and conn["password"] == "pw-cli"
        assert requests.get(f"{conn['host']}/_sandbox/health", timeout=5).json()["cards"] == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    assert process.stdout.read() == ""  # exactly one line on stdout
