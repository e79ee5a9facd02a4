"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_enkash.operations import DEFAULT_TOKEN_URL
from airflow_provider_enkash.triggers.settings import CONFIG

# The documentation's entry page. Nothing hosts the built site yet, so this is its path in the
# repository (and the source distribution); Airflow 3.3 takes the Admin > Providers link from
# the ``Documentation`` project URL in pyproject.toml, which must say the same.
DOCUMENTATION_URL = "docs/index.md"

# The extras shown in the connection form: label, JSON schema, description and placeholder of each.
# Airflow hides (shows and saves as ``***``) every extra whose name contains "token", "secret",
# "password", "proxy", ...: only ``client_secret`` may be named like that (tests/test_connection_form.py).
CONNECTION_EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "client_id": {
        "label": "Client id (company id)",
        "schema": {"type": ["string", "null"]},
        "description": "OAuth client id from EnKash onboarding, usually your company id, e.g. CEKEY1SKIU.",
        "placeholder": "CEKEY1SKIU",
    },
    "client_secret": {
        "label": "Client secret",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": "Used for HTTP Basic on the token call and as the AES key source. Kept hidden.",
        "placeholder": "client secret issued by EnKash",
    },
    "partner_id": {
        "label": "Partner id",
        "schema": {"type": ["string", "null"]},
        "description": "Sent as the partnerId header of every card call, e.g. CRMXWB3ZM.",
        "placeholder": "CRMXWB3ZM",
    },
    "company_id": {
        "label": "Company id",
        "schema": {"type": ["string", "null"]},
        "description": "Default companyId of the calls whose docs list it, e.g. CEKEY1SKIU; an operator's company_id overrides it.",
        "placeholder": "CEKEY1SKIU",
    },
    "card_account_id": {
        "label": "Card account id",
        "schema": {"type": ["string", "null"]},
        "description": "Default cardAccountId of the calls whose docs list it, e.g. CABFIPS; an operator's card_account_id overrides it.",
        "placeholder": "CABFIPS",
    },
    "auth_url": {
        "label": "OAuth URL",
        "schema": {"type": ["string", "null"]},
        "description": (
            f"OAuth token URL. Empty: {DEFAULT_TOKEN_URL} (UAT), or <API base URL>/oauth/token when the "
            "API host is loopback (the sandbox). A loopback API host with an external OAuth URL is refused."
        ),
        "placeholder": DEFAULT_TOKEN_URL,
        "examples": [DEFAULT_TOKEN_URL],
    },
    "basic_auth": {
        "label": "Token call Basic credentials",
        "schema": {"type": ["string", "null"], "default": "client", "enum": ["client", "empty", "none"]},
        "description": (
            "client: client id and secret (default); empty: Basic Og==, as the portal's example sends; "
            "none: no Authorization header. A wrong choice is a failed login: run enkash-probe once."
        ),
        "placeholder": "client",
    },
    "encrypt_requests": {
        "label": "Encrypt requests",
        "schema": {"type": ["boolean", "null"], "default": True},
        "description": 'Send request bodies AES-encrypted as {"request": ...} (EnKash\'s documented format).',
        "placeholder": "on",
    },
    "key_derivation": {
        "label": "AES key derivation",
        "schema": {"type": ["string", "null"], "default": "sha256", "enum": ["sha256", "sha1", "raw"]},
        "description": "How the AES key is made from the client secret: first 16 bytes of its SHA-256 (default).",
        "placeholder": "sha256",
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number", "null"], "default": 60},
        "description": "Longest wait, in seconds, for data from EnKash (each wait, not the whole answer; default 60).",
        "placeholder": "60",
    },
    "verify": {
        "label": "Verify TLS certificates",
        "schema": {"type": ["string", "null"], "default": "true"},
        "description": "true (default), false (never in production), or the path of a CA bundle file on the workers.",
        "placeholder": "true or /etc/ssl/certs/ca-certificates.crt",
        "examples": ["true", "false", "/etc/ssl/certs/ca-certificates.crt"],
    },
    "allow_insecure_http": {
        "label": "Allow http:// to non-loopback hosts",
        "schema": {"type": ["boolean", "null"], "default": False},
        "description": "Off: plain http:// is only accepted for 127.0.0.1/localhost (the sandbox).",
        "placeholder": "off",
    },
    # Money safety (docs/money-safety.md): how a load reference is looked up before any resend. No schema
    # defaults: an empty field means the provider's default, so a saved form never pins an old default.
    "reference_fields": {
        "label": "Reference fields (money safety)",
        "schema": {"type": ["string", "null"]},
        "description": (
            "Comma-separated transaction fields that may carry a load's uniqueReferenceNumber, tried in order. "
            "Empty: pgReferenceNumber,uniqueReferenceNumber. enkash-probe recommends a value."
        ),
        "placeholder": "pgReferenceNumber,uniqueReferenceNumber",
    },
    "search_cap": {
        "label": "Search cap (money safety)",
        "schema": {"type": ["integer", "null"], "minimum": 1},
        "description": (
            "Rows per search answer at which it counts as possibly truncated, so a look-up cannot prove a "
            "load absent. Empty: 1000. Set it to EnKash's silent cap if the probe finds one."
        ),
        "placeholder": "1000",
    },
    "success_statuses": {
        "label": "Success status words",
        "schema": {"type": ["string", "null"]},
        "description": (
            "Comma-separated statuses meaning the money moved (loads, batches, reconcile, sensors). "
            "Empty: SUCCESS. A word in none of the three lists is unclear, never success."
        ),
        "placeholder": "SUCCESS",
    },
    "failure_statuses": {
        "label": "Failure status words",
        "schema": {"type": ["string", "null"]},
        "description": "Comma-separated statuses meaning nothing moved or it was undone. Empty: FAILED,REVERSED,REJECTED.",
        "placeholder": "FAILED,REVERSED,REJECTED",
    },
    "pending_statuses": {
        "label": "Pending status words",
        "schema": {"type": ["string", "null"]},
        "description": "Comma-separated statuses meaning accepted, not settled yet. Empty: CREATED,PENDING,PROCESSING.",
        "placeholder": "CREATED,PENDING,PROCESSING",
    },
    "resend_quiet_period": {
        "label": "Resend quiet period (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 0},
        "description": (
            "Seconds after a load with an unclear outcome before it may be resent, and only after two "
            "spaced look-ups found it absent. Empty: 900 (15 minutes); operators may override it."
        ),
        "placeholder": "900",
    },
}

# Extras read from the connection's Extra JSON only, not shown as form fields, and why.
CODE_ONLY_EXTRAS: dict[str, str] = {
    "paths": "a JSON object of per-operation path overrides",
    "connect_timeout": "tuning: connect timeout, seconds (default 10)",
    "refresh_leeway": "tuning: seconds before token expiry to refresh (default 60)",
    "max_retries": "tuning: extra attempts of read calls (default 4)",
    "max_retry_wait": "tuning: cap on one retry wait, seconds (default 30)",
    "load_lookup_delay": "tuning: seconds before looking an unclear load up (default 2)",
    "request_date_format": "an API unknown the probe settles (default millis)",
    "response_timezone": "an API unknown the probe settles (default Asia/Kolkata)",
    "max_load_amount": "a guard: largest load per call, rupees (default 1 crore)",
    "reference_max_length": "a guard: longest load reference, characters (default 64)",
}


def _conn_field(spec: dict[str, Any]) -> dict[str, Any]:
    """One ``conn-fields`` entry.

    Airflow 3.3's form shows no placeholder for extra fields (``placeholders`` reach only the
    standard fields), so the description carries an example, and ``examples`` become the
    suggestions of a text field where picking one is a sensible choice.
    """
    schema = dict(spec["schema"], **({"examples": spec["examples"]} if "examples" in spec else {}))
    return {"label": spec["label"], "schema": schema, "description": spec["description"]}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata: connection type, its form, and the modules it ships."""
    return {
        "package-name": "airflow-provider-enkash",
        "name": "EnKash",
        "description": "EnKash Prepaid Card APIs: cards, card loads, transactions and exports.",
        "versions": ["0.1.0"],
        "documentation-url": DOCUMENTATION_URL,
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
                    "airflow_provider_enkash.operators.card_issue",
                    "airflow_provider_enkash.operators.cards",
                    "airflow_provider_enkash.operators.card_reads",
                    "airflow_provider_enkash.operators.transaction_lookups",
                    "airflow_provider_enkash.operators.loads",
                    "airflow_provider_enkash.operators.batch_load",
                    "airflow_provider_enkash.operators.batch_report",
                    "airflow_provider_enkash.transfers.enkash_to_sql",
                    "airflow_provider_enkash.transfers.enkash_to_storage",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "EnKash",
                "python-modules": ["airflow_provider_enkash.sensors.transactions"],
            },
        ],
        "triggers": [
            {
                "integration-name": "EnKash",
                "python-modules": ["airflow_provider_enkash.triggers.transactions"],
            },
        ],
        "config": CONFIG,  # the [enkash] triggerer settings
        "extra-links": [
            "airflow_provider_enkash.operators.links.EnKashLedgerLink",
            "airflow_provider_enkash.operators.links.EnKashExportDestinationLink",
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
                    "placeholders": {
                        "host": "https://pay-uat.enkash.in",
                        "login": "10-digit mobile number",
                        "password": "partner password issued by EnKash",
                        "description": "e.g. EnKash UAT, payroll card account",
                        **{name: spec["placeholder"] for name, spec in CONNECTION_EXTRA_FIELDS.items()},
                    },
                },
                "conn-fields": {name: _conn_field(spec) for name, spec in CONNECTION_EXTRA_FIELDS.items()},
            }
        ],
    }
