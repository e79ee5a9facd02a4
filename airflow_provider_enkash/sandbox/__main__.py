"""``enkash-sandbox`` / ``python -m airflow_provider_enkash.sandbox``: run the sandbox in the foreground.

One flag per :class:`SandboxConfig` field (``--field-name``; booleans also as
``--no-field-name``; ``--fault`` repeatable). On start it prints exactly one line,
``export AIRFLOW_CONN_ENKASH_DEFAULT='<json>'`` (paste it into a shell, or ``eval`` it),
then serves until SIGINT or SIGTERM.
For testing only, never production: a non-loopback ``--host`` needs ``--allow-remote``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import MISSING, fields
from decimal import Decimal
from typing import Any

from airflow_provider_enkash.sandbox.config import SandboxConfig
from airflow_provider_enkash.sandbox.faults import FAULT_MODES, parse_fault_spec
from airflow_provider_enkash.sandbox.server import Sandbox

CLI_DEFAULT_PORT = 8765
TESTING_ONLY = "for testing only, never production"


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return name.strip(), value.strip()


def _fault(text: str) -> Any:
    try:
        return parse_fault_spec(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """An argparse parser with one option per ``SandboxConfig`` field."""
    parser = argparse.ArgumentParser(
        prog="enkash-sandbox",
        description=f"Stateful local simulator of the EnKash Prepaid Card API on 127.0.0.1: {TESTING_ONLY}. "
        "Its admin API (/_sandbox/) serves every password, token and card number without authentication.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for f in fields(SandboxConfig):
        default: Any = f.default_factory() if f.default_factory is not MISSING else f.default
        flag = "--" + f.name.replace("_", "-")
        text = f.metadata["help"]
        if f.name == "port":
            parser.add_argument(flag, type=int, default=CLI_DEFAULT_PORT, help=text)
        elif f.name == "faults":
            modes = ", ".join(FAULT_MODES)
            parser.add_argument(
                "--fault",
                flag,
                dest="faults",
                type=_fault,
                action="append",
                default=[],
                metavar="SPEC",
                help=f"{text}, repeatable; e.g. mode=http_500,rate=0.1,operation=load_card_balance; modes: {modes}",
            )
        elif isinstance(default, dict):
            parser.add_argument(
                flag, type=_pair, nargs="*", default=sorted(default.items()), metavar="KEY=VALUE", help=text
            )
        elif isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        elif default is None:
            parser.add_argument(flag, type=str, default=None, help=text)
        else:
            parser.add_argument(
                flag,
                type=Decimal if isinstance(default, Decimal) else type(default),
                default=default,
                help=text,
            )
    return parser


def config_from_args(argv: list[str] | None = None) -> SandboxConfig:
    """Parse ``argv`` into a :class:`SandboxConfig` (exit code 2 on a bad value)."""
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    args["envelope_overrides"] = dict(args["envelope_overrides"])
    args["status_words"] = dict(args["status_words"])
    args["faults"] = tuple(args["faults"])
    try:
        return SandboxConfig(**args)
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, print the connection line, serve until SIGINT/SIGTERM."""
    config = config_from_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sandbox = Sandbox(config).start()
    try:
        print(sandbox.connection_export_line(), flush=True)
        print(
            f"EnKash sandbox on {sandbox.url} ({TESTING_ONLY}; admin API: {sandbox.url}/_sandbox/health); "
            "Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
