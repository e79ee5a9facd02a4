"""EnKash connection settings: what the hook needs from an ``enkash`` connection, checked once.

Parsed from an Airflow connection by :func:`~airflow_provider_enkash._client.extras.settings_from_connection`.
A whole connection fits in one ``AIRFLOW_CONN_ENKASH_DEFAULT`` JSON value::

    {"conn_type": "enkash", "host": "https://pay-uat.enkash.in",
     "login": "<partner mobile>", "password": "<partner password>",
     "extra": {"client_id": "CEK...", "client_secret": "...", "partner_id": "CR...",
               "company_id": "CEK...", "card_account_id": "CA..."}}
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from airflow_provider_enkash._client.operations import OPERATIONS
from airflow_provider_enkash.statuses import StatusSets

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_TOKEN_LEEWAY_S = 60.0
BASIC_AUTH_MODES = ("client", "empty", "none")
REQUEST_DATE_FORMATS = ("millis", "seconds")
DEFAULT_MAX_LOAD_AMOUNT = Decimal("10000000.00")  # 1 crore rupees per call: our guess, EnKash documents none
DEFAULT_REFERENCE_MAX_LENGTH = 64  # our guess for uniqueReferenceNumber: EnKash documents no limit
DEFAULT_RESPONSE_TIMEZONE = "Asia/Kolkata"  # zone of the zoneless 'Jan 23, 2025 4:38:36 PM' timestamps

DEFAULT_REFERENCE_FIELDS = ("pgReferenceNumber", "uniqueReferenceNumber")
DEFAULT_SEARCH_CAP = 1000
MIN_SPAN = timedelta(milliseconds=1)  # search windows: requests carry milliseconds, the smallest there is
MAX_SPAN = timedelta(days=1)  # the widest search window the reader asks for
# Why 15 minutes: EnKash documents neither de-duplication nor how long a queued or lagging credit
# can take to show in the search; a gateway timeout plus a retrying backend queue is commonly
# minutes, and an extra quarter hour on an already-failed payroll row costs far less than paying twice.
DEFAULT_RESEND_QUIET_PERIOD_S = 900.0


@dataclass(frozen=True)
class EnKashSettings:
    """Everything the hook needs from the connection; secrets stay out of ``repr``.

    :param read_timeout_s: longest wait for data from EnKash, per wait, not per answer (default 60 s).
    :param connect_timeout_s: seconds to open a connection (default 10).
    :param token_url: the OAuth token URL, from the extra ``auth_url``.
    :param token_leeway_s: from the extra ``refresh_leeway``: refresh the token this many seconds before it expires (default 60).
    :param max_retries: extra attempts for read calls after the first (default 4).
    :param max_retry_wait_s: cap on one backoff or Retry-After wait, seconds (default 30).
    :param load_lookup_delay_s: pause before looking a load up after an unclear outcome (default 2).
    :param basic_auth: Basic credentials of the token call: ``client`` (``client_id:client_secret``,
        default), ``empty`` (``Og==``, the portal's example) or ``none`` (no Authorization header).
    :param max_load_amount: largest load per call, rupees (default 1 crore, 10000000.00).
    :param reference_max_length: longest ``uniqueReferenceNumber`` accepted, characters (default 64).
    :param request_date_format: ``millis`` (``2025-01-24T08:47:01.505Z``, documented, default) or
        ``seconds`` (``2025-01-24T08:47:01Z``) for ``txnDateFrom``/``txnDateTo``.
    :param response_timezone: IANA zone of zoneless response timestamps (default ``Asia/Kolkata``).
    :param reference_fields: record fields that may carry a load's reference, in order
        (default ``pgReferenceNumber``, ``uniqueReferenceNumber``).
    :param search_cap: records per search response at which an answer is taken as possibly
        truncated (default 1000).
    :param statuses: the success, failure and pending status words (extras ``success_statuses``,
        ``failure_statuses``, ``pending_statuses``; defaults in ``statuses.py``).
    :param resend_quiet_period_s: seconds after an unclear send before the reference may be
        resent (default 900; see docs/money-safety.md).
    """

    base_url: str
    token_url: str
    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    partner_id: str
    company_id: str | None
    card_account_id: str | None
    encrypt_requests: bool = True
    key_derivation: str = "sha256"
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    verify: bool | str = True
    allow_insecure_http: bool = False
    paths: dict[str, str] = field(default_factory=dict)
    token_leeway_s: float = DEFAULT_TOKEN_LEEWAY_S
    max_retries: int = 4
    max_retry_wait_s: float = 30.0
    load_lookup_delay_s: float = 2.0
    basic_auth: str = "client"
    max_load_amount: Decimal = DEFAULT_MAX_LOAD_AMOUNT
    reference_max_length: int = DEFAULT_REFERENCE_MAX_LENGTH
    request_date_format: str = "millis"
    response_timezone: str = DEFAULT_RESPONSE_TIMEZONE
    reference_fields: tuple[str, ...] = DEFAULT_REFERENCE_FIELDS
    search_cap: int = DEFAULT_SEARCH_CAP
    statuses: StatusSets = field(default_factory=StatusSets)
    resend_quiet_period_s: float = DEFAULT_RESEND_QUIET_PERIOD_S

    def token_auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the token call for the ``basic_auth`` mode (empty for ``none``)."""
        if self.basic_auth == "none":
            return {}
        pair = ":" if self.basic_auth == "empty" else f"{self.client_id}:{self.client_secret}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}

    def url_for(self, operation: str) -> str:
        """Absolute URL of ``operation`` (a key of ``OPERATIONS``), honouring the ``paths`` extra."""
        return self.base_url + self.paths.get(operation, OPERATIONS[operation].path)
