"""DAG-file parse cost: each example DAG file in fresh interpreters, over ``import airflow.sdk``.

Every sample is a fresh ``python`` process that times, on its own CPU clock (``time.process_time``,
steadier than wall time on a shared machine) and on the wall clock:

1. ``import airflow.sdk`` (the baseline every DAG file pays);
2. the Airflow modules the DAG file itself imports (read from its ``import`` statements), i.e. what
   the DAG's own choice of Airflow operators and timetables costs;
3. running the DAG file (provider imports plus building the DAG).

The cost of a DAG file over ``import airflow.sdk`` is 2 + 3; the provider's share is in 3. Files and a
bare ``import airflow.sdk`` process alternate, ``--repeats`` rounds (default 7).

A reference file, the smallest TaskFlow DAG (a cron schedule and one ``@task``, nothing from this
provider), is timed the same way: what Airflow charges any such DAG file over ``import airflow.sdk``
(``airflow.timetables.base`` for the schedule, the standard provider's Python operator behind ``@task``).
Each example DAG's cost over that reference is what the file adds beyond Airflow's floor.

    .venv/bin/python benchmarks/parse_benchmark.py [--repeats 7] [--markdown]
"""

from __future__ import annotations

import argparse
import ast
import compileall
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, REPO, machine_line, run_child, spread, table

DAG_FILES = sorted((REPO / "dags_examples").glob("*.py"))
GOAL_MS = 50.0
REFERENCE = "minimal TaskFlow DAG (reference, no provider)"
REFERENCE_DAG = """
import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task


@dag(schedule=CronTriggerTimetable("@daily", timezone="UTC"), start_date=pendulum.datetime(2025, 1, 1))
def reference():
    @task
    def hello() -> None:
        print("hello")

    hello()


reference()
"""

_CHILD = r"""
import json, runpy, sys, time
clocks = (time.process_time, time.perf_counter)
marks = [tuple(c() for c in clocks)]
import airflow.sdk
marks.append(tuple(c() for c in clocks))
for statement in json.loads(sys.argv[2]):
    exec(statement, {})
marks.append(tuple(c() for c in clocks))
if sys.argv[1]:
    runpy.run_path(sys.argv[1], run_name="dag_file")
marks.append(tuple(c() for c in clocks))
ms = lambda i, a, b: (marks[b][i] - marks[a][i]) * 1000
print(json.dumps({"sdk_cpu": ms(0, 0, 1), "airflow_cpu": ms(0, 1, 2), "file_cpu": ms(0, 2, 3),
                  "sdk_wall": ms(1, 0, 1), "airflow_wall": ms(1, 1, 2), "file_wall": ms(1, 2, 3)}))
"""


def airflow_imports(path: Path) -> list[str]:
    """The file's top-level ``import``/``from`` statements that name Airflow (not this provider)."""
    statements = []
    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in ("airflow", "pendulum")
            or isinstance(node, ast.Import)
            and all(a.name.split(".")[0] in ("airflow", "pendulum") for a in node.names)
        ):
            statements.append(ast.unparse(node))
    return statements


def sample(dag_file: Path | None, statements: list[str]) -> dict[str, float]:
    env = {"AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    return run_child([PYTHON, "-c", _CHILD, str(dag_file or ""), json.dumps(statements)], env=env).result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    # the provider's bytecode, as an installed package (or a DAG processor's second parse) has it
    compileall.compile_dir(REPO / "airflow_provider_enkash", quiet=1)
    with tempfile.TemporaryDirectory(prefix="enkash-parse-bench-") as tmp:
        reference = Path(tmp) / "reference_dag.py"
        reference.write_text(REFERENCE_DAG)
        files = {REFERENCE: reference, **{f"`{f.name}`": f for f in DAG_FILES}}
        imports = {name: airflow_imports(path) for name, path in files.items()}
        runs: dict[str, list[dict[str, float]]] = {"import airflow.sdk": [], **{name: [] for name in files}}
        for round_no in range(args.repeats):
            order = ["import airflow.sdk", *files]
            for name in order if round_no % 2 == 0 else reversed(order):
                path = files.get(name)
                runs[name].append(sample(path, [] if path is None else imports[name]))
    report(args.repeats, runs)


def report(repeats: int, runs: dict[str, list[dict[str, float]]]) -> None:
    """The markdown section: one row per file; the goal's verdict per example DAG."""
    sdk = runs.pop("import airflow.sdk")

    def over(data: list[dict[str, float]], clock: str = "cpu") -> list[float]:
        return [r[f"airflow_{clock}"] + r[f"file_{clock}"] for r in data]

    floor = over(runs[REFERENCE])
    rows = [("`import airflow.sdk` itself (the baseline)", spread([r["sdk_cpu"] for r in sdk], "{:.0f}"),
             spread([r["sdk_wall"] for r in sdk], "{:.0f}"), "", "", "", "")]  # fmt: skip
    verdicts = []
    for name, data in runs.items():
        cost = over(data)
        beyond = [c - f for c, f in zip(cost, floor, strict=True)]  # paired: the same round
        rows.append((
            name, spread(cost, "{:.0f}"), spread(over(data, "wall"), "{:.0f}"),
            spread([r["airflow_cpu"] for r in data], "{:.0f}"), spread([r["file_cpu"] for r in data], "{:.0f}"),
            "" if name == REFERENCE else spread(beyond, "{:.0f}"),
            f"{statistics.median(c / r['sdk_cpu'] for c, r in zip(cost, data, strict=True)):.3f}",
        ))  # fmt: skip
        if name != REFERENCE:
            met = statistics.median(cost) <= GOAL_MS
            verdicts.append(f"{name}: {statistics.median(cost):.0f} ms over `import airflow.sdk` (goal <= "
                            f"{GOAL_MS:.0f} ms: {'met' if met else 'NOT met'}); {statistics.median(beyond):.0f} ms "
                            "over the minimal TaskFlow DAG")  # fmt: skip
    print("## DAG-file parse cost\n")
    print(f"Machine: {machine_line()}.\n")
    print(f"{repeats} fresh interpreters per row, alternating order; CPU time of the process "
          "(`time.process_time`) unless marked wall. Milliseconds: median (min-max).\n")  # fmt: skip
    print(table(("file", "CPU ms over `import airflow.sdk`", "wall ms over it", "of which: the file's Airflow imports",
                 "of which: the rest of the file (provider imports, Variables, building the DAG)",
                 "CPU ms over the minimal TaskFlow DAG (paired)", "cost / `import airflow.sdk` (CPU)"), rows))  # fmt: skip
    print()
    for v in verdicts:
        print(f"- {v}")


if __name__ == "__main__":
    main()
