#!/usr/bin/env python3
"""An independent oracle for the ecosystems test: which OSV advisories affect the given
packages, read straight from an osv.dev `all.zip`, with versions ordered by the
ecosystem's real tool:

- Ubuntu/Debian: `dpkg --compare-versions`
- RubyGems: Ruby's `Gem::Version`
- Packagist: Composer's own `Composer\\Semver\\Comparator` (Debian's php-composer-semver)

Usage: osv_eval.py ZIP NAMESPACE < lines of "name<TAB>version"
Prints "id<TAB>name<TAB>version" for every advisory whose ranges (OSV semantics:
events in version order, introduced/fixed/last_affected) or versions list include the
version. Shares no code with moat.
"""
import functools
import json
import subprocess
import sys
import zipfile


def sort_dpkg(versions):
    def cmp(a, b):
        if a == b:
            return 0
        lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
        return -1 if lt else 1
    return sorted(versions, key=functools.cmp_to_key(cmp))


def sort_with(prog, argv, versions):
    out = subprocess.run(argv + [prog], input="\n".join(versions) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return [l for l in out.split("\n") if l != ""]


RUBY = 'puts STDIN.read.split("\\n").reject(&:empty?).sort_by { |v| Gem::Version.new(v) }'
# Composer compares normalized versions (`v2.4.0` -> `2.4.0.0`), as its solver does.
PHP = ('require "/usr/share/php/Composer/Semver/autoload.php"; '
       '$p = new Composer\\Semver\\VersionParser(); '
       '$v = array_values(array_filter(explode("\\n", stream_get_contents(STDIN)), "strlen")); '
       'usort($v, function ($a, $b) use ($p) { $x = $p->normalize($a); $y = $p->normalize($b); '
       'if (Composer\\Semver\\Comparator::lessThan($x, $y)) return -1; '
       'if (Composer\\Semver\\Comparator::greaterThan($x, $y)) return 1; return 0; }); '
       'echo implode("\\n", $v), "\\n";')


def order(namespace, versions):
    base = namespace.split(":")[0]
    vs = sorted(set(versions))
    if base in ("Ubuntu", "Debian"):
        return sort_dpkg(vs)
    if base == "RubyGems":
        return sort_with(RUBY, ["ruby", "-e"], vs)
    if base == "Packagist":
        return sort_with(PHP, ["php", "-r"], vs)
    raise SystemExit(f"no version tool for {namespace}")


def affected(entry, version, rank):
    if version in entry.get("versions", []):
        return True
    v = rank[version]
    for r in entry.get("ranges", []):
        if r["type"] not in ("ECOSYSTEM", "SEMVER"):
            continue
        evs = []
        for e in r["events"]:
            (k, x), = e.items()
            evs.append((-1 if x == "0" else rank[x], k))
        evs.sort()
        state = False
        for pos, k in evs:
            if k == "introduced" and pos <= v:
                state = True
            elif k == "fixed" and pos <= v:
                state = False
            elif k == "last_affected" and pos < v:
                state = False
        if state:
            return True
    return False


def main():
    zpath, namespace = sys.argv[1], sys.argv[2]
    wanted = [l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()]
    names = {n.lower() for n, _ in wanted}
    z = zipfile.ZipFile(zpath)
    entries = []
    for n in z.namelist():
        d = json.loads(z.read(n))
        if d.get("withdrawn"):
            continue
        for a in d.get("affected", []):
            p = a.get("package", {})
            if p.get("ecosystem") == namespace and p.get("name", "").lower() in names:
                entries.append((d["id"], p["name"].lower(), a))
    for name, version in wanted:
        mine = [(i, a) for i, n, a in entries if n == name.lower()]
        allv = [version]
        for _, a in mine:
            allv += a.get("versions", [])
            for r in a.get("ranges", []):
                for e in r["events"]:
                    x = list(e.values())[0]
                    if x != "0":
                        allv.append(x)
        rank = {v: i for i, v in enumerate(order(namespace, allv))}
        for i, a in mine:
            if affected(a, version, rank):
                print(f"{i}\t{name}\t{version}")


main()
