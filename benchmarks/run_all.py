"""Regenerate benchmarks/RESULTS.md: every benchmark, each against its baseline in the same run.

    .venv/bin/python benchmarks/run_all.py            # the whole set (about 35 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick    # small sizes, to check the scripts work

Runs the benchmarks one after another (each prints its own markdown section) and writes their output,
under a header naming the command, the time and the machine, to ``benchmarks/RESULTS.md``. The trigger
benchmark runs in its ``--goals`` mode (about 12 minutes; its full matrix takes about 50).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import PYTHON, machine_line  # noqa: E402  (benchmarks/ is not a package)

# Sized for about 19 minutes on 2 quiet cores before the trigger benchmark (export: 100,000 rows x 5
# clients x 5 rounds, since its SQL-vs-plain-loop ratio moves +-8% between identical runs, then
# 1,000,000 rows once per format for RSS(1M) / RSS(100k), about 13 minutes; parse, hook and batch
# about 6); the scripts' own defaults are the same or larger (hook: 2,000 calls).
FULL = [
    ("parse_benchmark.py", ["--repeats", "5"]),
    ("hook_benchmark.py", ["--calls", "1000"]),
    ("batch_load_benchmark.py", []),
    ("export_benchmark.py", ["--rows", "100000", "--repeats", "5", "--large", "1000000"]),
    ("trigger_benchmark.py", ["--goals"]),  # about 12 minutes: the issue-18 goals and baselines
]
QUICK = {
    "parse_benchmark.py": ["--repeats", "3"],
    "hook_benchmark.py": ["--calls", "200"],
    "batch_load_benchmark.py": ["--rows", "500"],
    "export_benchmark.py": ["--rows", "5000", "--large", "20000"],
    "trigger_benchmark.py": ["--quick"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; does not write RESULTS.md")
    parser.add_argument("--with-trigger", action="store_true", help="(kept for old commands: always runs)")
    args = parser.parse_args()
    benchmarks = list(FULL)
    started = datetime.now(UTC)
    sections = []
    for script, extra in benchmarks:
        argv = [PYTHON, str(HERE / script), *(QUICK[script] if args.quick else extra)]
        print(f"== {' '.join(argv[1:])}", flush=True)
        began = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"{script} failed")
        print(done.stdout, flush=True)
        sections.append(
            done.stdout.strip() + f"\n\n(`benchmarks/{script}`, {time.monotonic() - began:.0f} s)"
        )
    header = f"""# Benchmark results

Produced by one command, `.venv/bin/python benchmarks/run_all.py` (after `source scripts/_venv.sh`),
started {started:%Y-%m-%d %H:%M} UTC on: {machine_line()}.

Every figure that has a goal is a ratio between the provider and its baseline measured in the same run,
on the same sandbox, in fresh processes, in alternating order, over several rounds (median, with the
range over the rounds). Absolute times on this shared 2-core machine move with whatever else runs; the
ratios move much less. See each script's docstring for what exactly it measures."""
    text = header + "\n\n" + "\n\n".join(sections) + "\n"
    if args.quick:
        print("(--quick: RESULTS.md not written)")
        return
    (HERE / "RESULTS.md").write_text(text)
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
