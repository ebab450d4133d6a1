"""Compare two pytest JUnit XML reports: exit 1 if any test's outcome differs between them.

python .ci/same_outcomes.py normal.xml shifted.xml
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def outcomes(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for case in ET.parse(path).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[name] = kinds[0] if kinds else "passed"
    return found


def main(first: str, second: str) -> int:
    a, b = outcomes(first), outcomes(second)
    differ = sorted(
        f"  {name}: {a.get(name, 'absent')} → {b.get(name, 'absent')}"
        for name in a.keys() | b.keys()
        if a.get(name) != b.get(name)
    )
    if differ:
        print(f"{len(differ)} test outcome(s) changed under the shifted clock:", *differ, sep="\n")
        return 1
    print(f"same outcomes for all {len(a)} tests under the shifted clock")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
