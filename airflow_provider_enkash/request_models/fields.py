"""The request model base class and the reusable field types of the EnKash request models.

A field is declared under its API name (``enKashCardId``) with the hook's snake_case argument as
its alias (``enkash_card_id``); its type says how it is checked (``CardId``, ``Amount``, ...),
through the one set of checks in :mod:`~airflow_provider_enkash.request_models.validators`.
A field typed ``X | None`` skips the check when None and is not sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, cast

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, ValidationInfo

from airflow_provider_enkash._client.timestamps import format_txn_date
from airflow_provider_enkash.card_data import mask_value
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models import validators as v
from airflow_provider_enkash.request_models.vocabularies import (
    AccountType,
    BlockCode,
    CardOtpAction,
    CardTransactionType,
    Gender,
    OtpMedium,
    Title,
)

if TYPE_CHECKING:
    from airflow_provider_enkash._client.settings import EnKashSettings


class RequestModel(BaseModel):
    """The checked request fields of one EnKash operation; build with :meth:`build`, send :meth:`payload`.

    Frozen, unknown arguments refused, the schema built on first use (not at DAG parse).
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True, validate_by_name=False
    )
    operation: ClassVar[str]

    @classmethod
    def build(cls, settings: EnKashSettings, **arguments: Any) -> Self:
        """The model of the hook method's snake_case ``arguments``; ``settings`` gives the connection's
        defaults and limits. Raises ``EnKashValidationError`` naming the first bad API field."""
        try:
            return cls.model_validate(arguments, context=settings)
        except ValidationError as exc:
            raise _refusal(cls, exc) from None

    def payload(self) -> dict[str, Any]:
        """The request fields by API name, unset (None) fields left out."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


def _refusal(model: type[RequestModel], exc: ValidationError) -> EnKashValidationError:
    """The first error as ``EnKashValidationError``; pydantic's own message (which may carry the
    input, e.g. a PIN) is never used."""
    error = exc.errors(include_url=False, include_input=False)[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, EnKashValidationError):
        return cause
    name = str(error["loc"][0]) if error["loc"] else model.__name__
    api_names = {str(f.alias): api for api, f in model.model_fields.items()}
    if error["type"] == "extra_forbidden":
        return EnKashValidationError(name, f"is not a known field; known: {', '.join(sorted(api_names))}")
    if error["type"] == "missing":
        return EnKashValidationError(api_names.get(name, name), f"is required (argument {name})")
    return EnKashValidationError(name, f"is invalid ({error['type']})")


def checked(check: Callable[..., Any], **options: Any) -> PlainValidator:
    """A pydantic validator calling ``check(value, field=<API name>, **options)``."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        return check(value, field=_name(info), **options)

    return PlainValidator(validate)


def _settings(info: ValidationInfo) -> EnKashSettings:
    """The connection's settings, passed by :meth:`RequestModel.build` as the validation context."""
    return cast("EnKashSettings", info.context)


def _name(info: ValidationInfo) -> str:
    """The API name of the field being checked (models declare fields under their API names)."""
    return str(info.field_name)


def _secret(check: Callable[..., str], *, mask_text_only: bool = False) -> PlainValidator:
    """A secret (PIN, OTP, MFA code): masked in logs the moment it arrives, then checked (never echoed)."""

    def validate(value: Any, info: ValidationInfo) -> str:
        if isinstance(value, str) or not mask_text_only:
            mask_value(str(value))
        return check(value, field=_name(info))

    return PlainValidator(validate)


def _company_id(value: Any, info: ValidationInfo) -> str:
    company = value if value is not None else _settings(info).company_id
    if company is None:
        raise EnKashValidationError("companyId", "is required: pass company_id or set the connection extra")
    return v.check_company_id(company)


def _card_account_id(value: Any, info: ValidationInfo) -> str:
    account = value if value is not None else _settings(info).card_account_id
    if account is None:
        raise EnKashValidationError(
            "cardAccountId", "is required: pass card_account_id or set the connection extra"
        )
    return v.require_id(account, field="cardAccountId")


def _load_amount(value: Any, info: ValidationInfo) -> Decimal:
    return v.parse_amount(value, field=_name(info), maximum=_settings(info).max_load_amount)


def _reference(value: Any, info: ValidationInfo) -> str:
    max_length = _settings(info).reference_max_length
    return v.require_text(value, field=_name(info), max_length=max_length)


def _txn_date(value: Any, info: ValidationInfo) -> str:
    date_format = _settings(info).request_date_format
    return format_txn_date(value, field=_name(info), date_format=date_format)


def _text_list(values: Any, info: ValidationInfo) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):  # a bare string is not a list of one
        raise EnKashValidationError(_name(info), "must be a list of texts")
    return [v.require_text(value, field=_name(info)) for value in values]


def _card_otp_action(value: Any, info: ValidationInfo) -> str:
    action = value.value if isinstance(value, CardOtpAction) else value
    return v.require_id(action, field=_name(info))


def _documents(value: Any, info: ValidationInfo) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise EnKashValidationError("documents", "must be a list of {docType, docNo} objects")
    docs = []
    for i, doc in enumerate(value):
        if not isinstance(doc, dict) or set(doc) != {"docType", "docNo"}:
            raise EnKashValidationError(f"documents[{i}]", "must be an object with exactly docType and docNo")
        docs.append(
            {
                "docType": v.require_id(doc["docType"], field=f"documents[{i}].docType"),
                "docNo": v.require_id(doc["docNo"], field=f"documents[{i}].docNo"),
            }
        )
    return docs


def clear_names(value: Any, clearable: Iterable[str]) -> tuple[str, ...]:
    """The ``clear`` argument of Set Card Usage Controls as a tuple of snake_case names, each clearable."""
    names = tuple([value] if isinstance(value, str) else value)
    allowed = sorted(clearable)
    for name in names:
        if name not in allowed:
            raise EnKashValidationError("clear", f"{name!r} is not a limit; clearable: {', '.join(allowed)}")
    return names


# -- field types ----------------------------------------------------------------------------------

CompanyId = Annotated[str, PlainValidator(_company_id)]  # argument, else the connection's; required
CardAccountId = Annotated[str, PlainValidator(_card_account_id)]  # argument, else the connection's
GivenCompanyId = Annotated[str, checked(v.check_company_id)]  # only when passed (no connection default)
Id = Annotated[str, checked(v.require_id)]
IdList = Annotated[list[str], checked(v.check_id_list)]  # 1 to 100 ids
LongIdList = Annotated[list[str], checked(v.check_id_list, max_items=1000)]
Text = Annotated[str, checked(v.require_text)]
TextList = Annotated[list[str], PlainValidator(_text_list)]
Reference = Annotated[str, PlainValidator(_reference)]  # at most the connection's reference_max_length
Mobile = Annotated[str, checked(v.check_mobile)]
Email = Annotated[str, checked(v.check_email)]
Pincode = Annotated[str, checked(v.check_pincode)]
SpecialDate = Annotated[str, checked(v.check_special_date)]
Flag = Annotated[bool, checked(v.check_bool)]
Amount = Annotated[Decimal, checked(v.parse_amount)]  # 0.01 to 1 crore rupees
LoadAmount = Annotated[Decimal, PlainValidator(_load_amount)]  # up to the connection's max_load_amount
Limit = Annotated[Decimal, checked(v.parse_amount, minimum=Decimal(0))]  # 0 and up
WholeCount = Annotated[int, checked(v.whole_count)]
TxnDate = Annotated[str, PlainValidator(_txn_date)]
Pin = Annotated[str, _secret(v.check_pin, mask_text_only=True)]
SecretCode = Annotated[str, _secret(v.check_secret_code)]
Documents = Annotated[list[dict[str, str]], PlainValidator(_documents)]
CardOtpActionName = Annotated[str, PlainValidator(_card_otp_action)]  # any identifier
BlockCodeValue = Annotated[str, checked(BlockCode.parse)]
AccountTypeValue = Annotated[str, checked(AccountType.parse)]
OtpMediumValue = Annotated[str, checked(OtpMedium.parse)]
GenderValue = Annotated[str, checked(Gender.parse)]
TitleValue = Annotated[str, checked(Title.parse)]
CardTransactionTypeValue = Annotated[str, checked(CardTransactionType.parse)]
