"""Issue 13's fidelity items at the wire: every guess about the real API is a setting, tested both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_provider_enkash.exceptions import (
    EnKashConfigError,
    EnKashHTTPError,
    EnKashLoginRefused,
    EnKashOutcomeUnknown,
    EnKashUnexpectedResponse,
    EnKashValidationError,
)
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import connection_json


def _hook(monkeypatch, sandbox_server, **extra) -> EnKashHook:
    TOKEN_CACHE.clear()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox_server, **extra))
    return EnKashHook()


def _ops(sandbox) -> dict[str, int]:
    return {k: int(v) for k, v in sandbox.get("counters")["operations"].items()}


def _card(hook: EnKashHook) -> str:
    return hook.create_prepaid_card(first_name="Asha", mobile="9876543210")["enKashCardId"]


@pytest.mark.parametrize("mode", ["client", "empty", "none"])
def test_basic_auth_mode_matching_the_server_logs_in(sandbox, sandbox_server, monkeypatch, mode):
    sandbox.post("config", {"basic_auth": mode})
    hook = _hook(monkeypatch, sandbox_server, basic_auth=mode)
    assert hook.get_card_account_details()["cardAccountId"] == "CASANDBOX1"


@pytest.mark.parametrize(("server", "client"), [("empty", "client"), ("client", "empty"), ("client", "none")])
def test_wrong_basic_auth_mode_is_refused_once_and_never_repeated(
    sandbox, sandbox_server, monkeypatch, server, client
):
    sandbox.post("config", {"basic_auth": server})
    hook = _hook(monkeypatch, sandbox_server, basic_auth=client)
    for _ in range(2):
        with pytest.raises(EnKashLoginRefused):
            hook.get_card_account_details()
    assert _ops(sandbox) == {"auth_token": 1}


def test_basic_auth_extra_is_checked(sandbox_server, monkeypatch):
    with pytest.raises(EnKashConfigError, match="basic_auth"):
        _ = _hook(monkeypatch, sandbox_server, basic_auth="anonymous").settings


def test_account_defaults_only_where_the_docs_list_them(sandbox, hook):
    """A server refusing undocumented fields accepts every call: no cardAccountId on create_card_account,
    no companyId on generate_card_otp and request_card_replacement."""
    card = _card(hook)
    sandbox.post("config", {"strict_fields": True})
    account = hook.create_card_account(
        company_name="Acme", plan_master_id="PMGAZ7L5A", email="ops@example.com", mobile="9876543210",
        account_title="Meals", account_type="MEAL",
    )  # fmt: skip
    assert account["cardAccountId"].startswith("CA")
    otp = hook.generate_card_otp(enkash_card_id=card)
    assert (
        hook.request_card_replacement(
            enkash_card_id=card, otp_required=True, otp_request_id=otp["otpRequestId"], otp=otp["otp"]
        )
        is not None
    )
    with pytest.raises(EnKashHTTPError, match="companyName"):  # the strict server does refuse extras
        hook.call("get_card_account_details", {"companyName": "Acme"})


def test_usage_limits_take_zero_and_null(sandbox, hook):
    card = _card(hook)
    hook.set_card_usage_controls(enkash_card_ids=[card], dtd=Decimal("0"), per_txn_limit="2500.00")
    limits = hook.get_card_usage_limits(enkash_card_id=card)
    assert (limits["dtd"], limits["perTxnLimit"]) == (Decimal("0"), Decimal("2500.00"))
    hook.set_card_usage_controls(enkash_card_ids=[card], clear=["dtd", "per_txn_limit"])
    limits = hook.get_card_usage_limits(enkash_card_id=card)
    assert (limits["dtd"], limits["perTxnLimit"]) == (None, None)
    with pytest.raises(EnKashValidationError, match="clear"):
        hook.set_card_usage_controls(enkash_card_ids=[card], clear=["pos_allowed"])
    with pytest.raises(EnKashValidationError, match="dtd"):
        hook.set_card_usage_controls(enkash_card_ids=[card], dtd="-1")


def test_sandbox_accepts_card_ids_as_one_string(sandbox, hook):
    card = _card(hook)
    assert hook.call("card_usage_controls", {"enKashCardIds": card, "dtd": "1220"}) == "Success"
    assert hook.get_card_usage_limits(enkash_card_id=card)["dtd"] == Decimal("1220.00")


def test_card_details_as_one_object_is_one_card(sandbox, hook):
    card = _card(hook)
    sandbox.post("config", {"card_details_shape": "object"})
    details = hook.get_card_details(enkash_card_id=card)
    assert details["recordsCount"] == 1
    assert [c["enKashCardId"] for c in details["data"]] == [card]


@pytest.mark.parametrize("operation", ["get_all_transactions", "get_card_details"])
def test_a_string_payload_where_records_are_due_is_a_typed_error(sandbox, hook, operation):
    card = _card(hook)
    sandbox.post("config", {"string_payloads": operation})
    with pytest.raises(EnKashUnexpectedResponse, match=operation):
        hook.get_all_transactions() if operation == "get_all_transactions" else hook.get_card_details(
            enkash_card_id=card
        )


def test_transaction_details_string_payload_is_a_typed_error(sandbox, hook):
    card = _card(hook)
    sandbox.post("config", {"string_payloads": "get_transaction_details"})
    with pytest.raises(EnKashUnexpectedResponse, match="get_transaction_details"):
        hook.get_transaction_details(enkash_card_id=card, pg_reference_number="REF-1")


def test_card_otp_action_takes_any_identifier(sandbox, hook):
    card = _card(hook)
    with pytest.raises(EnKashHTTPError, match="cardOtpAction"):  # the sandbox knows only the documented value
        hook.generate_card_otp(enkash_card_id=card, card_otp_action="LOGIN_OTP")
    sandbox.post("config", {"card_otp_actions": "TRANSACTION_OTP,LOGIN_OTP"})
    assert hook.generate_card_otp(enkash_card_id=card, card_otp_action="LOGIN_OTP")["otpRequestId"]
    with pytest.raises(EnKashValidationError, match="cardOtpAction"):
        hook.generate_card_otp(enkash_card_id=card, card_otp_action="LOGIN OTP")


def test_otp_request_id_as_a_bare_string_is_accepted_and_a_status_word_is_not(sandbox, hook):
    card = _card(hook)
    sandbox.post("config", {"otp_reply": "string"})
    request_id = hook.generate_card_otp(enkash_card_id=card)
    assert isinstance(request_id, str) and len(request_id) >= 4
    sandbox.post("config", {"string_payloads": "generate_card_otp"})
    with pytest.raises(EnKashUnexpectedResponse, match="generate_card_otp: expected an OTP request id"):
        hook.generate_card_otp(enkash_card_id=card)


def test_load_echoing_another_reference_is_an_unclear_outcome(sandbox, hook):
    card = _card(hook)
    sandbox.post("config", {"echoed_reference": "own"})
    with pytest.raises(EnKashOutcomeUnknown) as info:
        hook.load_card_balance(enkash_card_id=card, amount="10.00", unique_reference_number="PAY-ECHO-1")
    assert info.value.reference == "PAY-ECHO-1"
    assert "echoed another pgReferenceNumber" in str(info.value)


def test_load_maximum_and_reference_length_are_settings(sandbox, sandbox_server, monkeypatch):
    hook = _hook(monkeypatch, sandbox_server, max_load_amount="500.00", reference_max_length=8)
    card = _card(hook)
    before = sandbox.requests_total()
    with pytest.raises(EnKashValidationError, match="maximum of 500.00"):
        hook.load_card_balance(enkash_card_id=card, amount="500.01", unique_reference_number="R1")
    with pytest.raises(EnKashValidationError, match="maximum is 8"):
        hook.load_card_balance(enkash_card_id=card, amount="5", unique_reference_number="REF-123456")
    assert sandbox.requests_total() == before
    assert (
        hook.load_card_balance(enkash_card_id=card, amount="500", unique_reference_number="R1").outcome
        == "loaded"
    )


@pytest.mark.parametrize("fmt", ["millis", "seconds"])
def test_request_date_format_is_a_setting(sandbox, sandbox_server, monkeypatch, fmt):
    sandbox.post("config", {"request_date_format": fmt})
    hook = _hook(monkeypatch, sandbox_server, request_date_format=fmt)
    assert (
        hook.get_all_transactions(
            txn_date_from="2025-01-24T08:47:01.505Z", txn_date_to="2025-01-25T00:00:00Z"
        )["data"]
        == []
    )
    other = _hook(monkeypatch, sandbox_server, request_date_format="seconds" if fmt == "millis" else "millis")
    with pytest.raises(EnKashHTTPError, match="txnDateFrom"):
        other.get_all_transactions(
            txn_date_from="2025-01-24T08:47:01.505Z", txn_date_to="2025-01-25T00:00:00Z"
        )


def test_amounts_are_decimal_even_when_whole(sandbox, hook):
    card = _card(hook)
    result = hook.load_card_balance(enkash_card_id=card, amount=100, unique_reference_number="PAY-WHOLE-1")
    assert isinstance(result.otb_balance, Decimal)
    account = hook.get_card_account_details()
    assert all(
        isinstance(account[k], Decimal) for k in ("availableBalance", "creditLimit", "usedCreditLimit")
    )
    xcom = result.to_xcom()["otb_balance"]
    assert isinstance(xcom, str) and Decimal(xcom) == 100


def test_batch_rows_above_the_connection_load_maximum_fail_the_whole_batch_first(
    sandbox, sandbox_server, monkeypatch, tmp_path
):
    from airflow_provider_enkash.batch import BatchValidationError
    from airflow_provider_enkash.operators.batch_load import EnKashBatchLoadOperator
    from tests.batch.helpers import context

    hook = _hook(monkeypatch, sandbox_server, max_load_amount="500.00")
    rows = [
        {"enkash_card_id": _card(hook), "amount": "100.00"},
        {"enkash_card_id": _card(hook), "amount": "500.01"},
    ]
    before = sandbox.requests_total()
    operator = EnKashBatchLoadOperator(
        task_id="load", rows=rows, batch_id="cap-1", ledger_path=str(tmp_path / "l")
    )
    with pytest.raises(BatchValidationError, match="maximum of 500.00"):
        operator.execute(context())
    assert sandbox.requests_total() == before


def test_amounts_reach_xcom_as_strings_even_when_whole(sandbox, hook):
    from airflow_provider_enkash.operators.card_reads import EnKashGetCardAccountDetailsOperator

    out = EnKashGetCardAccountDetailsOperator(task_id="read").execute({})
    assert out["available_balance"] == str(hook.get_card_account_details()["availableBalance"])
    assert isinstance(out["available_balance"], str) and Decimal(out["available_balance"]) > 0


@pytest.mark.parametrize("mode", ["empty", "none"])
def test_the_async_client_logs_in_with_the_basic_auth_mode_too(sandbox, sandbox_server, monkeypatch, mode):
    import asyncio

    from airflow_provider_enkash.async_client import AsyncEnKashClient

    sandbox.post("config", {"basic_auth": mode})
    hook = _hook(monkeypatch, sandbox_server, basic_auth=mode)
    records = asyncio.run(AsyncEnKashClient(hook).get_all_transactions())
    assert records["data"] == []
    assert _ops(sandbox)["auth_token"] == 1
