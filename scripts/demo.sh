#!/usr/bin/env bash
# The main job: start the bundled sandbox, run the payroll card loads and then the daily
# transaction export into an embedded SQLite warehouse, and print what happened.
# Everything lives under .run/demo (recreated on each run).
source "$(dirname "$0")/_venv.sh"
RUN_DIR="$REPO_ROOT/.run/demo"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/dags"
export AIRFLOW_HOME="$RUN_DIR/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$RUN_DIR/dags"
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}"
for f in "$REPO_ROOT"/dags_examples/*.py; do ln -s "$f" "$AIRFLOW__CORE__DAGS_FOLDER/"; done
airflow db migrate >"$RUN_DIR/db-migrate.log" 2>&1 || { cat "$RUN_DIR/db-migrate.log"; exit 1; }
airflow pools set enkash_api 4 "EnKash API calls" >/dev/null
exec python scripts/demo.py --run-dir "$RUN_DIR"
