"""The connection form and the extras it saves: names Airflow does not hide, renamed extras, safe token URL."""

from __future__ import annotations

import json
import warnings

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import Connection
from airflow.sdk._shared.secrets_masker import should_hide_value_for_key

from airflow_provider_enkash.connection import DEPRECATED_EXTRAS, KNOWN_EXTRAS, settings_from_connection
from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.get_provider_info import get_provider_info
from airflow_provider_enkash.hooks.enkash import EnKashHook
from tests.conftest import connection_json

REAL_SECRETS = {"client_secret"}


def _conn_type() -> dict:
    (conn_type,) = get_provider_info()["connection-types"]
    return conn_type


def _connection(sandbox_server, **extra) -> Connection:
    return Connection.from_json(connection_json(sandbox_server, **extra), conn_id="enkash_default")


def test_only_real_secrets_have_names_airflow_hides():
    form_fields = set(_conn_type()["conn-fields"])
    assert form_fields <= KNOWN_EXTRAS
    hidden = {name for name in KNOWN_EXTRAS | form_fields if should_hide_value_for_key(name)}
    assert hidden == REAL_SECRETS
    # the old names were hidden: that is why they were renamed
    assert all(should_hide_value_for_key(old) for old in DEPRECATED_EXTRAS)


def test_every_form_field_has_a_label_description_and_placeholder():
    conn_type = _conn_type()
    placeholders = conn_type["ui-field-behaviour"]["placeholders"]
    hidden = set(conn_type["ui-field-behaviour"]["hidden-fields"])
    for name in {"host", "login", "password"} - hidden:
        assert placeholders.get(name), name
    for name, spec in conn_type["conn-fields"].items():
        assert spec["label"] and len(spec["description"]) > 20, name
        assert placeholders.get(name), name
    assert conn_type["conn-fields"]["client_secret"]["schema"]["format"] == "password"


def test_verify_is_a_text_field_taking_a_ca_bundle_path(sandbox_server, tmp_path):
    assert "string" in _conn_type()["conn-fields"]["verify"]["schema"]["type"]
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert settings_from_connection(_connection(sandbox_server, verify=str(bundle))).verify == str(bundle)
    assert settings_from_connection(_connection(sandbox_server, verify="false")).verify is False
    assert settings_from_connection(_connection(sandbox_server, verify="False")).verify is False
    with pytest.raises(EnKashConfigError, match="verify"):
        settings_from_connection(_connection(sandbox_server, verify=str(tmp_path / "missing.pem")))


def test_form_defaults_as_saved_by_the_ui_make_a_working_connection(sandbox, sandbox_server):
    """Every default the form shows, saved as the form saves it (text, with the field prefix), works."""
    base = json.loads(connection_json(sandbox_server))
    extra = {
        f"extra__enkash__{name}": spec["schema"]["default"]
        for name, spec in _conn_type()["conn-fields"].items()
        if "default" in spec["schema"]
    }
    for name in ("client_id", "client_secret", "partner_id", "company_id", "card_account_id"):
        extra[f"extra__enkash__{name}"] = base["extra"][name]
    conn = Connection(
        conn_id="enkash_default",
        conn_type="enkash",
        host=base["host"],
        login=base["login"],
        password=base["password"],
        extra=json.dumps(extra),
    )
    settings = settings_from_connection(conn)
    assert (
        settings.token_url == base["host"] + "/oauth/token"
    )  # empty auth_url on a loopback host: the sandbox's
    assert (
        EnKashHook.from_connection(conn).get_card_account_details()["cardAccountId"]
        == base["extra"]["card_account_id"]
    )


@pytest.mark.parametrize(
    ("old", "new", "value"), [("token_url", "auth_url", None), ("token_leeway", "refresh_leeway", 12)]
)
def test_deprecated_names_still_work_with_a_warning(sandbox_server, old, new, value):
    conn = json.loads(connection_json(sandbox_server))
    value = conn["extra"].pop("auth_url") if value is None else value
    conn["extra"][old] = value
    with pytest.warns(AirflowProviderDeprecationWarning, match=new):
        settings = settings_from_connection(Connection.from_json(json.dumps(conn), conn_id="x"))
    assert (settings.token_url if new == "auth_url" else settings.token_leeway_s) == value


def test_old_and_new_names_that_disagree_are_refused(sandbox_server):
    conn = _connection(sandbox_server, token_url="http://127.0.0.1:1/oauth/token")
    with warnings.catch_warnings(), pytest.raises(EnKashConfigError, match="token_url.*auth_url"):
        warnings.simplefilter("ignore")
        settings_from_connection(conn)


@pytest.mark.parametrize(
    "auth_url", ["https://ekpayout-uat.enkash.in/oauth/token", "https://attacker.example/oauth/token"]
)
def test_loopback_api_host_with_an_external_auth_url_is_refused_before_any_request(
    sandbox, sandbox_server, monkeypatch, auth_url
):
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, auth_url=auth_url))
    with pytest.raises(EnKashConfigError, match="auth_url.*loopback"):
        EnKashHook().get_card_account_details()
    assert sandbox.requests_total() == 0


def test_a_real_api_host_defaults_to_the_uat_token_url(sandbox_server):
    conn = json.loads(connection_json(sandbox_server))
    del conn["extra"]["auth_url"]
    conn["host"] = "https://pay-uat.enkash.in"
    settings = settings_from_connection(Connection.from_json(json.dumps(conn), conn_id="x"))
    assert settings.token_url == "https://ekpayout-uat.enkash.in/oauth/token"


def test_every_extra_the_hook_reads_is_a_form_field_or_documented_code_only():
    """The money-safety settings (issue 11) are form fields; the rest is listed, with a reason, as JSON-only
    and appears so in docs/connection.md."""
    from pathlib import Path

    from airflow_provider_enkash.get_provider_info import CODE_ONLY_EXTRAS

    form_fields = set(_conn_type()["conn-fields"])
    assert form_fields | set(CODE_ONLY_EXTRAS) == KNOWN_EXTRAS, KNOWN_EXTRAS ^ (
        form_fields | set(CODE_ONLY_EXTRAS)
    )
    assert not form_fields & set(CODE_ONLY_EXTRAS)
    money_safety = {"reference_fields", "search_cap", "success_statuses", "failure_statuses", "pending_statuses",
                    "resend_quiet_period"}  # fmt: skip
    assert money_safety <= form_fields
    doc = (Path(__file__).parents[1] / "docs" / "connection.md").read_text()
    json_only_rows = [line for line in doc.splitlines() if line.startswith("| (JSON only)")]
    for name in CODE_ONLY_EXTRAS:
        assert any(f"`{name}`" in line for line in json_only_rows), name
    for name in form_fields:
        assert any(
            f"| `{name}` |" in line for line in doc.splitlines() if not line.startswith("| (JSON only)")
        ), name


def test_money_safety_fields_as_the_form_saves_them(sandbox_server):
    """Text as the form saves it (with the field prefix) reaches the settings loads and look-ups read."""
    base = json.loads(connection_json(sandbox_server))
    form = {"reference_fields": "uniqueReferenceNumber, pgReferenceNumber", "search_cap": "50",
            "success_statuses": "SUCCESSFUL", "failure_statuses": "FAILURE,FAILED", "pending_statuses": "QUEUED",
            "resend_quiet_period": "120"}  # fmt: skip
    extra = {**base["extra"], **{f"extra__enkash__{name}": value for name, value in form.items()}}
    settings = settings_from_connection(Connection(conn_id="enkash_default", conn_type="enkash",
                                                   host=base["host"], login=base["login"],
                                                   password=base["password"], extra=json.dumps(extra)))  # fmt: skip
    assert settings.reference_fields == ("uniqueReferenceNumber", "pgReferenceNumber")
    assert settings.search_cap == 50
    assert settings.resend_quiet_period_s == 120.0
    assert settings.statuses.success == {"SUCCESSFUL"}
    assert settings.statuses.failure == {"FAILURE", "FAILED"}
    assert settings.statuses.pending == {"QUEUED"}
