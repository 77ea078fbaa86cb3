#!/usr/bin/env python3
"""Check moat's remediation plan (`remediations[]` of a `moat scan --format json`
report) with the ecosystems' own version tools, sharing no code with moat:

- Debian: `dpkg --compare-versions`; PyPI: Python `packaging`; Go, crates.io, npm:
  node's `semver` when target/tools/node has it, else numeric dotted comparison
  (their fixed versions here are plain MAJOR.MINOR.PATCH).

For every package in the plan: the upgrade target must be, for each finding that has
a fix, the smallest fixed version above the installed one — and the largest of those
over the package's findings; findings without any fix above the installed version are
listed as unfixed. Prints "checked N packages" or the differences (exit 1).
"""
import functools
import json
import subprocess
import sys

from packaging.version import Version


def dpkg_lt(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def numeric(v):
    v = v.lstrip("v")
    if v.startswith("go"):
        v = v[2:]
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("-")[0].split("+")[0].split("."))


def make_cmp(namespace):
    base = namespace.split(":")[0]
    if base in ("Debian", "Ubuntu"):
        return lambda a, b: 0 if a == b else (-1 if dpkg_lt(a, b) else 1)
    if base == "PyPI":
        return lambda a, b: (Version(a) > Version(b)) - (Version(a) < Version(b))
    return lambda a, b: (numeric(a) > numeric(b)) - (numeric(a) < numeric(b))


def main():
    r = json.load(open(sys.argv[1]))
    vulns = r["vulnerabilities"]
    errors = []
    checked = 0
    for m in r.get("remediations", []):
        key = (m["package"]["name"], m["package"]["version"], m["path"])
        vs = [v for v in vulns if (v["package"]["name"], v["package"]["version"], v["path"]) == key]
        if not vs:
            errors.append(f"{key}: in the plan but no finding")
            continue
        cmp = make_cmp(vs[0]["matched_by"]["namespace"])
        installed = vs[0]["matched_by"]["searched_version"]
        target = None
        fixes, unfixed = set(), set()
        for v in vs:
            above = [f for f in v["fixed_versions"] if cmp(f, installed) > 0]
            if not above:
                unfixed.add(v["id"])
                continue
            smallest = sorted(above, key=functools.cmp_to_key(cmp))[0]
            fixes.add(v["id"])
            if target is None or cmp(smallest, target) > 0:
                target = smallest
        got = m.get("fixed_version")
        if got != target:
            errors.append(f"{key}: plan says {got}, the tools say {target}")
        if set(m["fixes"]) != fixes or set(m.get("unfixed", [])) != unfixed:
            errors.append(f"{key}: fixes/unfixed differ")
        checked += 1
    # Every vulnerable package is in the plan.
    keys = {(v["package"]["name"], v["package"]["version"], v["path"]) for v in vulns}
    planned = {(m["package"]["name"], m["package"]["version"], m["path"]) for m in r.get("remediations", [])}
    if keys != planned:
        errors.append(f"packages missing from the plan: {sorted(keys - planned)[:5]}")
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"checked {checked} packages")


main()
