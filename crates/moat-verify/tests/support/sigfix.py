#!/usr/bin/env python3
"""Test fixtures for moat verify, made at test time with Python `cryptography`:
keys, a test CA standing in for Fulcio, a transparency-log key standing in for Rekor,
cosign simple-signing signatures (`sha256-<hex>.sig`), DSSE attestations (`.att`),
Sigstore bundles attached as OCI referrers (tag-schema index `sha256-<hex>`), and the
images themselves, pushed to a real registry over its HTTP API.

This follows cosign's and Sigstore's documented formats; it is not moat.

usage: sigfix.py REGISTRY_HOST OUTDIR   -> prints JSON {case: {ref, digest, ...}}
"""
import base64, datetime, gzip, hashlib, io, json, os, sys, tarfile, urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

HOST, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)
b64 = lambda b: base64.b64encode(b).decode()
sha = lambda b: hashlib.sha256(b).hexdigest()
NOW = int(datetime.datetime.now(datetime.timezone.utc).timestamp())

# ---------------------------------------------------------------- registry
def req(method, url, data=None, headers=None):
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(r) as resp:
        return resp.status, dict(resp.headers), resp.read()

def push_blob(repo, data):
    d = "sha256:" + sha(data)
    _, h, _ = req("POST", f"http://{HOST}/v2/{repo}/blobs/uploads/")
    loc = h["Location"]
    if loc.startswith("/"):
        loc = f"http://{HOST}{loc}"
    sep = "&" if "?" in loc else "?"
    req("PUT", f"{loc}{sep}digest={d}", data, {"Content-Type": "application/octet-stream"})
    return {"digest": d, "size": len(data)}

def push_manifest(repo, ref, doc):
    data = json.dumps(doc, separators=(",", ":")).encode()
    req("PUT", f"http://{HOST}/v2/{repo}/manifests/{ref}", data, {"Content-Type": doc["mediaType"]})
    return "sha256:" + sha(data), data

OCI_M = "application/vnd.oci.image.manifest.v1+json"

def push_image(repo, tag, label, created="2026-01-01T00:00:00Z", labels=None):
    tf = io.BytesIO()
    with tarfile.open(fileobj=tf, mode="w") as t:
        body = f"hello from {label}\n".encode()
        ti = tarfile.TarInfo("hello.txt"); ti.size = len(body); ti.mtime = 0
        t.addfile(ti, io.BytesIO(body))
    raw = tf.getvalue()
    layer = gzip.compress(raw, mtime=0)
    cfg = {"created": created, "architecture": "amd64", "os": "linux",
           "config": {"Labels": dict({"case": label}, **(labels or {}))},
           "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(raw)]},
           "history": [{"created": created, "created_by": f"ADD hello.txt # {label}"}]}
    cfg_b = json.dumps(cfg).encode()
    c = push_blob(repo, cfg_b); l = push_blob(repo, layer)
    doc = {"schemaVersion": 2, "mediaType": OCI_M,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **c},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **l}]}
    d, data = push_manifest(repo, tag, doc)
    return d, data

# ---------------------------------------------------------------- keys
def gen(alg, name):
    k = {"p256": lambda: ec.generate_private_key(ec.SECP256R1()),
         "ed25519": ed25519.Ed25519PrivateKey.generate,
         "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)}[alg]()
    pub = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(os.path.join(OUT, name + ".pub"), "wb") as f:
        f.write(pub)
    with open(os.path.join(OUT, name + ".key"), "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return k

def sign(k, msg):
    if isinstance(k, ec.EllipticCurvePrivateKey):
        return k.sign(msg, ec.ECDSA(hashes.SHA256()))
    if isinstance(k, ed25519.Ed25519PrivateKey):
        return k.sign(msg)
    return k.sign(msg, padding.PKCS1v15(), hashes.SHA256())

def spki_der(k):
    return k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

# ---------------------------------------------------------------- CA and log
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "moat-test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def ca_cert(key, subject, issuer_key, issuer_name, nb, na):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(issuer_key, hashes.SHA256()))

dt = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
root_key = ec.generate_private_key(ec.SECP256R1())
inter_key = ec.generate_private_key(ec.SECP256R1())
root = ca_cert(root_key, name("test-fulcio-root"), root_key, name("test-fulcio-root"), dt(NOW - 86400 * 30), dt(NOW + 86400 * 365))
inter = ca_cert(inter_key, name("test-fulcio-intermediate"), root_key, name("test-fulcio-root"), dt(NOW - 86400 * 30), dt(NOW + 86400 * 365))
rekor_key = ec.generate_private_key(ec.SECP256R1())
log_id = hashlib.sha256(spki_der(rekor_key)).digest()
other_log_key = ec.generate_private_key(ec.SECP256R1())
der = lambda c: c.public_bytes(serialization.Encoding.DER)
pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()

trusted_root = {
    "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "tlogs": [{"baseUrl": "https://rekor.test", "hashAlgorithm": "SHA2_256",
               "publicKey": {"rawBytes": b64(spki_der(rekor_key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                             "validFor": {"start": "2020-01-01T00:00:00Z"}},
               "logId": {"keyId": b64(log_id)}}],
    "certificateAuthorities": [{"subject": {"organization": "moat-test", "commonName": "test-fulcio"},
                                "uri": "https://fulcio.test",
                                "certChain": {"certificates": [{"rawBytes": b64(der(inter))}, {"rawBytes": b64(der(root))}]},
                                "validFor": {"start": "2020-01-01T00:00:00Z"}}],
    "ctlogs": [], "timestampAuthorities": [],
}
with open(os.path.join(OUT, "trusted_root.json"), "w") as f:
    json.dump(trusted_root, f, indent=1)

ISSUER = "https://issuer.test"
def leaf(subject, nb, na, issuer=ISSUER, signer=(inter_key, inter)):
    k = ec.generate_private_key(ec.SECP256R1())
    san = x509.RFC822Name(subject) if "@" in subject and "://" not in subject else x509.UniformResourceIdentifier(subject)
    issuer_ext = b"\x0c" + bytes([len(issuer)]) + issuer.encode()  # DER UTF8String
    c = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(signer[1].subject)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(dt(nb)).not_valid_after(dt(na))
         .add_extension(x509.SubjectAlternativeName([san]), critical=True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), issuer_ext), critical=False)
         .sign(signer[0], hashes.SHA256()))
    return k, c

def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()

def tlog_entry(body, t, log_key=rekor_key, index=2):
    """A Rekor-like entry: SET over the canonical entry, and an inclusion proof in a
    3-leaf tree (two filler leaves) with a signed checkpoint."""
    body_b64 = b64(body)
    canon = json.dumps({"body": body_b64, "integratedTime": t, "logID": log_id.hex(), "logIndex": index},
                       separators=(",", ":"), sort_keys=True).encode()
    set_sig = log_key.sign(canon, ec.ECDSA(hashes.SHA256()))
    l0 = hashlib.sha256(b"\x00filler0").digest(); l1 = hashlib.sha256(b"\x00filler1").digest()
    l2 = hashlib.sha256(b"\x00" + body).digest()
    root_hash = node(node(l0, l1), l2)
    note = f"rekor.test - 1\n3\n{b64(root_hash)}\n"
    cp_sig = log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
    checkpoint = note + "\n\u2014 rekor.test " + b64(log_id[:4] + cp_sig) + "\n"
    return {"body_b64": body_b64, "t": t, "index": index, "set": b64(set_sig),
            "proof": {"logIndex": str(index), "rootHash": b64(root_hash), "treeSize": "3",
                      "hashes": [b64(node(l0, l1))], "checkpoint": {"envelope": checkpoint}}}

def hashedrekord(payload, sig, pub_pem):
    return json.dumps({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": sha(payload)}},
        "signature": {"content": b64(sig), "publicKey": {"content": b64(pub_pem.encode())}}}},
        separators=(",", ":")).encode()

def cosign_bundle_annotation(e):
    return json.dumps({"SignedEntryTimestamp": e["set"], "Payload": {
        "body": e["body_b64"], "integratedTime": e["t"], "logIndex": e["index"], "logID": log_id.hex()}})

# ---------------------------------------------------------------- cosign layouts
def simple_payload(repo, digest):
    return json.dumps({"critical": {"identity": {"docker-reference": f"{HOST}/{repo}"},
                                    "image": {"docker-manifest-digest": digest},
                                    "type": "cosign container image signature"},
                       "optional": None}).encode()

EMPTY_CFG = b"{}"

def push_sig_manifest(repo, digest, layers_spec, suffix=".sig", media=None):
    """layers_spec: list of (payload bytes, annotations)."""
    layers = []
    for payload, ann in layers_spec:
        l = push_blob(repo, payload)
        layers.append({"mediaType": media or "application/vnd.dev.cosign.simplesigning.v1+json", **l, "annotations": ann})
    c = push_blob(repo, json.dumps({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    doc = {"schemaVersion": 2, "mediaType": OCI_M,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **c}, "layers": layers}
    tag = digest.replace(":", "-") + suffix
    return push_manifest(repo, tag, doc)

def keyed_sig(repo, digest, key, payload=None, tamper=False):
    p = payload or simple_payload(repo, digest)
    s = sign(key, p)
    if tamper:
        p = p.replace(b'"optional": null', b'"optional": {"owner": "mallory"}')
    return (p, {"dev.cosignproject.cosign/signature": b64(s)})

def keyless_sig(repo, digest, subject, nb, na, t, log_key=rekor_key, logged_payload=None):
    k, c = leaf(subject, nb, na)
    p = simple_payload(repo, digest)
    s = k.sign(p, ec.ECDSA(hashes.SHA256()))
    e = tlog_entry(hashedrekord(logged_payload or p, s, pem(c)), t, log_key)
    return (p, {"dev.cosignproject.cosign/signature": b64(s),
                "dev.sigstore.cosign/certificate": pem(c),
                "dev.sigstore.cosign/chain": pem(inter) + pem(root),
                "dev.sigstore.cosign/bundle": cosign_bundle_annotation(e)})

SLSA1 = "https://slsa.dev/provenance/v1"
def statement(digest, predicate_type=SLSA1, builder="https://builder.test/ci@v1"):
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "image", "digest": {"sha256": digest.split(":")[1]}}],
            "predicateType": predicate_type,
            "predicate": {"buildDefinition": {"buildType": "https://builder.test/type",
                                              "resolvedDependencies": [{"uri": "git+https://git.test/app@refs/heads/main",
                                                                        "digest": {"gitCommit": "a" * 40}}]},
                          "runDetails": {"builder": {"id": builder}}}}

def pae(t, p):
    return b"DSSEv1 %d %s %d %s" % (len(t), t.encode(), len(p), p)

def envelope(key, stmt):
    p = json.dumps(stmt).encode()
    t = "application/vnd.in-toto+json"
    return {"payloadType": t, "payload": b64(p), "signatures": [{"keyid": "", "sig": b64(sign(key, pae(t, p)))}]}

def push_att(repo, digest, envs):
    spec = [(json.dumps(e).encode(), {"dev.cosignproject.cosign/signature": "",
                                      "predicateType": json.loads(base64.b64decode(e["payload"]))["predicateType"]})
            for e in envs]
    return push_sig_manifest(repo, digest, spec, ".att", "application/vnd.dsse.envelope.v1+json")

BUNDLE_T = "application/vnd.dev.sigstore.bundle.v0.3+json"
def push_bundle_referrer(repo, img_digest, img_manifest, bundle):
    data = json.dumps(bundle).encode()
    l = push_blob(repo, data)
    e = push_blob(repo, EMPTY_CFG)
    doc = {"schemaVersion": 2, "mediaType": OCI_M, "artifactType": BUNDLE_T,
           "config": {"mediaType": "application/vnd.oci.empty.v1+json", **e},
           "layers": [{"mediaType": BUNDLE_T, **l}],
           "subject": {"mediaType": OCI_M, "digest": img_digest, "size": len(img_manifest)},
           "annotations": {"dev.sigstore.bundle.content": "message-signature"}}
    d, data = push_manifest(repo, "sha256-" + sha(json.dumps(doc, separators=(",", ":")).encode())[:20] + "-ref", doc)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": OCI_M, "digest": d, "size": len(data), "artifactType": BUNDLE_T}]}
    push_manifest(repo, img_digest.replace(":", "-"), index)
    with open(os.path.join(OUT, f"bundle-{repo.replace('/', '_')}.json"), "wb") as f:
        f.write(json.dumps(bundle).encode())
    with open(os.path.join(OUT, f"manifest-{repo.replace('/', '_')}.json"), "wb") as f:
        f.write(img_manifest)
    return d

def keyless_message_bundle(manifest, subject, t):
    k, c = leaf(subject, NOW - 600, NOW + 600)
    s = k.sign(manifest, ec.ECDSA(hashes.SHA256()))
    e = tlog_entry(hashedrekord(manifest, s, pem(c)), t)
    return {"mediaType": BUNDLE_T,
            "verificationMaterial": {"certificate": {"rawBytes": b64(der(c))},
                                     "tlogEntries": [{"logIndex": str(e["index"]), "logId": {"keyId": b64(log_id)},
                                                      "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                                                      "integratedTime": str(t),
                                                      "inclusionPromise": {"signedEntryTimestamp": e["set"]},
                                                      "inclusionProof": e["proof"],
                                                      "canonicalizedBody": e["body_b64"]}]},
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(hashlib.sha256(manifest).digest())},
                                 "signature": b64(s)}}

def keyed_dsse_bundle(key, stmt):
    return {"mediaType": BUNDLE_T,
            "verificationMaterial": {"publicKey": {"hint": "test"}, "tlogEntries": []},
            "dsseEnvelope": envelope(key, stmt)}

# ---------------------------------------------------------------- cases
out = {}
keys = {a: gen(a, a) for a in ("p256", "ed25519", "rsa")}
other = gen("p256", "other")

def case(name, repo, tag="1", **kw):
    d, m = push_image(repo, tag, name, **kw)
    out[name] = {"ref": f"{HOST}/{repo}:{tag}", "pinned": f"{HOST}/{repo}@{d}", "digest": d, "repo": repo}
    return d, m

d, _ = case("valid-p256", "t/valid-p256"); push_sig_manifest("t/valid-p256", d, [keyed_sig("t/valid-p256", d, keys["p256"])])
d, _ = case("valid-ed25519", "t/valid-ed25519"); push_sig_manifest("t/valid-ed25519", d, [keyed_sig("t/valid-ed25519", d, keys["ed25519"])])
d, _ = case("valid-rsa", "t/valid-rsa"); push_sig_manifest("t/valid-rsa", d, [keyed_sig("t/valid-rsa", d, keys["rsa"])])
d, _ = case("other-digest", "t/other-digest")
elsewhere = out["valid-p256"]["digest"]
push_sig_manifest("t/other-digest", d, [keyed_sig("t/other-digest", d, keys["p256"], payload=simple_payload("t/other-digest", elsewhere))])
d, _ = case("tampered", "t/tampered"); push_sig_manifest("t/tampered", d, [keyed_sig("t/tampered", d, keys["p256"], tamper=True)])
d, _ = case("wrong-key", "t/wrong-key"); push_sig_manifest("t/wrong-key", d, [keyed_sig("t/wrong-key", d, other)])
case("unsigned", "t/unsigned")
# A signed tag later moved to another (unsigned) digest; and the same with the old
# signature manifest copied to the new digest's tag.
a, _ = push_image("t/moved", "1", "moved-a"); push_sig_manifest("t/moved", a, [keyed_sig("t/moved", a, keys["p256"])])
b, _ = case("moved", "t/moved", tag="1")
out["moved"]["signed_digest"] = a
a2, _ = push_image("t/moved-copied", "1", "moved-copied-a")
sigspec = [keyed_sig("t/moved-copied", a2, keys["p256"])]
push_sig_manifest("t/moved-copied", a2, sigspec)
b2, _ = case("moved-copied", "t/moved-copied", tag="1")
push_sig_manifest("t/moved-copied", b2, sigspec)
# Attestations (keyed, cosign .att layout)
d, _ = case("attested", "t/attested", created=datetime.datetime.fromtimestamp(NOW - 86400 * 3, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            labels={"org.opencontainers.image.base.name": "docker.io/library/debian:12"})
push_sig_manifest("t/attested", d, [keyed_sig("t/attested", d, keys["p256"])])
push_att("t/attested", d, [envelope(keys["p256"], statement(d))])
d, _ = case("att-wrong-subject", "t/att-wrong-subject", labels={"org.opencontainers.image.base.name": "docker.io/library/debian:9"})
push_sig_manifest("t/att-wrong-subject", d, [keyed_sig("t/att-wrong-subject", d, keys["p256"])])
push_att("t/att-wrong-subject", d, [envelope(keys["p256"], statement(elsewhere))])
# Keyless (certificate from the test CA + Rekor-like SET)
T = NOW - 60
d, _ = case("keyless", "t/keyless"); push_sig_manifest("t/keyless", d, [keyless_sig("t/keyless", d, "dev@example.test", NOW - 300, NOW + 300, T)])
d, _ = case("keyless-expired", "t/keyless-expired")
push_sig_manifest("t/keyless-expired", d, [keyless_sig("t/keyless-expired", d, "dev@example.test", NOW - 7200, NOW - 6600, T)])
d, _ = case("keyless-wrong-identity", "t/keyless-wrong-identity")
push_sig_manifest("t/keyless-wrong-identity", d, [keyless_sig("t/keyless-wrong-identity", d, "mallory@evil.test", NOW - 300, NOW + 300, T)])
d, _ = case("keyless-bad-set", "t/keyless-bad-set")
push_sig_manifest("t/keyless-bad-set", d, [keyless_sig("t/keyless-bad-set", d, "dev@example.test", NOW - 300, NOW + 300, T, log_key=other_log_key)])
# A genuine log entry (valid SET) about another payload than the one signed.
d, _ = case("keyless-other-entry", "t/keyless-other-entry")
push_sig_manifest("t/keyless-other-entry", d, [keyless_sig("t/keyless-other-entry", d, "dev@example.test", NOW - 300, NOW + 300, T,
                                                           logged_payload=simple_payload("t/keyless-other-entry", elsewhere))])
# Sigstore bundles as OCI referrers (tag-schema fallback: docker-registry has no referrers API)
d, m = case("bundle-keyless", "t/bundle-keyless")
push_bundle_referrer("t/bundle-keyless", d, m, keyless_message_bundle(m, "https://git.test/app/.github/workflows/release.yml@refs/heads/main", T))
d, m = case("bundle-att", "t/bundle-att")
push_sig_manifest("t/bundle-att", d, [keyed_sig("t/bundle-att", d, keys["p256"])])
push_bundle_referrer("t/bundle-att", d, m, keyed_dsse_bundle(keys["p256"], statement(d)))
out["_meta"] = {"issuer": ISSUER, "now": NOW, "out": OUT}
print(json.dumps(out, indent=1))
