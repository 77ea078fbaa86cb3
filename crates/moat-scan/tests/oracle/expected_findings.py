#!/usr/bin/env python3
"""Independent oracle for moat scan's correctness test.

Computes, straight from the advisory data and with the real version tools, the set of
(advisory id, ecosystem, package, version) that apply to the `full` test image:

- Debian packages: `dpkg-query` on the image's dpkg database (binary, version, source,
  source version); Debian:12 OSV advisories by SOURCE package; comparison with
  `dpkg --compare-versions`.
- PyPI: the installed dist-info directories (importlib.metadata); PyPI OSV advisories;
  comparison with `packaging.version`.
- crates.io: the image's Cargo.lock (tomllib); crates.io OSV advisories (SEMVER
  ranges); comparison with node `semver`.
- npm: the packages npm itself recorded as installed (`node_modules/.package-lock.json`,
  npm's hidden lockfile, which `npm ci` writes) in every node_modules tree of the image;
  npm OSV advisories (SEMVER ranges); node `semver`.
- Go: the runc binary's build info, read here by hand from `.go.buildinfo` (Go 1.18+
  layout); Go OSV advisories (SEMVER ranges) for the modules and `stdlib`; node
  `semver`.

OSV range evaluation follows https://ossf.github.io/osv-schema/#evaluation.
Withdrawn advisories are skipped. Prints TSV lines: id, ecosystem, name, version.
Usage: expected_findings.py IMAGE_DIR VULNDATA_DIR NODE_MODULES_DIR [EXTRA_PACKAGES_TSV]
"""
import functools
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile

from packaging.version import InvalidVersion, Version

image, vulndata, node_modules = sys.argv[1], sys.argv[2], sys.argv[3]
rootfs = os.path.join(image, "rootfs")


def osv_records(eco):
    with zipfile.ZipFile(os.path.join(vulndata, "osv", eco, "all.zip")) as z:
        for n in z.namelist():
            if n.endswith(".json"):
                yield json.loads(z.read(n))


def affected(events, versions, v, lt):
    """OSV evaluation: is `v` affected given sorted events and a less-than function."""
    if v in versions:
        return True

    def key(e):
        (kind, ver), = e.items()
        return ver

    evs = []
    for e in events:
        (kind, ver), = e.items()
        evs.append((kind, ver))
    # sort by version, "0" first
    def cmp(a, b):
        if a[1] == b[1]:
            return 0
        if a[1] == "0":
            return -1
        if b[1] == "0":
            return 1
        return -1 if lt(a[1], b[1]) else 1

    evs.sort(key=functools.cmp_to_key(cmp))
    vulnerable = False
    for kind, ver in evs:
        if kind == "introduced":
            if ver == "0" or not lt(v, ver):
                vulnerable = True
        elif kind == "fixed":
            if not lt(v, ver):
                vulnerable = False
        elif kind == "last_affected":
            if lt(ver, v):
                vulnerable = False
        elif kind == "limit":
            if not lt(v, ver):
                vulnerable = False
    return vulnerable


out = set()

# ---- Debian ----
q = subprocess.run(
    ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${source:Package}\t${source:Version}\n",
     "--admindir=" + os.path.join(rootfs, "var/lib/dpkg")],
    check=True, capture_output=True, text=True).stdout
by_source = {}
for line in q.splitlines():
    name, ver, src, srcver = line.split("\t")
    by_source.setdefault(src, []).append((name, ver, srcver or ver))


@functools.lru_cache(maxsize=None)
def dpkg_lt(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


for rec in osv_records("Debian"):
    if rec.get("withdrawn"):
        continue
    for aff in rec.get("affected", []):
        pkg = aff.get("package", {})
        if pkg.get("ecosystem") != "Debian:12" or pkg.get("name") not in by_source:
            continue
        for name, ver, srcver in by_source[pkg["name"]]:
            hit = any(affected(r.get("events", []), [], srcver, dpkg_lt)
                      for r in aff.get("ranges", []) if r.get("type") == "ECOSYSTEM")
            if hit or srcver in aff.get("versions", []):
                out.add((rec["id"], "deb", name, ver))

# ---- PyPI ----
site = os.path.join(rootfs, "usr/local/lib/python3.11/dist-packages")
pypi = {}
for d in importlib.metadata.distributions(path=[site]):
    pypi[re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower()] = (d.metadata["Name"], d.version)


def pep_lt(a, b):
    try:
        return Version(a) < Version(b)
    except InvalidVersion:
        return False


for rec in osv_records("PyPI"):
    if rec.get("withdrawn"):
        continue
    for aff in rec.get("affected", []):
        pkg = aff.get("package", {})
        key = re.sub(r"[-_.]+", "-", pkg.get("name", "")).lower()
        if pkg.get("ecosystem") != "PyPI" or key not in pypi:
            continue
        name, ver = pypi[key]
        hit = ver in aff.get("versions", []) or any(
            affected(r.get("events", []), [], ver, pep_lt)
            for r in aff.get("ranges", []) if r.get("type") == "ECOSYSTEM")
        if hit:
            out.add((rec["id"], "pypi", name, ver))

# ---- semver oracle (node) ----
pairs = []


def collect_semver(records, eco, pkgs, label):
    """Collect candidates, then evaluate with node semver in one process."""
    cands = []
    for rec in records:
        if rec.get("withdrawn"):
            continue
        for aff in rec.get("affected", []):
            pkg = aff.get("package", {})
            if pkg.get("ecosystem") != eco or pkg.get("name") not in pkgs:
                continue
            for ver in pkgs[pkg["name"]]:
                for r in aff.get("ranges", []):
                    if r.get("type") in ("SEMVER", "ECOSYSTEM"):
                        cands.append((rec["id"], label, pkg["name"], ver, r.get("events", []),
                                      aff.get("versions", [])))
                if not aff.get("ranges") and ver in aff.get("versions", []):
                    out.add((rec["id"], label, pkg["name"], ver))
    return cands


crates = {}
with open(os.path.join(rootfs, "app/rust/Cargo.lock"), "rb") as f:
    for p in tomllib.load(f).get("package", []):
        crates.setdefault(p["name"], []).append(p["version"])


main_paths = set()


def go_buildinfo(path):
    data = open(path, "rb").read()
    i = data.find(b"\xff Go buildinf:")
    if i < 0:
        return None, []
    flags = data[i + 15]
    if not flags & 2:
        raise SystemExit("old (pre-1.18) Go build info layout is not handled by this oracle")
    pos = i + 32

    def varstr(p):
        n, shift = 0, 0
        while True:
            b = data[p]
            p += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        return data[p:p + n], p + n

    gover, pos = varstr(pos)
    gover = gover.decode()
    mod, pos = varstr(pos)
    # The module info is framed by two 16-byte sentinels (cmd/go: infoStart, infoEnd).
    if len(mod) >= 33 and mod[-17] == 0x0A:
        mod = mod[16:-16]
    mod = mod.decode()
    deps = []
    global main_paths
    for line in mod.splitlines():
        if line.startswith("path\t"):
            main_paths.add(line.split("\t")[1])
        parts = line.split("\t")
        if parts[0] in ("dep", "=>") and len(parts) >= 3:
            if parts[0] == "=>" and deps:
                deps[-1] = (parts[1], parts[2])
            else:
                deps.append((parts[1], parts[2]))
    return gover, deps


# Every Go binary in the image (executable files with Go build info).
gopkgs = {}
stdlib_label = {}
for dirpath, dirnames, filenames in os.walk(rootfs):
    for fn in filenames:
        p = os.path.join(dirpath, fn)
        if os.path.islink(p) or not os.path.isfile(p) or not os.access(p, os.X_OK):
            continue
        with open(p, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        gover, deps = go_buildinfo(p)
        if gover is None:
            continue
        v = gover.removeprefix("go")
        gopkgs.setdefault("stdlib", []).append(v)
        stdlib_label[v] = gover
        for m, dv in deps:
            gopkgs.setdefault(m, []).append(dv.removeprefix("v"))
# Versions only a catalog heuristic can name (a main module whose build info says
# "(devel)" but whose version was linked in with -X main.version): the test passes
# moat's golang packages, and only those naming a main module are taken.
if len(sys.argv) > 4:
    for line in open(sys.argv[4]):
        eco, name, ver = line.rstrip("\n").split("\t")
        if eco == "golang" and name in main_paths and ver != "(devel)":
            gopkgs.setdefault(name, []).append(ver.removeprefix("v"))
for k in gopkgs:
    gopkgs[k] = sorted(set(gopkgs[k]))

cands = collect_semver(osv_records("crates.io"), "crates.io", crates, "cargo")
cands += collect_semver(osv_records("Go"), "Go", gopkgs, "golang")

# npm: what npm recorded as installed, per node_modules tree (keys "node_modules/NAME",
# nested "node_modules/a/node_modules/@scope/b"; the name is what follows the last
# "node_modules/"). Links and extraneous entries are not installed packages.
npmpkgs = {}
for dirpath, dirnames, filenames in os.walk(rootfs):
    if os.path.basename(dirpath) == "node_modules" and ".package-lock.json" in filenames:
        with open(os.path.join(dirpath, ".package-lock.json")) as f:
            lock = json.load(f)
        for key, meta in lock.get("packages", {}).items():
            if "node_modules/" not in key or meta.get("link") or "version" not in meta:
                continue
            name = key.rsplit("node_modules/", 1)[1]
            npmpkgs.setdefault(name, set()).add(meta["version"])
npmpkgs = {k: sorted(v) for k, v in npmpkgs.items()}
if not npmpkgs:
    raise SystemExit("no node_modules/.package-lock.json in the image: the npm part of the oracle has no input")
cands += collect_semver(osv_records("npm"), "npm", npmpkgs, "npm")

script = r"""
const semver = require(process.argv[1] + '/semver');
const cands = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const lt = (a, b) => {
  return semver.lt(semver.valid(a) ? a : semver.coerce(a).version, semver.valid(b) ? b : semver.coerce(b).version); };
function affected(events, v) {
  const evs = events.map(e => Object.entries(e)[0]);
  evs.sort((a, b) => a[1] === b[1] ? 0 : a[1] === '0' ? -1 : b[1] === '0' ? 1 : (lt(a[1], b[1]) ? -1 : 1));
  let vul = false;
  for (const [k, ver] of evs) {
    if (k === 'introduced') { if (ver === '0' || !lt(v, ver)) vul = true; }
    else if (k === 'fixed' || k === 'limit') { if (!lt(v, ver)) vul = false; }
    else if (k === 'last_affected') { if (lt(ver, v)) vul = false; }
  }
  return vul;
}
const out = cands.filter(c => c[5].includes(c[3]) || affected(c[4], c[3])).map(c => [c[0], c[1], c[2], c[3]]);
process.stdout.write(JSON.stringify(out));
"""
res = subprocess.run(["node", "-e", script, os.path.abspath(node_modules)], input=json.dumps(cands),
                     capture_output=True, text=True)
if res.returncode != 0:
    raise SystemExit("node semver oracle failed: " + res.stderr)
for id_, label, name, ver in json.loads(res.stdout):
    if label == "golang" and name == "stdlib":
        ver = stdlib_label[ver]  # the toolchain as it is written (go1.x.y)
    elif label == "golang":
        ver = "v" + ver
    out.add((id_, label, name, ver))

for row in sorted(out):
    print("\t".join(row))
