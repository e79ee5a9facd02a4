"""The example payroll DAG end to end with dag.test(), on a sandbox seeded with the sample file's 12 cards."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest
import requests

from airflow_provider_enkash.references import batch_row_reference
from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from airflow_provider_enkash.token_cache import TOKEN_CACHE
from tests.conftest import connection_json, load_dag

SAMPLE = Path(__file__).resolve().parents[2] / "dags_examples" / "data" / "payroll_sample.csv"


@pytest.fixture
def seeded_sandbox(monkeypatch) -> Iterator[Sandbox]:
    """A sandbox holding the 12 cards the sample payroll file names (seed_cards=12, default random seed)."""
    sandbox = Sandbox(SandboxConfig(seed_cards=12, settle_delay_s=0.2)).start()
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", connection_json(sandbox))
    monkeypatch.setenv("ENKASH_PAYROLL_SETTLE_POLL_S", "0.5")  # reconcile looks again soon, not in 30 s
    TOKEN_CACHE.clear()
    yield sandbox
    sandbox.stop()


def _admin(sandbox: Sandbox, name: str) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/{name}", timeout=10).json()


def _run(dag, *, day: int, conf: dict) -> str:
    run = dag.test(logical_date=pendulum.datetime(2025, 1, day, 3, 30, tz="UTC"), run_conf=conf)
    return run.state


def test_payroll_dag_loads_the_sample_file_once_even_when_run_twice(seeded_sandbox, tmp_path):
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    conf = {"pay_period": "2025-01-15", "ledger_path": str(tmp_path / "ledger")}
    assert _run(dag, day=15, conf=conf) == "success"

    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    loads = {e["reference"]: e for e in _admin(seeded_sandbox, "ledger")["loads"]}
    assert len(loads) == len(rows) == 12
    for row in rows:
        entry = loads[batch_row_reference(batch_id="payroll-2025-01-15", row_key=row["reference"])]
        assert (entry["enkash_card_id"], Decimal(entry["amount"]), entry["times_applied"]) == (
            row["enkash_card_id"], Decimal(row["amount"]), 1,
        )  # fmt: skip
    balances = {c["enkash_card_id"]: Decimal(c["balance"]) for c in _admin(seeded_sandbox, "cards")["cards"]}
    assert all(balances[r["enkash_card_id"]] == Decimal(r["amount"]) for r in rows)

    # A manual rerun for the same pay period (a new DAG run) moves no money.
    loads_before = _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0)
    assert _run(dag, day=16, conf=conf) == "success"
    assert _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0) == loads_before
    assert all(e["times_applied"] == 1 for e in _admin(seeded_sandbox, "ledger")["loads"])


def test_a_bad_payroll_file_fails_validation_and_loads_nothing(seeded_sandbox, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text() + "EMP1013,EKCDW1YHXT,12.345,typo\n")
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    conf = {
        "pay_period": "2025-02-01",
        "ledger_path": str(tmp_path / "ledger"),
        "payroll_file": str(bad),
    }
    assert _run(dag, day=20, conf=conf) == "failed"
    assert _admin(seeded_sandbox, "ledger")["loads"] == []
    assert _admin(seeded_sandbox, "counters")["operations"].get("load_card_balance", 0) == 0


def test_schedule_is_the_1st_and_15th_at_nine_ist():
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    # the DAG file uses the SDK's definition; the scheduler's timetable is what it becomes once serialised
    from airflow.serialization.encoders import coerce_to_core_timetable

    after_jan_1 = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=None,
        restriction=_restriction(pendulum.datetime(2025, 1, 2, tz="Asia/Kolkata")),
    )
    assert after_jan_1.run_after == pendulum.datetime(2025, 1, 15, 9, 0, tz="Asia/Kolkata")
    assert json.loads(json.dumps(dag.params.dump()))["require_approval"] is False
    assert os.path.isfile(dag.params.dump()["payroll_file"])


def _restriction(earliest):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=earliest, latest=None, catchup=True)


def _dag_module():
    """The payroll DAG file as a module (its guard functions are tested directly)."""
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / "enkash_payroll_card_loads.py"
    spec = importlib.util.spec_from_file_location("payroll_dag_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_default_params_are_complete_and_valid_so_the_trigger_form_accepts_them():
    """The Trigger dialog disables its button when a param's default is empty or invalid."""
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    dag.params.validate()
    defaults = dag.params.dump()
    assert all(value not in ("", None) for value in defaults.values()), defaults
    assert defaults["pay_period"] == "current"
    schema = dag.params.get_param("pay_period").schema
    assert schema["pattern"]


@pytest.mark.parametrize(
    ("run_type", "logical_date", "requested", "now", "expected"),
    [
        # The scheduler's run for the 15th, on time (09:00 IST = 03:30 UTC) and two hours late: pays the 15th.
        ("scheduled", _utc(2026, 11, 15, 3, 30), "current", _utc(2026, 11, 15, 3, 31), "2026-11-15"),
        ("scheduled", _utc(2026, 11, 15, 3, 30), "current", _utc(2026, 11, 15, 5, 30), "2026-11-15"),
        # ... but not when it only starts weeks later (the DAG was unpaused on the 29th): pays nothing,
        # whatever pay_period says (a scheduled run never carries a request).
        ("scheduled", _utc(2026, 11, 15, 3, 30), "current", _utc(2026, 11, 29, 8, 0), None),
        ("scheduled", _utc(2026, 11, 15, 3, 30), "2026-11-15", _utc(2026, 11, 15, 9, 31), None),
        # A manual run pays the requested period, or the latest 1st/15th in IST, never its logical date's.
        ("manual", _utc(2025, 1, 1), "current", _utc(2026, 11, 29, 8, 0), "2026-11-15"),
        ("manual", None, "current", _utc(2026, 11, 14, 18, 29), "2026-11-01"),  # 23:59 IST on the 14th
        ("manual", None, "current", _utc(2026, 11, 14, 18, 30), "2026-11-15"),  # 00:00 IST on the 15th
        ("manual", _utc(2025, 1, 1), "2025-01-15", _utc(2026, 11, 29, 8, 0), "2025-01-15"),
    ],
)
def test_period_to_pay(run_type, logical_date, requested, now, expected):
    from airflow.sdk.api.datamodels._generated import DagRunType

    run_type = DagRunType(run_type)  # what a task's context holds (its str() is not the value)
    pay_day, reason = _dag_module().period_to_pay(
        run_type=run_type,
        logical_date=logical_date,
        requested=requested,
        late_after=timedelta(hours=6),
        now=now,
    )
    assert pay_day == expected, reason
    if expected is None:
        assert "trigger the DAG with pay_period=2026-11-15" in reason


def test_a_malformed_pay_period_is_refused_naming_the_param():
    with pytest.raises(ValueError, match="pay_period: '2026-13-45'"):
        _dag_module().period_to_pay(
            run_type="manual",
            logical_date=None,
            requested="2026-13-45",
            late_after=timedelta(hours=6),
            now=_utc(2026, 1, 1),
        )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _batch_folder(ledger: Path, batch_id: str) -> Path:
    from airflow_provider_enkash.batch.ledger import FileLedger

    return Path(str(FileLedger(str(ledger)).folder(batch_id)))


def test_default_params_with_an_old_logical_date_pay_only_the_current_period(seeded_sandbox, tmp_path):
    """What the Trigger dialog sends with its defaults: one batch, the latest pay day's, and a clean report."""
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    conf = {**dag.params.dump(), "ledger_path": str(tmp_path / "ledger")}
    run = dag.test(logical_date=pendulum.datetime(2025, 1, 1, 3, 30, tz="UTC"), run_conf=conf)
    assert run.state == "success"

    current = _dag_module().latest_pay_day(datetime.now(UTC)).isoformat()
    batch_id = f"payroll-{current}"
    rows = _read_csv(SAMPLE)
    loads = _admin(seeded_sandbox, "ledger")["loads"]
    assert sorted(e["reference"] for e in loads) == sorted(
        batch_row_reference(batch_id=batch_id, row_key=r["reference"]) for r in rows
    )
    folder = _batch_folder(tmp_path / "ledger", batch_id)
    report = _read_csv(folder / "report.csv")
    by_txn = {e["reference"]: e["transaction_ids"] for e in loads}
    assert [(r["row_key"], r["outcome"]) for r in report] == [(r["reference"], "loaded") for r in rows]
    assert all([r["enkash_transaction_id"]] == by_txn[r["reference"]] for r in report)
    assert _read_csv(folder / "needs_action.csv") == []
    assert (folder / "needs_action.csv").read_text().splitlines() == [
        "reference,enkash_card_id,amount,remarks"
    ]

    # The ledger is an asset: the report's event names the batch and its counts.
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        (event,) = session.scalars(
            select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "enkash_payroll_ledger", AssetEvent.source_run_id == run.run_id)
        ).all()  # fmt: skip
    assert (event["batch_id"], event["rows"], event["needs_action"], event["counts"]) == (
        batch_id, 12, 0, {"loaded": 12},
    )  # fmt: skip
    # The load task's "EnKash batch ledger" link, as the API server computes it.
    load_ti = next(ti for ti in run.get_task_instances() if ti.task_id == "load")
    serialized_load = SerializedDagModel.get_dag(dag.dag_id).get_task("load")
    assert serialized_load.get_extra_links(load_ti, "EnKash batch ledger") == folder.as_uri()


def test_rows_enkash_refuses_land_in_needs_action_csv_in_the_payroll_files_format(seeded_sandbox, tmp_path):
    payroll = tmp_path / "payroll.csv"
    unknown_card = "EMP1099,EKCDUNKNOWN9,1500.00,Card nobody issued"
    payroll.write_text(SAMPLE.read_text() + unknown_card + "\n")
    dag = load_dag("enkash_payroll_card_loads.py", "enkash_payroll_card_loads")
    dag.get_task("load").retries = 0  # the DAG retries after 2 minutes; the refusal is final
    conf = {"pay_period": "2025-02-01", "ledger_path": str(tmp_path / "ledger"), "payroll_file": str(payroll)}
    assert _run(dag, day=20, conf=conf) == "failed"

    folder = _batch_folder(tmp_path / "ledger", "payroll-2025-02-01")
    report = {r["row_key"]: r for r in _read_csv(folder / "report.csv")}
    assert len(report) == 13
    assert report["EMP1099"]["outcome"] == "failed" and report["EMP1099"]["error_message"]
    assert {r["outcome"] for k, r in report.items() if k != "EMP1099"} == {"loaded"}
    needs_action = (folder / "needs_action.csv").read_text().splitlines()
    assert needs_action == ["reference,enkash_card_id,amount,remarks", unknown_card]
