"""Print `make mutation`'s outcome per module: mutants killed, survived, and the survivors' names.

Run in the directory mutmut ran in; reads the `.meta` files mutmut writes beside each mutated
module under mutants/. Exits 1 when a mutant was never checked or the run found no mutants.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

MODULES = ["arbkit/core/fills.py", "arbkit/core/risk.py", "arbkit/core/portfolio.py", "arbkit/core/fees.py"]
KILLED = {1, 3, 37}  # a failing test (or pytest's internal error), or the type checker
TIMEOUT = {36, 24, -24, 152, 255}  # the tests never finished: killed by their time bound
SURVIVED = {0}
NO_TESTS = {5, 33}  # no selected test runs the mutated function: as good as survived


def main() -> int:
    total: Counter[str] = Counter()
    survivors: list[str] = []
    unchecked = 0
    for module in MODULES:
        meta = Path("mutants") / (module + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        counts: Counter[str] = Counter()
        for name, code in sorted(codes.items()):
            if code in KILLED:
                counts["killed"] += 1
            elif code in TIMEOUT:
                counts["killed"] += 1
                counts["of which timeouts"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors.append(name)
            elif code in NO_TESTS:
                counts["survived"] += 1
                counts["of which no tests"] += 1
                survivors.append(f"{name} (no tests)")
            elif code is None:
                counts["not checked"] += 1
            else:
                counts[f"other (exit {code})"] += 1
                survivors.append(f"{name} (exit {code})")
        unchecked += counts["not checked"]
        total.update(counts)
        n = sum(counts.values())
        checked = n - counts["not checked"]
        share = f"{100 * counts['survived'] / checked:.1f}% of checked" if checked else "-"
        extra = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("killed", "survived"))
        n -= counts["of which timeouts"] + counts["of which no tests"]
        line = f"{module:28} mutants {n:4}  killed {counts['killed']:4}  survived {counts['survived']:3} ({share})"
        sys.stdout.write(line + (f"  [{extra}]" if extra else "") + "\n")
    n = sum(total.values()) - total["of which timeouts"] - total["of which no tests"]
    sys.stdout.write(f"{'all four':28} mutants {n:4}  killed {total['killed']:4}  survived {total['survived']:3}\n")
    for name in survivors:
        sys.stdout.write(f"  survived: {name}\n")
    return 1 if unchecked or not n else 0


if __name__ == "__main__":
    sys.exit(main())
