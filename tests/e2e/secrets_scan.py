"""Search everything a real Airflow stack kept about some runs for secrets and card data.

Haystacks: every file under the stack's logs (task, trigger and dag-processor logs) and the
services' own output, and over the REST API every task log, every XCom value and every task's
rendered template fields. Needles: named secret values; short numeric ones (CVV, PIN, OTP) only
count when next to a label, since a bare three-digit number matches line numbers and ports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.airflow_stack import AirflowStack

#: Numeric secrets shorter than this are matched only beside a label (cvv, pin, otp, ...).
_LABEL_FREE_MIN_LENGTH = 8
_LABELS = r"(?<![a-z])(?:cvv|cvc|pin|otp|code|secret|password)"


@dataclass(frozen=True)
class Leak:
    """One secret found somewhere it must not be; ``excerpt`` shows the match as ``<kind>``, not the secret."""

    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.kind} in {self.where}: ...{self.excerpt}..."


@dataclass(frozen=True)
class Needle:
    """A secret value to look for, and what kind of secret it is (for the report)."""

    kind: str
    value: str

    def pattern(self) -> re.Pattern[str]:
        escaped = re.escape(self.value)
        if self.value.isdigit() and len(self.value) >= 12:
            # A card number, possibly printed in groups: 4111 1111-1111 1111.
            escaped = r"[ -]?".join(re.escape(d) for d in self.value)
        if self.value.isdigit():
            bounded = rf"(?<![0-9]){escaped}(?![0-9])"
            if len(self.value) < _LABEL_FREE_MIN_LENGTH:
                return re.compile(rf"(?i){_LABELS}[^0-9\n]{{0,40}}{bounded}")
            return re.compile(bounded)
        return re.compile(escaped)


def find_leaks(haystacks: Iterable[tuple[str, str]], needles: Iterable[Needle]) -> list[Leak]:
    """Every occurrence of every needle in every ``(where, text)`` haystack."""
    compiled = [(needle, needle.pattern()) for needle in needles if needle.value]
    leaks = []
    for where, text in haystacks:
        for needle, pattern in compiled:
            for match in pattern.finditer(text):
                start, end = (
                    max(0, match.start() - 60),
                    min(len(text), match.end() + 60),
                )
                excerpt = f"{text[start : match.start()]}<{needle.kind}>{text[match.end() : end]}".replace(
                    "\n", " "
                )
                leaks.append(Leak(where=where, kind=needle.kind, excerpt=excerpt))
    return leaks


def needles_from(secrets: Any, *, kind: str) -> Iterator[Needle]:
    """One needle per string or integer leaf of a JSON document, kind named by its key path."""
    if isinstance(secrets, Mapping):
        for key, value in secrets.items():
            yield from needles_from(value, kind=f"{kind}.{key}")
    elif isinstance(secrets, list):
        for value in secrets:
            yield from needles_from(value, kind=kind)
    elif isinstance(secrets, (str, int)) and not isinstance(secrets, bool) and str(secrets):
        yield Needle(kind=kind, value=str(secrets))


def stack_files(stack: AirflowStack) -> Iterator[tuple[str, str]]:
    """Every log file of the stack: task and trigger logs, dag-processor logs, service output."""
    for root in (stack.home / "logs", stack.service_logs):
        for path in sorted(Path(root).rglob("*")):
            if path.is_file():
                yield (
                    str(path.relative_to(stack.home)),
                    path.read_text(errors="replace"),
                )


def stack_api_records(stack: AirflowStack, runs: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Over the REST API, for each ``(dag_id, run_id)``: each try's log, XCom and rendered fields."""
    for dag_id, run_id in runs:
        run_path = f"/dags/{dag_id}/dagRuns/{run_id}"
        for ti in stack.task_instances(dag_id, run_id):
            name = f"{dag_id}/{run_id}/{ti['task_id']}[{ti['map_index']}]"
            yield (
                f"rendered fields of {name}",
                json.dumps(ti.get("rendered_fields"), default=str),
            )
            for try_number in range(1, int(ti["try_number"] or 0) + 1):
                content = stack.api(
                    "GET",
                    f"{run_path}/taskInstances/{ti['task_id']}/logs/{try_number}",
                    params={"map_index": ti["map_index"], "full_content": True},
                    headers={"Accept": "application/json"},
                )
                yield (
                    f"REST log of {name} try {try_number}",
                    json.dumps(content, default=str),
                )
        entries = stack.api("GET", f"{run_path}/taskInstances/~/xcomEntries", params={"limit": 1000})
        for entry in entries["xcom_entries"]:
            value = stack.api(
                "GET",
                f"{run_path}/taskInstances/{entry['task_id']}/xcomEntries/{entry['key']}",
                params={"map_index": entry["map_index"]},
            )
            where = f"XCom {entry['key']!r} of {dag_id}/{run_id}/{entry['task_id']}[{entry['map_index']}]"
            yield where, json.dumps(value, default=str)
