"""`make flake-check`: the end-to-end suite run several times in a row; every test that failed in
any run is named with how many times. Exits non-zero when one did.

    python -m e2e.flake_check [runs]        (5 by default; pytest's output in var/flake-check/)
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

OUT = Path("var/flake-check")


def failures(report: Path) -> list[str]:
    """The tests that failed or errored in one run's JUnit report."""
    if not report.exists():
        return ["(the run ended before writing its report)"]
    failed = []
    # Our own pytest wrote it, a moment ago.
    for case in ElementTree.parse(report).getroot().iter("testcase"):  # noqa: S314
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def main(runs: int) -> int:
    if runs < 1:
        print("flake-check: give a number of runs of 1 or more")
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    for run in range(1, runs + 1):
        report = OUT / f"run-{run}.xml"
        report.unlink(missing_ok=True)
        with (OUT / f"run-{run}.log").open("wb") as log:
            code = subprocess.call(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "e2e",
                    "-n",
                    "2",
                    "--dist",
                    "worksteal",
                    "-q",
                    f"--junitxml={report}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        failed = failures(report)
        counts.update(failed)
        print(f"run {run}/{runs}: exit {code}, {len(failed)} failed", flush=True)
    if not counts:
        print(f"flake-check: every e2e test passed in all {runs} runs")
        return 0
    print(f"flake-check: {len(counts)} test(s) failed at least once in {runs} runs:")
    for test, times in counts.most_common():
        print(f"  {times}/{runs}  {test}")
    print(f"logs and reports: {OUT}/")
    return 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
