"""The sandbox's own copy of the EnKash endpoint list (``endpoints.json`` beside this file).

Paths, methods, documented fields and documented required fields per operation,
vendored from the API reference. The sandbox takes its routes from here and never
from the provider, so a wrong path in the provider fails the wire tests instead of
being mirrored. Operations whose path is unpublished carry a placeholder path
(``path_documented`` false).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ENDPOINTS_FILE = Path(__file__).with_name("endpoints.json")


@dataclass(frozen=True)
class Endpoint:
    """One documented operation: where it lives and which request fields the docs list."""

    name: str
    path: str
    method: str
    path_documented: bool
    required: tuple[str, ...]
    fields: tuple[str, ...]


def _load() -> tuple[str, dict[str, Endpoint]]:
    raw = json.loads(ENDPOINTS_FILE.read_text(encoding="utf-8"))
    endpoints = {
        name: Endpoint(
            name=name,
            path=spec["path"],
            method=spec["method"],
            path_documented=spec["path_documented"],
            required=tuple(spec["required"]),
            fields=tuple(spec["fields"]),
        )
        for name, spec in raw["operations"].items()
    }
    return raw["token"]["path"], endpoints


TOKEN_PATH, ENDPOINTS = _load()
