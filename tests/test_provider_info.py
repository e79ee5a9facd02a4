"""Provider metadata: valid against Airflow's own schema, and discovered by the Airflow CLI."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_enkash.get_provider_info import get_provider_info


def test_provider_info_validates_against_airflow_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_and_package_name():
    (ep,) = [
        e
        for e in entry_points(group="apache_airflow_provider")
        if e.value.startswith("airflow_provider_enkash")
    ]
    assert ep.load()()["package-name"] == "airflow-provider-enkash"


def test_every_listed_module_and_hook_imports():
    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    (conn,) = info["connection-types"]
    module, _, cls = conn["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), cls).conn_type == conn["connection-type"] == "enkash"
    assert conn["conn-fields"]["client_secret"]["schema"]["format"] == "password"


def _airflow_cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "airflow", *args, "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_airflow_cli_lists_provider_and_hook():
    providers = json.loads(_airflow_cli("providers", "list"))
    assert any(p["package_name"] == "airflow-provider-enkash" for p in providers)
    hooks = json.loads(_airflow_cli("providers", "hooks"))
    assert any(h.get("connection_type") == "enkash" and h["class"].endswith("EnKashHook") for h in hooks)


def test_documentation_url_reaches_airflow_and_names_a_docs_page():
    """Airflow takes the Providers-page link from the package's Documentation URL, not from get_provider_info."""
    from airflow_provider_enkash.get_provider_info import DOCUMENTATION_URL

    (provider,) = list(json.loads(_airflow_cli("providers", "get", "airflow-provider-enkash", "--full")))
    assert provider["documentation-url"] == get_provider_info()["documentation-url"] == DOCUMENTATION_URL
    assert (Path(__file__).parents[1] / DOCUMENTATION_URL).is_file()


def test_triggerer_settings_are_declared_with_their_defaults():
    """Airflow's config knows the [enkash] options from the provider metadata, defaults included."""
    from airflow_provider_enkash.triggers import settings

    options = get_provider_info()["config"]["enkash"]["options"]
    assert {name: spec["default"] for name, spec in options.items()} == {
        "max_requests_in_flight": "64",
        "coalesce_polls": "true",
        "poll_batch_size": "500",
        "freeze_gc": "true",
    }
    assert all(spec["description"] for spec in options.values())
    got = subprocess.run(
        [sys.executable, "-m", "airflow", "config", "get-value", "enkash", "max_requests_in_flight"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert got.stdout.strip() == str(settings.DEFAULT_MAX_REQUESTS_IN_FLIGHT)
