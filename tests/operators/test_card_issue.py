"""The issuing operators (card account, prepaid card, gift card) against the sandbox."""

from __future__ import annotations

import json
from decimal import Decimal

from airflow_provider_enkash.operators import card_issue, cards
from airflow_provider_enkash.operators.card_issue import (
    EnKashCreateCardAccountOperator,
    EnKashCreateGiftCardOperator,
    EnKashCreatePrepaidCardOperator,
)
from tests.operators.helpers import admin_card, run


def test_issuing_operators_keep_their_old_import_path():
    for name in (
        "EnKashCreateCardAccountOperator",
        "EnKashCreatePrepaidCardOperator",
        "EnKashCreateGiftCardOperator",
    ):
        assert getattr(cards, name) is getattr(card_issue, name)
        assert name in cards.__all__


def test_create_card_account(sandbox):
    out = run(
        EnKashCreateCardAccountOperator(
            task_id="account",
            company_name="Acme Foods",
            plan_master_id="PMGAZ7L5A",
            admin_email="ops@acme.example",
            mobile="9876543210",
            account_title="Meal cards",
            account_type="MEAL",
        )
    )
    assert out["company_id"] == "CEKSANDBOX" and out["account_type"] == "MEAL"
    assert sandbox.get("accounts")[out["card_account_id"]]["account_type"] == "MEAL"
    json.dumps(out)


def test_create_prepaid_card_with_load_amount_moves_exact_money(sandbox):
    before = Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"])
    out = run(
        EnKashCreatePrepaidCardOperator(
            task_id="card",
            card_holder={
                "first_name": "Ravi",
                "last_name": "Kumar",
                "mobile": "9123456780",
                "email": "ravi@acme.example",
            },
            load_amount=Decimal("150.25"),
        )
    )
    assert out["enkash_card_id"].startswith("EKC")
    assert out["card_account_id"] == "CASANDBOX1"
    assert out["masked_number"].startswith("XXXX")
    assert (
        Decimal(out["otb_balance"]) == Decimal("150.25")
        and out["card_status"] == "ACTIVE"
        and out["is_gift_card"] is False
    )
    assert Decimal(sandbox.get("accounts")["CASANDBOX1"]["balance"]) == before - Decimal("150.25")
    assert admin_card(sandbox, out["enkash_card_id"])["balance"] == "150.25"
    json.dumps(out)


def test_create_gift_card_under_the_gift_account(sandbox):
    out = run(
        EnKashCreateGiftCardOperator(
            task_id="gift",
            card_holder={"first_name": "Meera"},
            load_amount="500",
            card_account_id="CAGIFT0001",
        )
    )
    assert out["is_gift_card"] is True and out["card_account_id"] == "CAGIFT0001"
    assert admin_card(sandbox, out["enkash_card_id"])["card_type"] == "GIFT"
    assert admin_card(sandbox, out["enkash_card_id"])["balance"] == "500.00"
