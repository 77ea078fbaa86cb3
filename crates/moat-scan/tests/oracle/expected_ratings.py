#!/usr/bin/env python3
"""An independent oracle for finding severities: reads a `moat scan --format json`
report's findings (id, namespace, package), and rates each straight from the files in
../shared/vulndata — the OSV zips, the CVE JSON 5 records (vulnrichment/cves.zip) and
the NVD CVE API 2.0 records (nvd/cves.zip) — by the precedence documented in
docs/scan.md, with scores computed by the `cvss` package (PyPI). Shares no code with
moat.

Prints one line per finding: "id<TAB>package<TAB>severity<TAB>source-class<TAB>kev-date".
"""
import glob
import json
import os
import sys
import zipfile

from cvss import CVSS2, CVSS3, CVSS4

CLASS_RANK = {"advisory": 0, "cna": 1, "adp": 2, "nvd": 3, "osv": 4}
VERSION_RANK = {"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}


def score(version, vector):
    try:
        if version == "2.0":
            return float(CVSS2(vector.replace("CVSS:2.0/", "")).base_score)
        if version == "4.0":
            return float(CVSS4(vector).base_score)
        return float(CVSS3(vector).base_score)
    except Exception:
        return None


def band(version, s):
    if s is None or s <= 0:
        return "UNKNOWN"
    if version != "2.0" and s >= 9.0:
        return "CRITICAL"
    if s >= 7.0:
        return "HIGH"
    if s >= 4.0:
        return "MEDIUM"
    return "LOW"


def osv_version(kind, vector):
    if vector.startswith("CVSS:"):
        return vector[5:].split("/")[0]
    return {"CVSS_V2": "2.0", "CVSS_V4": "4.0"}.get(kind, "3.x")


def cve_of(i):
    k = i.find("CVE-")
    return i[k:] if k >= 0 else None


def load(vulndata):
    osv = {}          # id -> record
    by_cve = {}       # CVE -> [record]
    for z in glob.glob(os.path.join(vulndata, "osv", "*", "all.zip")):
        zf = zipfile.ZipFile(z)
        for n in zf.namelist():
            d = json.loads(zf.read(n))
            osv[d["id"]] = d
            for i in [d["id"]] + d.get("aliases", []) + d.get("upstream", []):
                c = cve_of(i)
                if c:
                    by_cve.setdefault(c, []).append(d)
    cves = {}         # CVE -> (metrics [(class, version, vector, score)], kev)
    zf = zipfile.ZipFile(os.path.join(vulndata, "vulnrichment", "cves.zip"))
    for n in zf.namelist():
        if not n.endswith(".json"):
            continue
        d = json.loads(zf.read(n))
        cid = d["cveMetadata"]["cveId"]
        ms, kev = cves.setdefault(cid, ([], None))
        conts = [("cna", d["containers"].get("cna", {}))] + [("adp", a) for a in d["containers"].get("adp", [])]
        for cls, c in conts:
            for m in c.get("metrics", []):
                for key, ver in (("cvssV4_0", "4.0"), ("cvssV3_1", "3.1"), ("cvssV3_0", "3.0"), ("cvssV2_0", "2.0")):
                    if key in m:
                        vec = m[key]["vectorString"]
                        ms.append((cls, ver, vec, score(ver, vec) or m[key].get("baseScore")))
                o = m.get("other", {})
                if o.get("type") == "kev" and kev is None:
                    kev = o["content"].get("dateAdded")
        cves[cid] = (ms, kev)
    zf = zipfile.ZipFile(os.path.join(vulndata, "nvd", "cves.zip"))
    for n in zf.namelist():
        if not n.endswith(".json"):
            continue
        d = json.loads(zf.read(n))
        cid = d["id"]
        ms, kev = cves.setdefault(cid, ([], None))
        for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"):
            for m in d.get("metrics", {}).get(key, []):
                src = m.get("source", "")
                cls = "nvd" if (m.get("type") == "Primary" or src == "nvd@nist.gov") else (
                    "cna" if src == d.get("sourceIdentifier") else "adp")
                cd = m["cvssData"]
                ver = cd.get("version", "3.1")
                ms.append((cls, ver, cd["vectorString"], score(ver, cd["vectorString"]) or cd.get("baseScore")))
        if kev is None and d.get("cisaExploitAdd"):
            kev = d["cisaExploitAdd"]
        cves[cid] = (ms, kev)
    return osv, by_cve, cves


def own_severities(rec, namespace, name):
    out = list(rec.get("severity", []))
    for a in rec.get("affected", []):
        p = a.get("package", {})
        if p.get("ecosystem") == namespace and p.get("name", "").lower() == name.lower():
            out += a.get("severity", [])
            ds = a.get("database_specific") or {}
            if "ruby" in str(ds.get("source", "")):
                for key, kind in (("cvss_v4", "CVSS_V4"), ("cvss_v3", "CVSS_V3"), ("cvss_v2", "CVSS_V2")):
                    if isinstance(ds.get(key), (int, float)) and ds[key] > 0 and not any(s["type"] == kind for s in out):
                        out.append({"type": kind, "score": "", "_score": float(ds[key])})
    return out


def rate(f, osv, by_cve, cves):
    rec = osv.get(f["id"], {})
    ns = f["matched_by"]["namespace"]
    name = f["matched_by"]["searched_name"]
    own = own_severities(rec, ns, name)
    os_pkg = f["matched_by"]["matcher"] in ("dpkg-source", "apk-origin", "rpm-source")
    ds = rec.get("database_specific") or {}
    nvd_vectors = {c.get("vector") for c in ds.get("cvss", []) if c.get("source") == "nvd"} if isinstance(ds.get("cvss"), list) else set()
    ids = [rec.get("id", f["id"])] + rec.get("aliases", []) + rec.get("upstream", [])
    cve_ids = sorted({c for c in map(cve_of, ids) if c})
    kev = next((cves[c][1] for c in cve_ids if c in cves and cves[c][1]), "")
    if os_pkg:
        pr = [s["score"].lower() for s in own if s["type"] == "Ubuntu"]
        m = {"negligible": "LOW", "low": "LOW", "medium": "MEDIUM", "high": "HIGH", "critical": "CRITICAL"}
        rated = sorted({m[p] for p in pr if p in m}, key=["LOW", "MEDIUM", "HIGH", "CRITICAL"].index)
        if rated:
            return rated[-1], "ubuntu", kev
    if isinstance(ds.get("severity"), str):
        s = ds["severity"].upper().replace("MODERATE", "MEDIUM")
        if s in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
            return s, "advisory", kev
    cands = []
    for s in own:
        if not s["type"].startswith("CVSS_"):
            continue
        vec = s["score"]
        ver = osv_version(s["type"], vec)
        sc = s.get("_score") if not vec else score(ver, vec)
        cands.append(("nvd" if vec in nvd_vectors else "advisory", ver, sc))
    for c in cve_ids:
        for cls, ver, vec, sc in cves.get(c, ([], None))[0]:
            cands.append((cls, ver, sc))
        for other in by_cve.get(c, []):
            if other["id"] == rec.get("id"):
                continue
            ods = other.get("database_specific") or {}
            onvd = {x.get("vector") for x in ods.get("cvss", []) if x.get("source") == "nvd"} if isinstance(ods.get("cvss"), list) else set()
            for s in other.get("severity", []):
                if s["type"].startswith("CVSS_"):
                    ver = osv_version(s["type"], s["score"])
                    cands.append(("nvd" if s["score"] in onvd else "osv", ver, score(ver, s["score"])))
    cands = [c for c in cands if c[2] is not None]
    if not cands:
        return "UNKNOWN", "", kev
    cands.sort(key=lambda c: (CLASS_RANK[c[0]], -VERSION_RANK.get(c[1], 0), -c[2]))
    cls, ver, sc = cands[0]
    b = band(ver, sc)
    return b, (cls if b != "UNKNOWN" else ""), kev


def main():
    report = json.load(open(sys.argv[1]))
    osv, by_cve, cves = load(sys.argv[2])
    for f in report["vulnerabilities"]:
        sev, cls, kev = rate(f, osv, by_cve, cves)
        print(f"{f['id']}\t{f['package']['name']}\t{sev}\t{cls}\t{kev or ''}")


main()
