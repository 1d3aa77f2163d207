"""Summarise the last ``mutmut run`` (``make mutation``): the kill rate of every mutated
module and the names of the mutants that survived.

Reads ``mutants/<module>.meta`` (mutmut's own record of each mutant's exit code).  A
mutant counts as *killed* when a test failed (or it ran into the timeout: a mutation
that makes a loop never end is caught); *survived* when every test selected for it
passed; *no tests* when no selected test reaches its code.  The kill rate is
killed / (killed + survived + no tests + suspicious).

Usage: ``python scripts/mutation_report.py [--survivors]`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

#: mutmut's exit code -> outcome (as ``mutmut.stats.status_by_exit_code``).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", None: "not checked", 2: "interrupted", 37: "type check",
          -11: "segfault", -9: "segfault"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--survivors", action="store_true", help="list every survivor by name")
    a = ap.parse_args()
    cfg = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    total: Counter = Counter()
    survivors = []
    print(f"{'module':24s} {'mutants':>8s} {'killed':>7s} {'survived':>9s} {'no tests':>9s}"
          f" {'rate':>7s}")
    for module in cfg["only_mutate"]:
        meta = Path("mutants") / (module + ".meta")
        if not meta.exists():
            print(f"{module:24s} (no results: run `make mutation`)")
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        c = Counter(STATUS.get(v, "suspicious") for v in codes.values())
        c["killed"] += c.pop("timeout", 0)
        total.update(c)
        survivors += [k for k, v in codes.items() if STATUS.get(v) in ("survived", "no tests")]
        judged = c["killed"] + c["survived"] + c["no tests"] + c["suspicious"]
        rate = c["killed"] / judged if judged else float("nan")
        print(f"{module:24s} {sum(c.values()):8d} {c['killed']:7d} {c['survived']:9d} "
              f"{c['no tests']:9d} {rate:7.1%}")
    judged = total["killed"] + total["survived"] + total["no tests"] + total["suspicious"]
    if not judged:
        print("no mutation results; run `make mutation` first", file=sys.stderr)
        return 1
    print(f"{'all':24s} {sum(total.values()):8d} {total['killed']:7d} {total['survived']:9d} "
          f"{total['no tests']:9d} {total['killed'] / judged:7.1%}")
    if total["not checked"]:
        print(f"({total['not checked']} mutants not checked: the run was interrupted)")
    if a.survivors:
        print("\nsurvivors (`mutmut show NAME` prints the change):")
        for name in survivors:
            print("  " + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
