"""`nox -s soak -- N [FILTER]`: grade every self-check case N times and report each verdict that changed.

A grader is only as good as its worst run: a verdict that differs between rounds on the same code is a flake
that a student would meet as a wrong grade. FILTER keeps the cases whose id contains it (e.g. `threads`).
Run it with the machine busy too (`python -c "while True: pass" &` once per core) to see flakes under load.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.test_course import CASES, PARALLEL_RUNS, grade


def verdicts(case, out: Path) -> tuple[str, ...]:
    results, _ = grade(case, out)
    if not results:
        return ("no results",)
    return tuple(f"{task.task}:{task.status}" for task in results[0].tasks)


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 3
    wanted = argv[1] if len(argv) > 1 else ""
    cases = [case for case in CASES if wanted in case.id]
    seen: dict[str, dict[tuple[str, ...], int]] = defaultdict(lambda: defaultdict(int))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        for number in range(rounds):
            out = Path(scratch) / f"round-{number}"
            out.mkdir()
            found = pool.map(verdicts, cases, [out] * len(cases))
            for case, verdict in zip(cases, found, strict=True):
                seen[case.id][verdict] += 1
            print(f"round {number + 1}/{rounds}: {len(cases)} cases, {time.monotonic() - started:.0f} s", flush=True)
    changed = {case_id: found for case_id, found in seen.items() if len(found) > 1}
    for case_id, found in sorted(changed.items()):
        print(f"CHANGED {case_id}:")
        for verdict, count in found.items():
            print(f"    {count}× {' '.join(verdict)}")
    print(f"{len(cases)} cases × {rounds} rounds: {len(changed)} verdicts changed")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
