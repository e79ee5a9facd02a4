"""The request models: one per operation, secrets never shown, pydantic's own messages never surfacing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_enkash._client.operations import OPERATIONS
from airflow_provider_enkash.exceptions import EnKashValidationError
from airflow_provider_enkash.request_models import cards, transactions
from airflow_provider_enkash.request_models.fields import RequestModel

CARD = "EKCAAAAAA1"
MODELS = [
    model
    for module in (cards, transactions)
    for model in vars(module).values()
    if isinstance(model, type) and issubclass(model, RequestModel) and "operation" in vars(model)
]


def test_every_model_names_a_known_operation_and_no_operation_has_two():
    operations = [model.operation for model in MODELS]
    assert len(MODELS) == 16
    assert set(operations) <= set(OPERATIONS)
    assert len(set(operations)) == len(operations)


@pytest.mark.parametrize(
    ("model", "secret_argument", "arguments"),
    [
        (cards.SetCardPin, "pin", {}),
        (cards.ViewCardDetails, "otp", {"otp_request_id": "OTPREQ1"}),
        (cards.BlockCard, "mfa_code", {"block_code": "L"}),
    ],
)
def test_secrets_are_not_in_the_repr_nor_in_a_refusal(sandbox, hook, model, secret_argument, arguments):
    good, bad = ("482913", "48 913") if secret_argument == "pin" else ("K7Q2M9", "K7Q 2M9")
    built = model.build(hook.settings, enkash_card_id=CARD, **arguments, **{secret_argument: good})
    assert good in built.payload().values()
    assert good not in repr(built) and good not in str(built)
    with pytest.raises(EnKashValidationError) as info:
        model.build(hook.settings, enkash_card_id=CARD, **arguments, **{secret_argument: bad})
    assert bad not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pydantic error chained
    assert sandbox.requests_total() == 0


def test_the_first_bad_field_in_declaration_order_is_named(hook):
    with pytest.raises(EnKashValidationError) as info:
        transactions.LoadCardBalance.build(
            hook.settings, enkash_card_id="bad id", amount="0.001", unique_reference_number=""
        )
    assert info.value.field == "enKashCardId"


def test_a_load_payload_is_decimal_and_leaves_unset_fields_out(hook):
    payload = transactions.LoadCardBalance.build(
        hook.settings, enkash_card_id=CARD, amount=1500, unique_reference_number=" R-1 "
    ).payload()
    assert payload == {
        "companyId": hook.settings.company_id,
        "cardAccountId": hook.settings.card_account_id,
        "enKashCardId": CARD,
        "amount": Decimal("1500.00"),
        "transactionType": "CR",
        "type": "LOAD_MONEY",
        "uniqueReferenceNumber": "R-1",
    }
    assert isinstance(payload["amount"], Decimal)


def test_a_missing_argument_is_named_by_its_api_field(hook):
    with pytest.raises(EnKashValidationError) as info:
        cards.CreateGiftCard.build(hook.settings, first_name="Asha")
    assert info.value.field == "loadAmount" and "load_amount" in str(info.value)


def test_a_load_is_always_a_credit(hook):
    with pytest.raises(EnKashValidationError) as info:
        transactions.LoadCardBalance.build(
            hook.settings,
            enkash_card_id=CARD,
            amount="1",
            unique_reference_number="R-1",
            transaction_type="DR",
        )
    assert info.value.field == "transaction_type"
