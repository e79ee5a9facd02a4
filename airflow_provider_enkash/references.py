"""Deterministic load references (DESIGN.md decision 1).

A load's ``uniqueReferenceNumber`` is derived from where it runs (dag, run,
task, map index) and which business item it is for, so a task retry, a
rerun of the same DAG run, or a restarted batch sends the same reference and
the reference look-up can tell whether the money already moved.
"""

from __future__ import annotations

import hashlib

REFERENCE_PREFIX = "AF"
_DIGEST_CHARS = 30


def load_reference(*, dag_id: str, run_id: str, task_id: str, map_index: int = -1, item_key: str = "") -> str:
    """A 32-character reference, ``AF`` + 30 hex digits of SHA-256 over the identifying parts."""
    material = "\x1f".join((dag_id, run_id, task_id, str(map_index), item_key))
    return REFERENCE_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:_DIGEST_CHARS].upper()


def batch_row_reference(*, batch_id: str, row_key: str) -> str:
    """The reference of one row of a batch load: stable across reruns of the same batch id."""
    material = f"batch\x1f{batch_id}\x1f{row_key}"
    return REFERENCE_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:_DIGEST_CHARS].upper()
