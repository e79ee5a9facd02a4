"""Where a card secret (PIN, OTP, MFA code) is read from, so its value never passes through a DAG file.

A source is named by a short, non-secret string:

``variable:<key>``
    the Airflow Variable ``<key>``. Airflow serves Variables from the configured
    secrets backend first (Vault, AWS Secrets Manager, ...), then environment
    variables (``AIRFLOW_VAR_<KEY>``), then the metadata DB, so this is also
    how a secrets-backend key is named.
``connection:<conn_id>``
    the password of the Airflow connection ``<conn_id>``.
``connection:<conn_id>#<extra_field>``
    the extra field ``<extra_field>`` of that connection (e.g. one PIN per card id).

The value is handed to Airflow's log masker the moment it is read (unless it is
shorter than Airflow can mask, see :func:`~airflow_provider_enkash.card_data.mask_value`);
it is never templated, logged, or returned in XCom.

Name the Variable so that Airflow hides it in Admin > Variables: a key containing
``secret``, ``password`` or ``token`` (e.g. ``variable:card_pin_secret``) is shown as
``***``; a key such as ``payroll_pin`` is shown in clear. Better still, keep PINs in a
secrets backend (Vault, AWS Secrets Manager, GCP Secret Manager, ...) rather than the
metadata DB: ``variable:<key>`` reads the backend first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from airflow.sdk import Connection, Variable
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_enkash.card_data import mask_value, short_secret_warning_silenced
from airflow_provider_enkash.exceptions import EnKashConfigError, EnKashValidationError

_KINDS = ("variable", "connection")


@dataclass(frozen=True)
class SecretSource:
    """A parsed secret source; ``str()`` gives back the (non-secret) spec.

    :param kind: ``variable`` or ``connection``.
    :param key: the Variable key or the connection id.
    :param extra_field: for a connection, the extra field holding the value (None: the password).
    """

    kind: Literal["variable", "connection"]
    key: str
    extra_field: str | None = None

    @classmethod
    def parse(cls, spec: object, *, field: str) -> SecretSource:
        """Parse ``spec``; ``field`` names the operator argument in errors (e.g. ``pin_source``)."""
        if isinstance(spec, SecretSource):
            return spec
        if not isinstance(spec, str) or ":" not in spec:
            raise EnKashValidationError(
                field,
                "must be 'variable:<key>', 'connection:<conn_id>' or 'connection:<conn_id>#<extra_field>'",
            )
        if "{{" in spec or "{%" in spec:
            raise EnKashValidationError(
                field,
                "is not templated: name the Variable or connection, never render the secret into a template",
            )
        kind, _, rest = spec.partition(":")
        key, _, extra_field = rest.partition("#")
        if kind not in _KINDS:
            raise EnKashValidationError(field, f"source kind {kind!r} is not one of {', '.join(_KINDS)}")
        if (
            not key.strip()
            or (kind == "variable" and "#" in rest)
            or ("#" in rest and not extra_field.strip())
        ):
            raise EnKashValidationError(
                field, f"{spec!r} names no key (rule: 'variable:<key>' or 'connection:<id>[#<field>]')"
            )
        return cls(kind=kind, key=key.strip(), extra_field=extra_field.strip() or None)  # type: ignore[arg-type]

    def __str__(self) -> str:
        suffix = f"#{self.extra_field}" if self.extra_field else ""
        return f"{self.kind}:{self.key}{suffix}"

    def read(self) -> str:
        """The secret's value, already registered with the log masker when long enough to be masked.

        :raises EnKashConfigError: the Variable, connection or field does not exist or is empty
            (the message names the source, never a value).
        """
        with short_secret_warning_silenced():
            value = self._lookup()
        if not isinstance(value, str) or not value.strip():
            raise EnKashConfigError(f"secret source {self} is missing, empty or not a string")
        value = value.strip()
        mask_value(value)
        return value

    def _lookup(self) -> object:
        if self.kind == "variable":
            return Variable.get(self.key, default=None)
        try:
            conn = Connection.get(self.key)
        except AirflowNotFoundException:
            raise EnKashConfigError(f"secret source {self}: connection {self.key!r} is not defined") from None
        if self.extra_field is None:
            return conn.password
        return conn.extra_dejson.get(self.extra_field)
