"""Sandbox: start and stop the simulator in-process on a free port (tests, demo, CLI)."""

from __future__ import annotations

import json
import shlex
import threading
from types import TracebackType

from airflow_provider_enkash.sandbox.admin import Admin
from airflow_provider_enkash.sandbox.auth import Auth
from airflow_provider_enkash.sandbox.config import SandboxConfig
from airflow_provider_enkash.sandbox.endpoints import TOKEN_PATH
from airflow_provider_enkash.sandbox.faults import FaultInjector
from airflow_provider_enkash.sandbox.gateway import Gateway
from airflow_provider_enkash.sandbox.server import SandboxHTTPServer
from airflow_provider_enkash.sandbox.state import State

CONNECTION_ENV_VAR = "AIRFLOW_CONN_ENKASH_DEFAULT"


def connection_json_from_line(line: str) -> str:
    """The connection JSON inside a line printed by ``enkash-sandbox`` (see :meth:`Sandbox.connection_export_line`).

    :raises ValueError: the line is not that line (e.g. the sandbox failed to start).
    """
    words = shlex.split(line)
    name, _, value = words[-1].partition("=") if len(words) == 2 and words[0] == "export" else ("", "", "")
    if name != CONNECTION_ENV_VAR or not value:
        raise ValueError(f"not the sandbox's connection line: {line[:80]!r}")
    return value


class Sandbox:
    """A stateful EnKash Prepaid Card API on 127.0.0.1.

    Building it creates (and seeds) the state; ``start()`` binds and serves in a
    daemon thread. Usable as a context manager.

    :param config: the configuration (default ``SandboxConfig()``: a free port).
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = State(self.config)
        self.auth = Auth(lambda: self.state.config)
        self.faults = FaultInjector(self.config.faults, seed=self.config.random_seed)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        """Bind ``host:port`` and serve in the background; return ``self``."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        gateway = Gateway(self.state, self.auth, self.faults)
        admin = Admin(self.state, self.auth, self.faults)
        self._server = SandboxHTTPServer((self.config.host, self.config.port), gateway, admin)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="enkash-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running sandbox."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def connection_json(self) -> str:
        """The Airflow connection (JSON) for ``AIRFLOW_CONN_ENKASH_DEFAULT`` that points at this sandbox."""
        cfg = self.config
        variant = {"basic_auth": cfg.basic_auth, "key_derivation": cfg.key_derivation}
        defaults = {"basic_auth": "client", "key_derivation": "sha256"}
        return json.dumps(
            {
                "conn_type": "enkash",
                "host": self.url,
                "login": cfg.username,
                "password": cfg.password,
                "extra": {
                    "client_id": cfg.client_id,
                    "client_secret": cfg.client_secret,
                    "partner_id": cfg.partner_id,
                    "company_id": cfg.company_id,
                    "card_account_id": cfg.card_account_id,
                    "auth_url": self.url + TOKEN_PATH,
                    **{name: value for name, value in variant.items() if value != defaults[name]},
                },
            }
        )

    def connection_export_line(self) -> str:
        """``export AIRFLOW_CONN_ENKASH_DEFAULT='<json>'``: the CLI's first line, quoted for a POSIX shell."""
        return f"export {CONNECTION_ENV_VAR}={shlex.quote(self.connection_json())}"

    def __enter__(self) -> Sandbox:
        return self if self._server is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
