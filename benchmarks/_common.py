"""What every benchmark shares: the sandbox process, child processes measured by the kernel, statistics.

Baselines use ``requests`` and ``cryptography`` directly (nothing from the provider), so a change in the
provider cannot make its own baseline slower.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from airflow_provider_enkash.sandbox import connection_json_from_line

PYTHON = sys.executable
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # helpers shared with the tests live in tests/ (one place, not copied)
# dlt reports anonymous telemetry by default: benchmarks talk to 127.0.0.1 only.
QUIET_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
}


def machine_line() -> str:
    """Cores, CPU model, memory, Python and the load average when the benchmark started."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at start {load}"
    )


class Sandbox:
    """``python -m airflow_provider_enkash.sandbox`` in its own process on a free 127.0.0.1 port."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "airflow_provider_enkash.sandbox", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        try:
            self.connection = connection_json_from_line(line)
        except ValueError:
            self.proc.kill()
            raise SystemExit(f"the sandbox did not start: {line!r}") from None
        self.url = json.loads(self.connection)["host"]

    def admin(self, name: str, body: dict[str, Any] | None = None) -> Any:
        import requests

        if body is None:
            return requests.get(f"{self.url}/_sandbox/{name}", timeout=120).json()
        response = requests.post(f"{self.url}/_sandbox/{name}", json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@dataclass
class ChildRun:
    """One child process: what it printed last (JSON), wall seconds, CPU seconds, peak RSS MiB (kernel's)."""

    result: dict[str, Any]
    wall_s: float
    cpu_s: float
    peak_rss_mib: float


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None) -> ChildRun:
    """Run ``argv`` (a fresh Python process); its last stdout line must be a JSON object."""
    started = time.perf_counter()
    with open(log or os.devnull, "ab") as err:
        environ = {
            k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"
        }  # bytecode as users have it
        proc = subprocess.Popen(list(argv), env={**environ, **QUIET_ENV, **(env or {})},
                                stdout=subprocess.PIPE, stderr=err)  # fmt: skip
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed (status {status}); see {log}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return ChildRun(result, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """``median (min-max)`` of ``values``."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- a minimal EnKash client, for the baselines ------------------------------------------------


class MinimalEnKash:
    """What a developer writes without the provider: one Session (trust_env=False), a token, AES-128-ECB."""

    def __init__(self, connection_json: str, *, pool: int = 16) -> None:
        import requests
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from requests.adapters import HTTPAdapter

        conn = json.loads(connection_json)
        extra = conn["extra"] if isinstance(conn["extra"], dict) else json.loads(conn["extra"])
        self.base = conn["host"].rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=pool))
        self.cipher = Cipher(
            algorithms.AES(hashlib.sha256(extra["client_secret"].encode()).digest()[:16]),
            modes.ECB(),
        )
        token = self.session.post(
            self.base + "/oauth/token",
            data={"username": conn["login"], "password": conn["password"], "grant_type": "password",
                  "clientId": extra["client_id"]},
            auth=(extra["client_id"], extra["client_secret"]), timeout=30,
        ).json()["access_token"]  # fmt: skip
        self.headers = {"Authorization": f"Bearer {token}", "partnerId": extra["partner_id"],
                        "Content-Type": "application/json"}  # fmt: skip
        self.company_id, self.card_account_id = (
            extra.get("company_id"),
            extra.get("card_account_id"),
        )

    def encrypt(self, payload: dict[str, Any]) -> bytes:
        data = json.dumps(payload, separators=(",", ":"), default=str).encode()
        pad = 16 - len(data) % 16
        encryptor = self.cipher.encryptor()
        sealed = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
        return json.dumps({"request": base64.b64encode(sealed).decode()}).encode()

    def decrypt(self, body: bytes) -> Any:
        wrapper = json.loads(body)
        decryptor = self.cipher.decryptor()
        (sealed,) = wrapper.values()  # {"request": ...} (or "response")
        plain = decryptor.update(base64.b64decode(sealed)) + decryptor.finalize()
        return json.loads(plain[: -plain[-1]], parse_float=Decimal)

    def post(self, path: str, body: bytes) -> Any:
        response = self.session.post(self.base + path, data=body, headers=self.headers, timeout=60)
        response.raise_for_status()
        return self.payload_of(response.content)

    def payload_of(self, content: bytes) -> Any:
        """The ``payload`` of an answer's body: decrypted, envelope code checked."""
        envelope = self.decrypt(content)
        code = envelope["code"] if "code" in envelope else envelope.get("response_code")
        if code not in (0, "0"):
            raise RuntimeError(f"EnKash code {code}: {envelope}")
        return envelope.get("payload")
