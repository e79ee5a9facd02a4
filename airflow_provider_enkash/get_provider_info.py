"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

_STRING = {"type": ["string", "null"]}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata: connection type, its form, and the modules it ships."""
    return {
        "package-name": "airflow-provider-enkash",
        "name": "EnKash",
        "description": "EnKash Prepaid Card APIs: cards, card loads, transactions and exports.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "EnKash",
                "external-doc-url": "https://docs.enkash.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "EnKash", "python-modules": ["airflow_provider_enkash.hooks.enkash"]},
        ],
        "operators": [
            {
                "integration-name": "EnKash",
                "python-modules": [
                    "airflow_provider_enkash.operators.cards",
                    "airflow_provider_enkash.operators.card_reads",
                    "airflow_provider_enkash.operators.transaction_lookups",
                    "airflow_provider_enkash.operators.loads",
                    "airflow_provider_enkash.operators.batch_load",
                    "airflow_provider_enkash.operators.transactions",
                ],
            }
        ],
        "sensors": [
            {"integration-name": "EnKash", "python-modules": ["airflow_provider_enkash.sensors.transactions"]},
        ],
        "triggers": [
            {"integration-name": "EnKash", "python-modules": ["airflow_provider_enkash.triggers.transactions"]},
        ],
        "connection-types": [
            {
                "connection-type": "enkash",
                "hook-class-name": "airflow_provider_enkash.hooks.enkash.EnKashHook",
                "hook-name": "EnKash",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API base URL",
                        "login": "Partner username (mobile)",
                        "password": "Partner password",
                    },
                    "placeholders": {"host": "https://pay-uat.enkash.in", "login": "10-digit mobile number"},
                },
                "conn-fields": {
                    "client_id": {"label": "Client id (company id)", "schema": _STRING},
                    "client_secret": {
                        "label": "Client secret",
                        "schema": {"type": ["string", "null"], "format": "password"},
                        "description": "Used for HTTP Basic on the token call and as the AES key source.",
                    },
                    "partner_id": {"label": "Partner id", "schema": _STRING},
                    "company_id": {"label": "Company id", "schema": _STRING},
                    "card_account_id": {"label": "Card account id", "schema": _STRING},
                    "token_url": {
                        "label": "Token URL",
                        "schema": {"type": ["string", "null"], "default": "https://ekpayout-uat.enkash.in/oauth/token"},
                    },
                    "encrypt_requests": {"label": "Encrypt requests", "schema": {"type": ["boolean", "null"], "default": True}},
                    "key_derivation": {
                        "label": "AES key derivation",
                        "schema": {"type": ["string", "null"], "default": "sha256", "enum": ["sha256", "sha1", "raw"]},
                    },
                    "timeout": {"label": "Read timeout (seconds)", "schema": {"type": ["number", "null"], "default": 60}},
                    "verify": {"label": "Verify TLS certificates", "schema": {"type": ["boolean", "null"], "default": True}},
                    "allow_insecure_http": {
                        "label": "Allow http:// to non-loopback hosts",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                },
            }
        ],
    }
