#!/usr/bin/python3
# dpkg version comparison through libapt (apt_pkg.version_compare implements
# dpkg's verrevcmp). Input: "a<TAB>b" lines. Output: -1/0/1 lines.
import sys
import apt_pkg

apt_pkg.init_system()
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    r = apt_pkg.version_compare(a, b)
    out.append("-1" if r < 0 else ("1" if r > 0 else "0"))
sys.stdout.write("\n".join(out) + ("\n" if out else ""))
