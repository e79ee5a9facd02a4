"""The Airflow 3 UI in a real browser (Debian's headless Chromium through Playwright), as a data engineer uses it.

One stack (api-server, scheduler, dag-processor, triggerer) and one sandbox serve the module; no
EnKash connection is configured beforehand. Through the UI the test creates ``enkash_default``
in the Add Connection form, typing only what EnKash issues (host, credentials, ids) and leaving
every other field as shown, runs a read task with it, and triggers the payroll DAG from the
Trigger dialog with its default params ("Unpause on trigger" checked, as it is by default).
Screenshots go to ``$ENKASH_TEST_ARTIFACTS/browser`` (``scripts/test.sh`` keeps and prints that
folder).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_enkash.sandbox import Sandbox, SandboxConfig
from scripts.airflow_stack import AirflowStack

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAYROLL_DAG = "enkash_payroll_card_loads"
READ_DAG = "enkash_ui_read_card_account"
PAYROLL_ROWS = 12  # the sample payroll file names the 12 cards the sandbox seeds
UI_TIMEOUT_MS = 60_000
RUN_TIMEOUT_S = 420  # generous: a loaded CI machine; a healthy stack needs well under a minute


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("ENKASH_TEST_ARTIFACTS")
    folder = Path(root) / "browser" if root else tmp_path_factory.mktemp("browser")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(seed_cards=PAYROLL_ROWS, settle_delay_s=0.5)).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def stack() -> Iterator[AirflowStack]:
    dag_files = [
        REPO / "dags_examples" / f"{PAYROLL_DAG}.py",
        REPO / "tests" / "dags" / "ui_read_card_account.py",
    ]
    env = {"ENKASH_PAYROLL_SETTLE_POLL_S": "1"}  # reconcile looks again soon, not in 30 s
    with AirflowStack(
        dag_files=dag_files, env=env, keep_home=bool(os.environ.get("ENKASH_E2E_KEEP_HOME"))
    ) as stack:
        for dag_id in (PAYROLL_DAG, READ_DAG):
            stack.wait_for_dag(dag_id)
        yield stack


@pytest.fixture(scope="module")
def page(stack: AirflowStack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        yield page
        browser.close()


def _field(page: Any, label: str) -> Any:
    """The input of the form field labelled ``label`` (Airflow 3.3's labels do not point at their inputs)."""
    text = page.get_by_text(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))  # "*": a required field
    group = page.get_by_role("group").filter(has=text)
    return group.locator("input").first


@contextmanager
def _screenshot_on_failure(page: Any, path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        page.screenshot(path=path, full_page=True)
        raise


def _admin(sandbox: Sandbox, name: str) -> Any:
    response = requests.get(f"{sandbox.url}/_sandbox/{name}", timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def connection_from_the_form(
    page: Any, stack: AirflowStack, sandbox: Sandbox, artifacts: Path
) -> dict[str, Any]:
    """``enkash_default`` created in Admin > Connections > Add Connection; what Airflow stored."""
    issued = json.loads(sandbox.connection_json())  # what EnKash onboarding hands out
    with _screenshot_on_failure(page, artifacts / "failed-connection-form.png"):
        return _create_connection(page, stack, issued, artifacts)


def _create_connection(
    page: Any, stack: AirflowStack, issued: dict[str, Any], artifacts: Path
) -> dict[str, Any]:
    extra = issued["extra"]
    page.goto(f"{stack.url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    _field(page, "Connection ID").fill("enkash_default")
    page.get_by_role("combobox", name="Connection Type").fill("EnKash")
    page.keyboard.press("Enter")
    _field(page, "API base URL").fill(issued["host"])
    _field(page, "Partner username (mobile)").fill(issued["login"])
    _field(page, "Partner password").fill(issued["password"])
    page.screenshot(path=artifacts / "1-connection-form-standard-fields.png", full_page=True)
    page.get_by_role("button", name="Extra Fields", exact=True).click()
    for label, key in (
        ("Client id (company id)", "client_id"),
        ("Client secret", "client_secret"),
        ("Partner id", "partner_id"),
        ("Company id", "company_id"),
        ("Card account id", "card_account_id"),
    ):
        _field(page, label).fill(extra[key])
    page.screenshot(path=artifacts / "2-connection-form-extra-fields.png", full_page=True)
    # Every other field keeps the default the form shows.
    page.get_by_text("Allow http:// to non-loopback hosts", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "3-connection-form-defaults.png", full_page=True)
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    page.get_by_role("dialog").wait_for(state="detached")
    page.get_by_text("enkash_default").first.wait_for()
    page.screenshot(path=artifacts / "4-connection-saved.png", full_page=True)
    return stack.api("GET", "/connections/enkash_default")


def _wait_for_runs(stack: AirflowStack, dag_id: str, *, run_type: str) -> list[dict[str, Any]]:
    """Every run of ``dag_id`` once one of ``run_type`` exists and all have finished."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = stack.dag_runs(dag_id)
        if any(r["run_type"] == run_type for r in runs) and all(
            r["state"] in ("success", "failed") for r in runs
        ):
            return runs
        time.sleep(1)
    raise AssertionError(f"{dag_id} runs not finished after {RUN_TIMEOUT_S}s: {stack.dag_runs(dag_id)}")


def test_a_connection_made_in_the_form_with_its_defaults_serves_a_read_task(
    connection_from_the_form, stack, sandbox
):
    stored = connection_from_the_form
    assert (stored["conn_type"], stored["host"]) == ("enkash", sandbox.url)
    extra = json.loads(stored["extra"] or "{}")
    masked = sorted(key for key, value in extra.items() if value == "***")
    assert masked in ([], ["client_secret"]), f"Airflow hides extras that are no secret: {masked}"
    run_id = stack.trigger(READ_DAG)
    assert stack.wait_for_run(READ_DAG, run_id, timeout_s=RUN_TIMEOUT_S) == "success"
    result = stack.api(
        "GET", f"/dags/{READ_DAG}/dagRuns/{run_id}/taskInstances/read_card_account/xcomEntries/return_value"
    )["value"]
    assert result["card_account_id"] == json.loads(sandbox.connection_json())["extra"]["card_account_id"]


def test_the_trigger_dialog_with_default_params_pays_the_current_period_once(
    connection_from_the_form, page, stack, sandbox, artifacts
):
    with _screenshot_on_failure(page, artifacts / "failed-payroll-trigger.png"):
        _trigger_payroll_with_defaults(page, stack, sandbox, artifacts)


def _trigger_payroll_with_defaults(page: Any, stack: AirflowStack, sandbox: Sandbox, artifacts: Path) -> None:
    page.goto(f"{stack.url}/dags/{PAYROLL_DAG}")
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"Unpause {PAYROLL_DAG} on trigger").wait_for()
    dialog.get_by_text("pay_period").wait_for()
    page.screenshot(path=artifacts / "5-trigger-dialog-default-params.png", full_page=True)
    trigger = dialog.get_by_role("button", name="Trigger", exact=True)
    assert trigger.is_enabled(), "the Trigger button is disabled with the default params"
    trigger.click()

    runs = _wait_for_runs(stack, PAYROLL_DAG, run_type="manual")
    manual = [r for r in runs if r["run_type"] == "manual"]
    assert [r["state"] for r in manual] == ["success"], runs
    page.goto(f"{stack.url}/dags/{PAYROLL_DAG}/runs/{manual[0]['dag_run_id']}")
    page.get_by_text("report").first.wait_for()
    page.wait_for_timeout(1500)  # let the grid draw its task states
    page.screenshot(path=artifacts / "6-payroll-run.png", full_page=True)

    # Unpausing let the scheduler add the run for the last 1st/15th; unless that was minutes ago,
    # it pays nothing. Either way each row of the sample file moved money exactly once.
    loads = list(_admin(sandbox, "ledger")["loads"])
    assert len(loads) == PAYROLL_ROWS and all(e["times_applied"] == 1 for e in loads), loads
    batch = stack.api(
        "GET",
        f"/dags/{PAYROLL_DAG}/dagRuns/{manual[0]['dag_run_id']}/taskInstances/batch_name/xcomEntries/return_value",
    )["value"]
    today = datetime.now(UTC)
    assert batch.startswith("payroll-") and batch[len("payroll-") :] <= today.date().isoformat()
