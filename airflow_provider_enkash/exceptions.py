"""Typed errors of the EnKash provider.

Every error derives from :class:`EnKashError` (an ``AirflowException``), so a
DAG can catch the whole family, and each subclass carries what retry logic
and the user need to decide what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from airflow.sdk.exceptions import AirflowException, AirflowFailException

REDACTED = "***"
# Patterns compiled on first use (re caches them), not when a DAG file imports this module.
# A full card number: 13 to 19 digits, optionally grouped by up to three spaces, dots, dashes or slashes.
_PAN_PATTERN = r"(?<![0-9])[0-9](?:[ ./_-]{0,3}[0-9]){12,18}(?![0-9])"
# A secret named in the text, possibly after filler words: "cvv: 123", "CVV number 835", "PIN=1234",
# "otp is 654321", "security code 835", "exp 10/2031", "valid thru 10/2031", "token: eyJ...".
_NAMED_SECRET_PATTERN = (
    r"(?i)\b(cvv2?|cvc2?|security\s+code|pin(?:block)?|otp|mfa(?:code)?|password|passwd|secret|client_secret|"
    r"access_token|token|card\s*(?:number|no)|cardnumber|exp(?:iry|ires?)?(?:\s*date)?|valid\s+(?:thru|through|till|until))\b"
    r"((?:\W{1,4}(?:number|no|code|value|is|was|date|of))*\W{1,4})"
    r"((?=[A-Za-z+/=._-]*[0-9])[A-Za-z0-9+/=._-]+)"
)


def redact(text: str, *, known: Iterable[str | None] = ()) -> str:
    """``text`` with secrets and card data replaced by ``***``.

    Replaces every ``known`` value (the password, client secret, bearer token and the PIN, OTP
    or card data of the request, however short: Airflow's masker skips short values), any 13 to
    19 digit run (a card number), and a value with a digit after a secret's name (``cvv: 123``,
    ``otp is 1234``). Known values are replaced where they stand alone, not inside longer words.
    """
    for value in sorted({v for v in known if v}, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", REDACTED, text)
    text = re.sub(_PAN_PATTERN, REDACTED, text)
    return re.sub(_NAMED_SECRET_PATTERN, lambda m: m.group(1) + m.group(2) + REDACTED, text)


class EnKashError(AirflowException):
    """Root of every error raised by this provider."""


class EnKashConfigError(EnKashError):
    """The Airflow connection (or a provider setting) is missing or invalid."""


class EnKashValidationError(EnKashError, ValueError):
    """Bad input, detected before any network call; nothing was sent.

    :param field: the offending field, as named in the API (e.g. ``amount``).
    :param problem: what is wrong with the value and which rule it breaks.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class EnKashAuthError(EnKashError):
    """The token endpoint refused the credentials.

    :param may_lock_account: True when the refusal counts towards EnKash's
        three-failed-logins lock-out, so the call must not be retried blindly.
    """

    def __init__(self, message: str, *, status: int | None = None, may_lock_account: bool = False) -> None:
        self.status = status
        self.may_lock_account = may_lock_account
        super().__init__(message)


class EnKashLoginRefused(EnKashAuthError, AirflowFailException):
    """The token endpoint refused these credentials (HTTP 400/401/403).

    Counts towards EnKash's lock-out, so it is never retried: not by the hook, not by another
    thread of the process (the refusal is remembered for these credentials) and not by Airflow
    (the task fails without retries).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, status=status, may_lock_account=True)


class EnKashHTTPError(EnKashError):
    """EnKash answered with an unexpected HTTP status.

    :param status: the HTTP status code.
    :param retry_after: seconds from a ``Retry-After`` header, when given.
    :param may_have_reached_enkash: whether the request may have been
        processed (always True once a response came back).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float | None = None,
        operation: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.operation = operation
        self.may_have_reached_enkash = True
        super().__init__(message)


class EnKashRedirectError(EnKashHTTPError):
    """EnKash answered with a redirect (3xx), which is never followed.

    A redirect would resend the credentials, the bearer token and the request to another address.
    For a write the outcome is unclear (the server may have processed the request before
    answering), so a load is settled like any other unclear load.

    :param location_host: the host (and port) the redirect pointed to; never its path or query.
    """

    def __init__(
        self, message: str, *, status: int, location_host: str | None, operation: str | None = None
    ) -> None:
        self.location_host = location_host
        super().__init__(message, status=status, operation=operation)


class EnKashRateLimitError(EnKashHTTPError):
    """HTTP 429: too many requests; ``retry_after`` says how long to wait."""


class EnKashServerError(EnKashHTTPError):
    """HTTP 5xx from EnKash."""


class EnKashConnectionError(EnKashError):
    """The request could not be completed at the transport level.

    :param may_have_reached_enkash: False when the connection failed before
        the request was sent (safe to resend); True after a read timeout or a
        dropped connection, when EnKash may have processed it.
    """

    def __init__(self, message: str, *, may_have_reached_enkash: bool, operation: str | None = None) -> None:
        self.may_have_reached_enkash = may_have_reached_enkash
        self.operation = operation
        super().__init__(message)


class EnKashBusinessError(EnKashError):
    """EnKash processed the request and refused it (``code`` != 0).

    :param code: the envelope's ``code``/``response_code``.
    :param enkash_message: the envelope's ``message``/``response_message``.
    """

    def __init__(self, *, code: object, enkash_message: str, operation: str | None = None) -> None:
        self.code = code
        enkash_message = redact(
            enkash_message
        )  # card data and named secrets; the hook also cuts known values
        self.enkash_message = enkash_message
        self.operation = operation
        where = f" on {operation}" if operation else ""
        super().__init__(f"EnKash refused the request{where}: code={code!r} message={enkash_message!r}")


class EnKashUnexpectedResponse(EnKashError):
    """EnKash answered success (code 0) with a payload of a shape the operation does not document.

    The message names the operation and the shape, never the payload itself (it may hold card data).

    :param operation: the operation that answered.
    """

    def __init__(self, message: str, *, operation: str) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}")


class EnKashCryptoError(EnKashError):
    """A body could not be encrypted or decrypted.

    The message never contains the key, the secret or any plaintext.
    """


class EnKashOutcomeUnknown(EnKashError):
    """A money-moving or state-changing request may or may not have happened.

    :param reference: what to look up to settle the outcome (for loads the
        ``uniqueReferenceNumber``, searchable as ``pgReferenceNumber``).
    """

    def __init__(self, message: str, *, reference: str | None = None, operation: str | None = None) -> None:
        self.reference = reference
        self.operation = operation
        super().__init__(message)


class EnKashWriteOutcomeUnknown(EnKashOutcomeUnknown, AirflowFailException):
    """A state-changing call failed after it may have taken effect at EnKash.

    The task fails without an Airflow retry: resending could create a second card,
    card account, replacement or physical-card order. Check with a read operator
    (``reference`` names what to look at, when known) before running it again.
    """


class EnKashTransactionFailed(EnKashError, AirflowFailException):
    """The watched transaction settled in a failure status; retrying the task cannot change that.

    :param transaction_id: the EnKash transaction id (or the reference when no id is known).
    :param status: the status EnKash reported.
    """

    def __init__(self, message: str, *, transaction_id: str | None, status: str | None) -> None:
        self.transaction_id = transaction_id
        self.status = status
        super().__init__(message)


class EnKashAmountMismatch(EnKashError, AirflowFailException):
    """The reference was found at EnKash with another amount than the one requested.

    Not settled and never "fixed" by sending the difference under the same reference: a
    human decides (e.g. load the difference under a new reference). The task fails without retries.

    :param reference: the load reference. :param requested: rupees asked for.
    :param found: rupees EnKash recorded. :param transaction_id: EnKash's transaction id.
    """

    def __init__(
        self,
        message: str,
        *,
        reference: str,
        requested: Decimal,
        found: Decimal | None,
        transaction_id: str | None,
    ) -> None:
        self.reference = reference
        self.requested = requested
        self.found = found
        self.transaction_id = transaction_id
        super().__init__(message)


class EnKashTransactionNotFound(EnKashError):
    """No transaction matched within the "not found yet" grace period."""


def may_have_taken_effect(exc: EnKashError) -> bool:
    """True when a failed request may nonetheless have been processed by EnKash.

    Refusals (business errors, 4xx, 429, auth failures) and connections that failed before the
    request left did not take effect; a dropped or timed-out connection after sending, a 5xx,
    a redirect (3xx, not followed) and a 2xx that could not be read or decrypted may have.
    """
    if isinstance(exc, EnKashConnectionError):
        return exc.may_have_reached_enkash
    if isinstance(exc, EnKashRateLimitError):
        return False
    if isinstance(exc, (EnKashServerError, EnKashRedirectError, EnKashCryptoError)):
        return True
    return isinstance(exc, EnKashHTTPError) and exc.status < 300
