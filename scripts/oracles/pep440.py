#!/usr/bin/env python3
# Python packaging (PEP 440). Input lines:
#   cmp<TAB>a<TAB>b      -> -1/0/1 (E if either is invalid)
#   valid<TAB>v          -> true/false
#   spec<TAB>v<TAB>set   -> SpecifierSet(set).contains(v) as true/false, E if invalid
#   specpre<TAB>v<TAB>set -> the same with prereleases=True
import sys
from packaging.version import Version, InvalidVersion
from packaging.specifiers import SpecifierSet, InvalidSpecifier

out = []
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    kind = parts[0]
    try:
        if kind == "cmp":
            a, b = Version(parts[1]), Version(parts[2])
            out.append("-1" if a < b else ("1" if a > b else "0"))
        elif kind == "valid":
            try:
                Version(parts[1])
                out.append("true")
            except InvalidVersion:
                out.append("false")
        elif kind in ("spec", "specpre"):
            s = SpecifierSet(parts[2])
            v = Version(parts[1])
            pre = True if kind == "specpre" else None
            out.append("true" if s.contains(v, prereleases=pre) else "false")
        else:
            out.append("E")
    except (InvalidVersion, InvalidSpecifier):
        out.append("E")
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
