"""The ``[enkash]`` triggerer settings: their declaration (for Airflow's config metadata) and readers.

Declared once here; ``get_provider_info()`` publishes :data:`CONFIG` so ``airflow config list``
shows them with their defaults, and the async client and coalesced poller read them through
the functions below. Set them in ``airflow.cfg`` or as ``AIRFLOW__ENKASH__<NAME>``.
"""

from __future__ import annotations

from typing import Any

CONFIG_SECTION = "enkash"
DEFAULT_MAX_REQUESTS_IN_FLIGHT = 64
DEFAULT_POLL_BATCH_SIZE = 500
MAX_POLL_BATCH_SIZE = 1000  # what get_all_transactions accepts in enKashTransactionIds
DEFAULT_COALESCE_POLLS = True
DEFAULT_FREEZE_GC = True


def _option(description: str, kind: str, default: Any, example: Any = None) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": kind,
        "example": example,
        "default": str(default).lower() if isinstance(default, bool) else str(default),
    }


CONFIG: dict[str, dict[str, Any]] = {
    CONFIG_SECTION: {
        "description": "How EnKash sensors deferred to the triggerer poll (one triggerer process each).",
        "options": {
            "max_requests_in_flight": _option(
                "EnKash requests one triggerer process keeps open at once; the rest wait their turn "
                "without a thread. Throughput is about this / API latency (64 at 500 ms: 128 polls/s, "
                "i.e. about 7,600 sensors at a 60 s poke_interval). Lower it if EnKash answers 429.",
                "integer",
                DEFAULT_MAX_REQUESTS_IN_FLIGHT,
                "32",
            ),
            "coalesce_polls": _option(
                "Triggers watching transaction ids of one card account share multi-id searches "
                "(enKashTransactionIds), so 1,000 waiting sensors cost a few requests per interval.",
                "boolean",
                DEFAULT_COALESCE_POLLS,
                "false",
            ),
            "poll_batch_size": _option(
                f"Transaction ids per shared search, 1 to {MAX_POLL_BATCH_SIZE}.",
                "integer",
                DEFAULT_POLL_BATCH_SIZE,
                "200",
            ),
            "freeze_gc": _option(
                "When the triggerer creates its first EnKash trigger, move every object "
                "alive then out of the garbage collector's view (gc.freeze()), so full collections scan "
                "only newer objects. Measured: with 1,000 triggers starting at once, full collections "
                "otherwise stall the event loop for 200-300 ms each. Process-wide, done once; false "
                "leaves the collector alone.",
                "boolean",
                DEFAULT_FREEZE_GC,
                "false",
            ),
        },
    }
}


def max_requests_in_flight() -> int:
    """``[enkash] max_requests_in_flight`` (default 64); raise ``EnKashConfigError`` below 1."""
    from airflow.sdk.configuration import conf

    from airflow_provider_enkash.exceptions import EnKashConfigError  # Airflow imports this module early

    value = int(
        conf.getint(CONFIG_SECTION, "max_requests_in_flight", fallback=DEFAULT_MAX_REQUESTS_IN_FLIGHT)
    )
    if value < 1:
        raise EnKashConfigError(f"[enkash] max_requests_in_flight must be >= 1, got {value}")
    return value


def coalescing_enabled() -> bool:
    """``[enkash] coalesce_polls`` (default true)."""
    from airflow.sdk.configuration import conf

    return bool(conf.getboolean(CONFIG_SECTION, "coalesce_polls", fallback=DEFAULT_COALESCE_POLLS))


def freeze_gc_enabled() -> bool:
    """``[enkash] freeze_gc`` (default true)."""
    from airflow.sdk.configuration import conf

    return bool(conf.getboolean(CONFIG_SECTION, "freeze_gc", fallback=DEFAULT_FREEZE_GC))


def poll_batch_size() -> int:
    """``[enkash] poll_batch_size`` (default 500); raise ``EnKashConfigError`` outside 1..1000."""
    from airflow.sdk.configuration import conf

    from airflow_provider_enkash.exceptions import EnKashConfigError

    value = int(conf.getint(CONFIG_SECTION, "poll_batch_size", fallback=DEFAULT_POLL_BATCH_SIZE))
    if not 1 <= value <= MAX_POLL_BATCH_SIZE:
        raise EnKashConfigError(f"[enkash] poll_batch_size must be 1..{MAX_POLL_BATCH_SIZE}, got {value}")
    return value
