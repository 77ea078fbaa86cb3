//! Finding what vouches for an image in a store: cosign's `sha256-<hex>.sig` and
//! `.att` tags, and Sigstore bundles attached as OCI referrers (the referrers API, else
//! the `sha256-<hex>` tag-schema index).

use crate::check::RawSig;
use crate::cosign::{self, Bundle, Envelope, RekorBundle, Statement, b64, tag_for};
use crate::error::{VerifyError, Why};
use crate::store::{Descriptor, ManifestDoc, Store};
use crate::tlog::{Entry, Proof};
use crate::x509::Cert;

/// At most this many signatures, envelopes or referrers are read per image and place
/// (a hostile registry could list thousands); the rest are reported as skipped.
pub const MAX_ITEMS: usize = 64;

fn skipped(n: usize, origin: String) -> Option<Found> {
    (n > MAX_ITEMS).then(|| Found {
        kind: "cosign",
        origin,
        item: Item::Broken(Why(format!(
            "{} more entries not read (limit {MAX_ITEMS})",
            n - MAX_ITEMS
        ))),
    })
}

/// One thing found: a signature or an attestation, or why it cannot be read.
#[derive(Debug, Clone)]
pub struct Found {
    /// `cosign` or `sigstore-bundle`.
    pub kind: &'static str,
    /// Where it was found (`tag sha256-….sig, layer 0`).
    pub origin: String,
    pub item: Item,
}

#[derive(Debug, Clone)]
pub enum Item {
    /// A simple-signing payload and its signature.
    Simple {
        raw: RawSig,
        payload: Result<cosign::SimpleSigning, Why>,
    },
    /// A DSSE envelope of an in-toto statement.
    Dsse {
        raw: RawSig,
        statement: Result<Statement, Why>,
    },
    /// A Sigstore bundle's message signature over the image manifest.
    Message {
        raw: RawSig,
        /// `sha256:HEX` the bundle says was signed.
        digest: String,
    },
    /// Present but unreadable.
    Broken(Why),
}

fn rekor_from_annotation(text: &str) -> Result<Entry, Why> {
    let b: RekorBundle = serde_json::from_str(text)
        .map_err(|e| Why(format!("malformed {} annotation: {e}", cosign::ANN_BUNDLE)))?;
    Ok(Entry {
        body_b64: b.payload.body,
        integrated_time: b.payload.integrated_time,
        log_index: b.payload.log_index,
        log_id: hex::decode(&b.payload.log_id).map_err(|e| Why(format!("logID: {e}")))?,
        set: Some(
            b64(&b.signed_entry_timestamp)
                .map_err(|e| Why(format!("SignedEntryTimestamp: {e}")))?,
        ),
        proof: None,
    })
}

fn annotation_material(
    a: &std::collections::BTreeMap<String, String>,
) -> Result<(Vec<Cert>, Vec<Entry>), Why> {
    let mut certs = Vec::new();
    if let Some(c) = a
        .get(cosign::ANN_CERTIFICATE)
        .filter(|c| !c.trim().is_empty())
    {
        certs.extend(Cert::from_pem_all(c)?);
        if let Some(ch) = a.get(cosign::ANN_CHAIN).filter(|c| !c.trim().is_empty()) {
            certs.extend(Cert::from_pem_all(ch)?);
        }
    }
    let mut tlog = Vec::new();
    if let Some(b) = a.get(cosign::ANN_BUNDLE).filter(|c| !c.trim().is_empty()) {
        tlog.push(rekor_from_annotation(b)?);
    }
    Ok((certs, tlog))
}

fn blob(store: &mut dyn Store, d: &Descriptor) -> Result<Vec<u8>, Why> {
    store.blob(&d.digest).map_err(|e| Why(e.to_string()))
}

fn dsse_items(env: &Envelope, certs: &[Cert], tlog: &[Entry]) -> Vec<Item> {
    let payload = match b64(&env.payload) {
        Ok(p) => p,
        Err(e) => return vec![Item::Broken(Why(format!("DSSE payload: {e}")))],
    };
    let statement = if env.payload_type != cosign::IN_TOTO {
        Err(Why(format!(
            "DSSE payload type {:?} is not an in-toto statement",
            env.payload_type
        )))
    } else {
        serde_json::from_slice::<Statement>(&payload)
            .map_err(|e| Why(format!("malformed in-toto statement: {e}")))
    };
    if env.signatures.is_empty() {
        return vec![Item::Broken("DSSE envelope without a signature".into())];
    }
    env.signatures
        .iter()
        .take(MAX_ITEMS)
        .map(|s| match b64(&s.sig) {
            Ok(sig) => Item::Dsse {
                raw: RawSig {
                    message: cosign::pae(&env.payload_type, &payload),
                    payload: payload.clone(),
                    signature: sig,
                    certs: certs.to_vec(),
                    tlog: tlog.to_vec(),
                    dsse: true,
                },
                statement: statement.clone(),
            },
            Err(e) => Item::Broken(Why(format!("DSSE signature: {e}"))),
        })
        .collect()
}

/// cosign's `.sig` tag: one simple-signing layer per signature.
pub fn cosign_signatures(store: &mut dyn Store, digest: &str) -> Result<Vec<Found>, VerifyError> {
    let tag = tag_for(digest, ".sig");
    let Some(m) = store.manifest(&tag)? else {
        return Ok(Vec::new());
    };
    let doc = ManifestDoc::parse(&m)?;
    let mut out: Vec<Found> = skipped(doc.layers.len(), format!("tag {tag}"))
        .into_iter()
        .collect();
    for (i, l) in doc.layers.iter().enumerate().take(MAX_ITEMS) {
        let origin = format!("tag {tag}, layer {i}");
        if l.media_type != cosign::SIMPLE_SIGNING {
            continue;
        }
        let item = (|| -> Result<Item, Why> {
            let payload = blob(store, l)?;
            let sig = l
                .annotations
                .get(cosign::ANN_SIGNATURE)
                .ok_or_else(|| Why::from("no signature annotation"))?;
            let sig = b64(sig).map_err(|e| Why(format!("signature annotation: {e}")))?;
            let (certs, tlog) = annotation_material(&l.annotations)?;
            let parsed = serde_json::from_slice::<cosign::SimpleSigning>(&payload)
                .map_err(|e| Why(format!("malformed simple-signing payload: {e}")));
            Ok(Item::Simple {
                raw: RawSig {
                    message: payload.clone(),
                    payload,
                    signature: sig,
                    certs,
                    tlog,
                    dsse: false,
                },
                payload: parsed,
            })
        })()
        .unwrap_or_else(Item::Broken);
        out.push(Found {
            kind: "cosign",
            origin,
            item,
        });
    }
    Ok(out)
}

/// cosign's `.att` tag: one DSSE envelope per layer.
pub fn cosign_attestations(store: &mut dyn Store, digest: &str) -> Result<Vec<Found>, VerifyError> {
    let tag = tag_for(digest, ".att");
    let Some(m) = store.manifest(&tag)? else {
        return Ok(Vec::new());
    };
    let doc = ManifestDoc::parse(&m)?;
    let mut out: Vec<Found> = skipped(doc.layers.len(), format!("tag {tag}"))
        .into_iter()
        .collect();
    for (i, l) in doc.layers.iter().enumerate().take(MAX_ITEMS) {
        if l.media_type != cosign::DSSE_ENVELOPE {
            continue;
        }
        let origin = format!("tag {tag}, layer {i}");
        let items = (|| -> Result<Vec<Item>, Why> {
            let bytes = blob(store, l)?;
            let env: Envelope = serde_json::from_slice(&bytes)
                .map_err(|e| Why(format!("malformed DSSE envelope: {e}")))?;
            let (certs, tlog) = annotation_material(&l.annotations)?;
            Ok(dsse_items(&env, &certs, &tlog))
        })()
        .unwrap_or_else(|w| vec![Item::Broken(w)]);
        out.extend(items.into_iter().map(|item| Found {
            kind: "cosign",
            origin: origin.clone(),
            item,
        }));
    }
    Ok(out)
}

/// Sigstore bundles among the referrers of `digest`; also says how they were listed.
pub fn bundles(
    store: &mut dyn Store,
    digest: &str,
    manifest: &[u8],
) -> Result<(Vec<Found>, String), VerifyError> {
    let (list, how) = match store.referrers(digest)? {
        Some(l) => (l, "referrers API".to_string()),
        None => {
            let tag = tag_for(digest, "");
            match store.manifest(&tag)? {
                Some(m) => (
                    ManifestDoc::parse(&m)?.manifests,
                    format!("tag {tag} (referrers tag schema)"),
                ),
                None => (Vec::new(), format!("no referrers API, no tag {tag}")),
            }
        }
    };
    let mut out: Vec<Found> = skipped(list.len(), format!("referrers of {digest}"))
        .into_iter()
        .collect();
    for d in list.into_iter().take(MAX_ITEMS) {
        let is_bundle = d
            .artifact_type
            .as_deref()
            .is_some_and(|t| t.starts_with(cosign::BUNDLE_MEDIA_PREFIX));
        if !is_bundle {
            continue;
        }
        let origin = format!("referrer {} ({how})", d.digest);
        let items = (|| -> Result<Vec<Item>, Why> {
            let m = store
                .manifest(&d.digest)
                .map_err(|e| Why(e.to_string()))?
                .ok_or_else(|| Why(format!("referrer manifest {} is missing", d.digest)))?;
            let doc = ManifestDoc::parse(&m).map_err(|e| Why(e.to_string()))?;
            if doc.subject.as_ref().is_some_and(|s| s.digest != digest) {
                return Err(Why(format!(
                    "the referrer's subject is {}, not this image",
                    doc.subject
                        .as_ref()
                        .map(|s| s.digest.as_str())
                        .unwrap_or("")
                )));
            }
            let layer = doc
                .layers
                .iter()
                .find(|l| l.media_type.starts_with(cosign::BUNDLE_MEDIA_PREFIX))
                .ok_or_else(|| Why::from("the referrer has no bundle layer"))?;
            let bytes = blob(store, layer)?;
            Ok(bundle_items(&bytes, manifest))
        })()
        .unwrap_or_else(|w| vec![Item::Broken(w)]);
        out.extend(items.into_iter().map(|item| Found {
            kind: "sigstore-bundle",
            origin: origin.clone(),
            item,
        }));
    }
    Ok((out, how))
}

/// The items of one Sigstore bundle; `manifest` is the image manifest a message
/// signature must be over.
pub fn bundle_items(bytes: &[u8], manifest: &[u8]) -> Vec<Item> {
    let b: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => return vec![Item::Broken(Why(format!("malformed Sigstore bundle: {e}")))],
    };
    let vm = &b.verification_material;
    let mut certs = Vec::new();
    let raw_certs = vm.certificate.iter().chain(
        vm.x509_certificate_chain
            .iter()
            .flat_map(|c| c.certificates.iter()),
    );
    for c in raw_certs {
        match b64(&c.raw_bytes)
            .map_err(|e| Why(e.to_string()))
            .and_then(|d| Cert::from_der(&d))
        {
            Ok(c) => certs.push(c),
            Err(e) => return vec![Item::Broken(Why(format!("bundle certificate: {e}")))],
        }
    }
    let mut tlog = Vec::new();
    for e in &vm.tlog_entries {
        let entry = (|| -> Result<Entry, Why> {
            Ok(Entry {
                body_b64: e.canonicalized_body.clone(),
                integrated_time: e.integrated_time,
                log_index: e.log_index,
                log_id: b64(&e.log_id.key_id).map_err(|x| Why(format!("logId: {x}")))?,
                set: e
                    .inclusion_promise
                    .as_ref()
                    .map(|p| b64(&p.signed_entry_timestamp))
                    .transpose()
                    .map_err(|x| Why(format!("signedEntryTimestamp: {x}")))?,
                proof: e
                    .inclusion_proof
                    .as_ref()
                    .map(|p| -> Result<Proof, Why> {
                        Ok(Proof {
                            log_index: p.log_index,
                            root_hash: b64(&p.root_hash)
                                .map_err(|x| Why(format!("rootHash: {x}")))?,
                            tree_size: p.tree_size,
                            hashes: p
                                .hashes
                                .iter()
                                .map(|h| b64(h).map_err(|x| Why(format!("hashes: {x}"))))
                                .collect::<Result<_, _>>()?,
                            checkpoint: p.checkpoint.as_ref().map(|c| c.envelope.clone()),
                        })
                    })
                    .transpose()?,
            })
        })();
        match entry {
            Ok(e) => tlog.push(e),
            Err(w) => return vec![Item::Broken(w)],
        }
    }
    if let Some(env) = &b.dsse_envelope {
        return dsse_items(env, &certs, &tlog);
    }
    let Some(ms) = &b.message_signature else {
        return vec![Item::Broken(
            "the bundle has neither a message signature nor a DSSE envelope".into(),
        )];
    };
    let sig = match b64(&ms.signature) {
        Ok(s) => s,
        Err(e) => return vec![Item::Broken(Why(format!("bundle signature: {e}")))],
    };
    let digest = match &ms.message_digest {
        Some(d) if d.algorithm == "SHA2_256" => match b64(&d.digest) {
            Ok(x) => format!("sha256:{}", hex::encode(x)),
            Err(e) => return vec![Item::Broken(Why(format!("messageDigest: {e}")))],
        },
        Some(d) => {
            return vec![Item::Broken(Why(format!(
                "unsupported digest algorithm {}",
                d.algorithm
            )))];
        }
        None => String::new(),
    };
    vec![Item::Message {
        raw: RawSig {
            message: manifest.to_vec(),
            payload: manifest.to_vec(),
            signature: sig,
            certs,
            tlog,
            dsse: false,
        },
        digest,
    }]
}
