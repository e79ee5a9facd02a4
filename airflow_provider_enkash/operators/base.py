"""The small base every EnKash operator shares: the hook, the resend rule, and a safe XCom value."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_provider_enkash.card_data import json_safe, mask_card_data, scrub
from airflow_provider_enkash.exceptions import EnKashError, EnKashWriteOutcomeUnknown, may_have_taken_effect
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.models import check_bool
from airflow_provider_enkash.operations import OPERATIONS, OperationKind
from airflow_provider_enkash.secret_source import SecretSource

if TYPE_CHECKING:
    from airflow.sdk import Context


ACCOUNT_FIELDS = ("company_id", "card_account_id")
CARD_FIELDS = ("enkash_card_id", *ACCOUNT_FIELDS)


def read_secret(source: SecretSource | None) -> str | None:
    """The secret behind ``source`` (masked as it is read), or None."""
    return None if source is None else source.read()


def optional_secret_source(spec: Any, *, field: str) -> SecretSource | None:
    """Parse a secret-source spec such as ``variable:card_pin``; None passes through."""
    return None if spec is None else SecretSource.parse(spec, field=field)


def pick(response: Any, **fields: str) -> dict[str, Any]:
    """``{our_name: response[api_name]}`` for each ``our_name=api_name`` (None when absent)."""
    source = response if isinstance(response, Mapping) else {}
    return {name: source.get(api_name) for name, api_name in fields.items()}


def api_result(response: Any) -> str | None:
    """The API's one-word result (``"Success"``) of actions whose payload is a string."""
    return response if isinstance(response, str) else None


def card_status_label(response: Any) -> str | None:
    """A card response's ``cardStatus`` (its ``label`` when the API sends an object)."""
    status = response.get("cardStatus") if isinstance(response, dict) else None
    return status.get("label") if isinstance(status, dict) else status


class EnKashBaseOperator(BaseOperator):
    """Calls one EnKash operation through :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook`.

    Subclasses set ``operation`` and implement :meth:`call_enkash` (one hook method call;
    the hook validates every argument before any network call) and :meth:`summarise`
    (the small XCom dict). The base registers every card secret in the response with the
    log masker, removes them from the XCom value unless ``include_sensitive=True``, turns
    ``Decimal`` amounts into strings, and never lets Airflow resend a state-changing call
    whose outcome is unclear (:class:`EnKashWriteOutcomeUnknown`).

    :param enkash_conn_id: Airflow connection of type ``enkash`` (default ``enkash_default``);
        its ``company_id``/``card_account_id`` extras are the defaults of those arguments.
    :param include_sensitive: keep the full card number, CVV, expiry, OTP, PIN and card token
        in the XCom value (default False). They are masked in logs either way.
    """

    operation: ClassVar[str]
    ui_color = "#dbe9f9"

    def __init__(
        self,
        *,
        enkash_conn_id: str = EnKashHook.default_conn_name,
        include_sensitive: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_conn_id = enkash_conn_id
        self.include_sensitive = check_bool(include_sensitive, field="include_sensitive")

    @cached_property
    def hook(self) -> EnKashHook:
        """The EnKash hook of ``enkash_conn_id`` (created on first use; no network)."""
        return EnKashHook(enkash_conn_id=self.enkash_conn_id)

    def call_enkash(self, context: Context) -> Any:
        """Make the one hook call of this operator and return its result."""
        raise NotImplementedError

    def summarise(self, response: Any) -> dict[str, Any]:
        """The XCom value: ids and statuses the next task needs, from the (scrubbed) response."""
        raise NotImplementedError

    def unsettled_reference(self) -> str | None:
        """What to look up after an unclear write (the card id for card actions; None by default)."""
        return getattr(self, "enkash_card_id", None)

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            response = self.call_enkash(context)
        except EnKashError as exc:
            if OPERATIONS[self.operation].kind is OperationKind.WRITE and may_have_taken_effect(exc):
                reference = self.unsettled_reference()
                raise EnKashWriteOutcomeUnknown(
                    f"{self.operation} may have taken effect at EnKash ({exc}); not resent and not retried. "
                    "Check the outcome with a read operator before running this task again"
                    + (f" (look up {reference})." if reference else "."),
                    reference=reference,
                    operation=self.operation,
                ) from exc
            raise
        mask_card_data(response)
        visible = response if self.include_sensitive else scrub(response)
        self.log.info("EnKash %s succeeded", self.operation)
        summary: dict[str, Any] = json_safe(self.summarise(visible))
        return summary


class EnKashCardOperator(EnKashBaseOperator):
    """An operator acting on one card (``enkash_card_id``) of a card account."""

    def __init__(
        self,
        *,
        enkash_card_id: str,
        company_id: str | None = None,
        card_account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.enkash_card_id = enkash_card_id
        self.company_id = company_id
        self.card_account_id = card_account_id

    def _card(self) -> dict[str, Any]:
        return {
            "enkash_card_id": self.enkash_card_id,
            "company_id": self.company_id,
            "card_account_id": self.card_account_id,
        }
