"""SandboxConfig: every knob of the sandbox, with the defaults it picks for unknown API behaviour.

Each field's ``help`` metadata doubles as its CLI help (``--field-name``).
Fields in ``RUNTIME_FIELDS`` can also be changed while it runs
(``POST /_sandbox/config``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_enkash.sandbox.api_spec import ENDPOINTS
from airflow_provider_enkash.sandbox.faults import FaultRule

KEY_DERIVATIONS = ("sha256", "sha1", "raw")
ENVELOPE_STYLES = ("code", "response_code")
TIMESTAMP_FORMATS = ("enkash", "enkash_utc", "iso")
DUPLICATE_POLICIES = ("apply", "reject", "return_original")
RECORDS_COUNT_MODES = ("total", "returned")
BASIC_AUTH_MODES = ("client", "empty", "none")
REQUEST_DATE_FORMATS = ("millis", "seconds", "any")
CARD_DETAILS_SHAPES = ("list", "object")
OTP_REPLIES = ("object", "string")
ECHOED_REFERENCES = ("sent", "own")
REFERENCE_FIELDS = ("pgReferenceNumber", "uniqueReferenceNumber", "referenceNumber")
_COMPANY_ID = re.compile(r"^CEK[A-Z0-9]{7}$")


def _opt(default: Any, text: str, **kwargs: Any) -> Any:
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": text, **kwargs})
    return field(default=default, metadata={"help": text, **kwargs})


@dataclass(frozen=True)
class SandboxConfig:
    """Configuration of one sandbox; immutable, change it with ``dataclasses.replace``."""

    host: str = _opt("127.0.0.1", "address to bind: a loopback address unless --allow-remote")
    port: int = _opt(0, "TCP port; 0 picks a free port (the CLI defaults to 8765)")
    allow_remote: bool = _opt(
        False,
        "allow a non-loopback --host; the admin API serves every secret, so for testing only, never production",
    )
    max_connections: int = _opt(256, "most client connections open at once; more are answered 503 and closed")
    max_body_bytes: int = _opt(
        1_048_576, "largest request body (Content-Length) accepted, bytes; larger is 413"
    )
    client_id: str = _opt("CEKSANDBOX", "OAuth client id (Basic auth user, clientId form field)")
    client_secret: str = _opt(
        "sandbox-client-secret", "client secret: Basic auth password and AES key source"
    )
    username: str = _opt("9999999999", "partner username (mobile) for the password grant")
    password: str = _opt("sandbox-password", "partner password for the password grant")
    partner_id: str = _opt("CRSANDBOX", "required value of the partnerId header")
    company_id: str = _opt("CEKSANDBOX", "the company that owns the card accounts")
    company_name: str = _opt("Sandbox Company Pvt Ltd", "the company's name")
    card_account_id: str = _opt("CASANDBOX1", "default RELOADABLE_GPR card account id")
    card_account_balance: Decimal = _opt(
        Decimal("10000000.00"), "opening balance of the reloadable account, rupees"
    )
    gift_account_id: str = _opt("CAGIFT0001", "GIFT card account id")
    gift_account_balance: Decimal = _opt(Decimal("1000000.00"), "opening balance of the gift account, rupees")
    basic_auth: str = _opt(
        "client",
        "Basic credentials the token call must carry: client (id:secret), empty (Og==) or none",
        runtime=True,
    )
    key_derivation: str = _opt("sha256", f"AES key derivation from the secret: {', '.join(KEY_DERIVATIONS)}")
    token_lifetime_s: float = _opt(86399.0, "access token lifetime, seconds (expires_in)", runtime=True)
    request_date_format: str = _opt(
        "millis",
        "txnDateFrom/To accepted: millis (2025-01-24T08:47:01.505Z), seconds (...:01Z) or any ISO-8601",
        runtime=True,
    )
    card_otp_actions: str = _opt(
        "TRANSACTION_OTP", "comma-separated cardOtpAction values accepted", runtime=True
    )
    card_details_shape: str = _opt(
        "list",
        "get_card_details for one card: list ({recordsCount, data}) or object (the card itself)",
        runtime=True,
    )
    otp_reply: str = _opt(
        "object", 'generate_card_otp payload: object ({"otpRequestId": ...}) or string (the id)', runtime=True
    )
    echoed_reference: str = _opt(
        "sent",
        "pgReferenceNumber in a load's answer: sent (the uniqueReferenceNumber) or own (an EnKash id)",
        runtime=True,
    )
    string_payloads: str = _opt(
        "",
        'comma-separated operations answering code 0 with payload "Success" instead of their data',
        runtime=True,
    )
    strict_fields: bool = _opt(
        False, "refuse (400) request fields the docs do not list for the operation", runtime=True
    )
    details_without_card: bool = _opt(
        False,
        "accept Get Transaction Details (a pgReferenceNumber on /transaction/all) without enKashCardId, "
        "as the search filter it shares its path with would; the docs require the card",
        runtime=True,
    )
    max_failed_logins: int = _opt(3, "consecutive wrong passwords that lock the user")
    accept_plaintext_requests: bool = _opt(False, "also accept unencrypted JSON request bodies", runtime=True)
    plaintext_responses: bool = _opt(
        False, 'answer with plaintext JSON instead of {"request": ...}', runtime=True
    )
    envelope_style: str = _opt("code", "response keys: code (code/message) or response_code", runtime=True)
    envelope_overrides: dict[str, str] = _opt(
        {"get_card_account_details": "response_code"}, "per-operation envelope style (OP=STYLE)", runtime=True
    )
    timestamp_format: str = _opt(
        "enkash",
        "enkash ('Jan 23, 2025 4:38:36 PM', IST), enkash_utc (same format, UTC) or iso (UTC)",
        runtime=True,
    )
    echo_otp: bool = _opt(True, "return the generated OTP in the generate_card_otp payload", runtime=True)
    verbose_errors: bool = _opt(
        False,
        "repeat a rejected OTP and the card's number and CVV in error messages, as a careless API might",
        runtime=True,
    )
    duplicate_references: str = _opt(
        "apply",
        "a repeated uniqueReferenceNumber: apply again, reject (code 1) or return_original",
        runtime=True,
    )
    settle_delay_s: float = _opt(
        2.0, "seconds a new transaction stays CREATED before it settles", runtime=True
    )
    failure_rate: float = _opt(
        0.0, "share of loads that settle FAILED (money returns to the account)", runtime=True
    )
    late_change_rate: float = _opt(0.0, "share of settled loads that later turn REVERSED", runtime=True)
    late_change_delay_s: float = _opt(60.0, "seconds after settling that a late change happens", runtime=True)
    max_records: int = _opt(
        1000, "most records one search response returns (silently truncated)", runtime=True
    )
    records_count: str = _opt("total", "recordsCount: total matches or the returned count", runtime=True)
    date_to_inclusive: bool = _opt(False, "treat txnDateTo as inclusive (default exclusive)", runtime=True)
    ignore_paging: bool = _opt(
        False, "ignore page/size in searches, as an API without paging would", runtime=True
    )
    search_lag_s: float = _opt(
        0.0,
        "seconds a new transaction stays invisible to the transaction search (eventual consistency)",
        runtime=True,
    )
    ignore_search_filters: bool = _opt(
        False,
        "searches ignore every filter but the account: the account's rows, up to max_records",
        runtime=True,
    )
    ignore_transaction_ids: bool = _opt(
        False,
        "searches ignore the multi-id filter enKashTransactionIds (enKashTransactionId still applies)",
        runtime=True,
    )
    reference_field: str = _opt(
        "pgReferenceNumber",
        f"the record field carrying a load's reference: {', '.join(REFERENCE_FIELDS)}",
        runtime=True,
    )
    status_words: dict[str, str] = _opt(
        {},
        "statuses renamed in responses and filters (WORD=OTHER, e.g. SUCCESS=SUCCESSFUL FAILED=FAILURE)",
        runtime=True,
    )
    seed_cards: int = _opt(0, "cards to create at start in the reloadable account")
    seed_transactions: int = _opt(0, "settled historical transactions to create at start")
    days: float = _opt(30.0, "days the seeded transactions are spread over")
    seed_end: datetime | None = _opt(None, "end of the seeded period, ISO-8601 (default: now)")
    random_seed: int = _opt(0, "seed of every random choice (ids, seeding, lifecycle, faults)")
    faults: tuple[FaultRule, ...] = _opt((), "fault rules active from the start (JSON or key=value,...)")

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("card_account_balance", "gift_account_balance"):
            set_(self, name, _money(name, getattr(self, name)))
        set_(
            self,
            "faults",
            tuple(f if isinstance(f, FaultRule) else FaultRule.from_dict(f) for f in self.faults),
        )
        set_(self, "envelope_overrides", dict(self.envelope_overrides))
        set_(self, "status_words", {str(k): str(v) for k, v in dict(self.status_words).items()})
        set_(self, "search_lag_s", float(self.search_lag_s))
        if isinstance(self.seed_end, str):
            set_(self, "seed_end", datetime.fromisoformat(self.seed_end.replace("Z", "+00:00")))
        self._check()

    def _check(self) -> None:
        _one_of("envelope_style", self.envelope_style, ENVELOPE_STYLES)
        _one_of("timestamp_format", self.timestamp_format, TIMESTAMP_FORMATS)
        _one_of("duplicate_references", self.duplicate_references, DUPLICATE_POLICIES)
        _one_of("records_count", self.records_count, RECORDS_COUNT_MODES)
        _one_of("key_derivation", self.key_derivation, KEY_DERIVATIONS)
        _one_of("basic_auth", self.basic_auth, BASIC_AUTH_MODES)
        _one_of("request_date_format", self.request_date_format, REQUEST_DATE_FORMATS)
        _one_of("card_details_shape", self.card_details_shape, CARD_DETAILS_SHAPES)
        _one_of("otp_reply", self.otp_reply, OTP_REPLIES)
        _one_of("echoed_reference", self.echoed_reference, ECHOED_REFERENCES)
        for op in filter(None, (name.strip() for name in self.string_payloads.split(","))):
            _one_of("string_payloads operation", op, tuple(ENDPOINTS))
        _one_of("reference_field", self.reference_field, REFERENCE_FIELDS)
        if len(set(self.status_words.values())) != len(self.status_words):
            raise ValueError("status_words: two statuses renamed to the same word")
        for op, style in self.envelope_overrides.items():
            _one_of("envelope_overrides operation", op, tuple(ENDPOINTS))
            _one_of(f"envelope_overrides[{op}]", style, ENVELOPE_STYLES)
        for name in ("failure_rate", "late_change_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be between 0 and 1, got {getattr(self, name)!r}")
        for name in ("token_lifetime_s", "settle_delay_s", "late_change_delay_s", "days", "search_lag_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)!r}")
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"host: {self.host!r} is not a loopback address; the sandbox's admin API serves its secrets. "
                "Give allow_remote (--allow-remote) to bind it anyway: for testing only, never production"
            )
        for name in ("max_records", "max_failed_logins", "max_connections", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)!r}")
        for name in ("seed_cards", "seed_transactions", "port"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)!r}")
        if not _COMPANY_ID.fullmatch(self.company_id):
            raise ValueError(f"company_id: {self.company_id!r} must be CEK + 7 upper-case letters or digits")
        if self.card_account_id == self.gift_account_id:
            raise ValueError("gift_account_id: must differ from card_account_id")
        if self.seed_end is not None:
            if self.seed_end.tzinfo is None:
                raise ValueError("seed_end: must carry a time zone (e.g. ...Z)")
            if self.seed_end > datetime.now(UTC):
                raise ValueError("seed_end: must not be in the future")

    def updated(self, changes: Mapping[str, Any]) -> SandboxConfig:
        """A copy with run-time ``changes`` applied; raise ValueError naming a field that cannot change."""
        fixed = sorted(set(changes) - RUNTIME_FIELDS)
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)}: cannot change at run time; changeable: {sorted(RUNTIME_FIELDS)}"
            )
        return replace(self, **changes)

    def runtime_view(self) -> dict[str, Any]:
        """The run-time fields as JSON-ready values."""
        return {name: getattr(self, name) for name in sorted(RUNTIME_FIELDS)}


RUNTIME_FIELDS = frozenset(f.name for f in fields(SandboxConfig) if f.metadata.get("runtime"))


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``), with or without ``[]``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")


def _money(name: str, value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name}: {value!r} is not an amount in rupees") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{name}: {value!r} must be >= 0 with at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))
