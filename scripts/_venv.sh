# Sourced by scripts/*.sh: create or reuse .venv from the committed lock file.
# Installs uv with pip when missing; compiles bytecode so Airflow imports stay fast.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
export SSL_CERT_FILE="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
export UV_COMPILE_BYTECODE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
PYTHON_BIN="${PYTHON_BIN:-python3}"
if ! command -v uv >/dev/null 2>&1; then
  "$PYTHON_BIN" -m pip install --quiet uv
  export PATH="$("$PYTHON_BIN" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
fi
LOCK=requirements-dev.lock
STAMP=.venv/.lock-stamp
want="$(sha256sum "$LOCK" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  [ -x .venv/bin/python ] || uv venv --quiet --python "$PYTHON_BIN" .venv
  uv pip sync --quiet --python .venv/bin/python "$LOCK"
  uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$want" > "$STAMP"
fi
export PATH="$REPO_ROOT/.venv/bin:$PATH"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
