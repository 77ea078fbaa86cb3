#!/usr/bin/env python3
"""Helpers for scripts/build-test-images (standard library only).

Subcommands:
  gzip-docker-archive IN OUT   rewrite a docker-archive so every layer blob is gzip
  pypi DIR                     name<TAB>version of every distribution installed in DIR
  npm DIR                      name<TAB>version of every package.json under DIR/node_modules
  cargo LOCKFILE               name<TAB>version of every [[package]] in a Cargo.lock
  apk INSTALLED                name<TAB>version<TAB>origin from an apk `installed` database
  layers OCI TAG DESCFILE      diff_id<TAB>description of each layer of OCI:TAG
  tree DIR                     every path under DIR (leading /), sorted
  deb-fetch PACKAGES MIRROR NAME DIR
                               download package NAME as listed in an apt Packages index
                               from MIRROR into DIR (SHA256 checked; reused if present);
                               prints the .deb path
All output is sorted and goes to stdout.
"""
import gzip
import io
import json
import os
import posixpath
import sys
import tarfile


def gzip_docker_archive(src, dst):
    """Same entries in the same order; layer blobs gzip-compressed (mtime 0, level 6)."""
    with tarfile.open(src) as tin:
        members = tin.getmembers()
        manifest = json.load(tin.extractfile("manifest.json"))
        renames = {}
        for image in manifest:
            new_layers = []
            for layer in image["Layers"]:
                new = layer + ".gz" if not layer.endswith(".gz") else layer
                renames[layer] = new
                new_layers.append(new)
            image["Layers"] = new_layers
        tmp = dst + ".part"
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tout:
            for m in members:
                if m.name == "manifest.json":
                    data = json.dumps(manifest, separators=(",", ":")).encode()
                    info = tarfile.TarInfo("manifest.json")
                    info.size, info.mtime, info.mode = len(data), m.mtime, m.mode
                    tout.addfile(info, io.BytesIO(data))
                elif m.name in renames and m.isfile():
                    buf = io.BytesIO()
                    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz:
                        f = tin.extractfile(m)
                        while True:
                            chunk = f.read(1 << 20)
                            if not chunk:
                                break
                            gz.write(chunk)
                    data = buf.getvalue()
                    info = tarfile.TarInfo(renames[m.name])
                    info.size, info.mtime, info.mode = len(data), m.mtime, m.mode
                    tout.addfile(info, io.BytesIO(data))
                elif m.isfile():
                    tout.addfile(m, tin.extractfile(m))
                elif m.issym() and posixpath.normpath(
                        posixpath.join(posixpath.dirname(m.name), m.linkname)) in renames:
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(m.name), m.linkname))
                    m.linkname = posixpath.relpath(renames[target], posixpath.dirname(m.name))
                    tout.addfile(m)
                else:
                    tout.addfile(m)
        os.replace(tmp, dst)


def pypi(path):
    import importlib.metadata as md

    rows = {(d.metadata["Name"], d.version) for d in md.distributions(path=[path])}
    return sorted(rows)


def npm(prefix):
    """Every package directory (node_modules/NAME or node_modules/@SCOPE/NAME), any depth."""
    rows = set()
    for root, dirs, files in os.walk(os.path.join(prefix, "node_modules")):
        dirs.sort()
        parent = os.path.basename(os.path.dirname(root))
        grand = os.path.basename(os.path.dirname(os.path.dirname(root)))
        is_pkg = parent == "node_modules" or (parent.startswith("@") and grand == "node_modules")
        if not is_pkg or "package.json" not in files or os.path.basename(root).startswith("."):
            continue
        with open(os.path.join(root, "package.json"), encoding="utf-8") as f:
            pkg = json.load(f)
        if "name" in pkg and "version" in pkg:
            rows.add((pkg["name"], pkg["version"]))
    return sorted(rows)


def cargo(lockfile):
    import tomllib

    with open(lockfile, "rb") as f:
        lock = tomllib.load(f)
    return sorted({(p["name"], p["version"]) for p in lock.get("package", [])})


def apk(installed):
    rows = set()
    with open(installed, encoding="utf-8") as f:
        text = f.read()
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields:
            rows.add((fields["P"], fields.get("V", ""), fields.get("o", "")))
    return sorted(rows)


def blob(oci, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(oci, "blobs", algo, hexd), "rb") as f:
        return json.load(f)


def layers(oci, tag, descfile):
    with open(os.path.join(oci, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    desc = [m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(desc) != 1:
        sys.exit(f"tools.py: tag {tag!r} not found once in {oci}/index.json")
    manifest = blob(oci, desc[0]["digest"])
    config = blob(oci, manifest["config"]["digest"])
    with open(descfile, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    diff_ids = config["rootfs"]["diff_ids"]
    if len(texts) != len(diff_ids):
        sys.exit(f"tools.py: {len(diff_ids)} layers but {len(texts)} descriptions in {descfile}")
    return list(zip(diff_ids, texts))  # image order, not sorted


def tree(top):
    rows = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            rows.append("/" + os.path.relpath(os.path.join(root, name), top))
    return sorted(rows)


def deb_fetch(packages, mirror, name, outdir):
    import hashlib
    import urllib.request

    stanza = None
    with open(packages, encoding="utf-8") as f:
        for block in f.read().split("\n\n"):
            fields = {}
            for line in block.splitlines():
                if line[:1] not in (" ", "\t") and ":" in line:
                    k, v = line.split(":", 1)
                    fields[k] = v.strip()
            if fields.get("Package") == name:
                stanza = fields
                break
    if stanza is None:
        sys.exit(f"tools.py: package {name} not in {packages}")
    want = stanza["SHA256"]
    dest = os.path.join(outdir, posixpath.basename(stanza["Filename"]))

    def sha(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    if not (os.path.exists(dest) and sha(dest) == want):
        url = mirror.rstrip("/") + "/" + stanza["Filename"]
        with urllib.request.urlopen(url, timeout=120) as r, open(dest + ".part", "wb") as out:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        if sha(dest + ".part") != want:
            sys.exit(f"tools.py: SHA256 mismatch for {url}")
        os.replace(dest + ".part", dest)
    print(dest)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "gzip-docker-archive":
        gzip_docker_archive(*args)
        return
    if cmd == "deb-fetch":
        deb_fetch(*args)
        return
    if cmd == "tree":
        out = tree(*args)
        sys.stdout.write("".join(p + "\n" for p in out))
        return
    rows = {"pypi": pypi, "npm": npm, "cargo": cargo, "apk": apk, "layers": layers}[cmd](*args)
    sys.stdout.write("".join("\t".join(r) + "\n" for r in rows))


if __name__ == "__main__":
    main(sys.argv)
