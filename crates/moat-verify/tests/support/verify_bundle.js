// The reference verifier (@sigstore/verify, installed by scripts/install-deps under
// target/tools/node) checks a Sigstore bundle made by moat's test signer (sigfix.py).
// usage: node verify_bundle.js TRUSTED_ROOT BUNDLE [ARTIFACT] [KEY_PEM]
// Prints {"ok":true,...} or {"ok":false,"error":...}; exit 0 either way.
const fs = require('fs');
const crypto = require('crypto');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [rootPath, bundlePath, artifactPath, keyPath] = process.argv.slice(2);
try {
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  let keys;
  if (keyPath) {
    const der = crypto.createPublicKey(fs.readFileSync(keyPath)).export({ type: 'spki', format: 'der' });
    keys = { test: { rawBytes: der, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */, validFor: { start: new Date(0) } } };
  }
  const tm = toTrustMaterial(root, keys);
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = artifactPath && artifactPath !== '-' ? fs.readFileSync(artifactPath) : undefined;
  const entity = toSignedEntity(bundle, artifact);
  const v = new Verifier(tm, { tlogThreshold: keyPath ? 0 : 1, ctlogThreshold: 0, timestampThreshold: keyPath ? 0 : 1 });
  const signer = v.verify(entity);
  const id = signer.identity ? signer.identity.subjectAlternativeName || null : null;
  console.log(JSON.stringify({ ok: true, identity: id }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && (e.code ? e.code + ': ' : '') + e.message) }));
}
