#!/usr/bin/env bash
# The whole test suite: .venv from the lock file, a throwaway PostgreSQL, Redis and Airflow home, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k crypto). Fails when no test ran.
source "$(dirname "$0")/_venv.sh"
source scripts/_postgres.sh
RUN_DIR="$(mktemp -d /tmp/enkash-test.XXXXXX)"
# Test artifacts (the browser test's screenshots) outlive the run; everything else is removed.
export ENKASH_TEST_ARTIFACTS="$RUN_DIR/artifacts"
mkdir -p "$ENKASH_TEST_ARTIFACTS"
cleanup() {
  if declare -F stop_redis >/dev/null; then stop_redis; fi
  stop_postgres
  if [ -n "$(ls -A "$ENKASH_TEST_ARTIFACTS")" ]; then
    find "$RUN_DIR" -mindepth 1 -maxdepth 1 ! -name artifacts -exec rm -rf {} +
    echo "test artifacts: $ENKASH_TEST_ARTIFACTS" >&2
  else
    rm -rf "$RUN_DIR"
  fi
}
trap cleanup EXIT
source scripts/_redis.sh
# The browser test drives Debian's headless Chromium (a browser download is not possible here).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium (Debian package chromium)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }
fi
export AIRFLOW_HOME="$RUN_DIR/airflow"
# dag.test() needs each DAG file inside the DAGs folder: link the example DAGs and the test DAGs there.
export AIRFLOW__CORE__DAGS_FOLDER="$RUN_DIR/dags"
mkdir -p "$AIRFLOW__CORE__DAGS_FOLDER"
for f in "$REPO_ROOT"/dags_examples/*.py "$REPO_ROOT"/tests/dags/*.py; do
  [ -e "$f" ] && ln -s "$f" "$AIRFLOW__CORE__DAGS_FOLDER/"
done
export AIRFLOW__CORE__UNIT_TEST_MODE=False
airflow db migrate >"$RUN_DIR/db-migrate.log" 2>&1 || { cat "$RUN_DIR/db-migrate.log"; exit 1; }
set +e
python -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
