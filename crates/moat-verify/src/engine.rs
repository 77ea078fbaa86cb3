//! One image at a time: resolve its digest, read its config, find and verify what
//! vouches for it, apply the policy's rules.

use crate::check::{self, Material, NamedKey, SignedBy};
use crate::cosign::COSIGN_SIGN_PREDICATE;
use crate::error::VerifyError;
use crate::find::{self, Found, Item};
use crate::policy::{Policy, Rule, Signer};
use crate::sources::Target;
use crate::store::{LayoutStore, ManifestDoc, RegistryStore, Store};
use crate::x509::Cert;
use moat_image::Source;
use moat_image::registry::{Repository, reference::Reference};
use moat_model::Severity;
use moat_report::verify::{AttestationResult, Check, ImageVerdict, SignatureResult};
use std::collections::BTreeMap;

/// One finding of the scan gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateFinding {
    pub id: String,
    pub severity: Severity,
    /// In CISA's Known Exploited Vulnerabilities catalogue.
    pub kev: bool,
}

/// What the scan gate learnt about an image.
#[derive(Debug, Clone, Default)]
pub struct GateResult {
    pub findings: Vec<GateFinding>,
    /// Whether the scan knows KEV membership at all (false: `kev: deny` cannot be enforced).
    pub kev_known: bool,
}

/// Runs `moat scan` for the scan gate (the binary provides it: moat-scan is a peer crate).
pub trait ScanRunner {
    /// Scan `source` (`registry:host/repo@sha256:…`, pinned to the verified digest).
    fn scan(&self, source: &str) -> Result<GateResult, VerifyError>;
}

/// What the image's config says (created, labels, history).
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<String>,
}

impl Facts {
    fn from_config(v: &serde_json::Value) -> Facts {
        let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
        let labels = v
            .pointer("/config/Labels")
            .and_then(|l| l.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let history = v
            .get("history")
            .and_then(|h| h.as_array())
            .map(|a| {
                a.iter()
                    .map(|h| {
                        format!(
                            "{} {}",
                            h.get("created_by").and_then(|x| x.as_str()).unwrap_or(""),
                            h.get("comment").and_then(|x| x.as_str()).unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Facts {
            created: s("/created"),
            labels,
            history,
        }
    }
}

/// A target, resolved.
pub(crate) struct Resolved {
    /// `host/repository` (registry), else the source as written.
    pub name: String,
    pub registry: Option<String>,
    pub tag: Option<String>,
    pub pinned: Result<String, String>,
    /// The image digest(s): what the reference resolves to, then the platform
    /// manifest when that is an index.
    pub digests: Vec<String>,
    pub manifest: Vec<u8>,
    pub facts: Option<Facts>,
    pub store: Option<Box<dyn Store>>,
    pub notes: Vec<String>,
    pub scan_source: String,
}

fn platform_entry<'d>(
    doc: &'d ManifestDoc,
    platform: &str,
) -> Option<&'d crate::store::Descriptor> {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
    }
    let mut it = platform.split('/');
    let (os, arch) = (it.next().unwrap_or("linux"), it.next().unwrap_or("amd64"));
    // Platform is not in our Descriptor: re-read the raw entries.
    doc.manifests.iter().find(|d| {
        d.annotations.get("__platform").is_some_and(|p| {
            serde_json::from_str::<P>(p).is_ok_and(|p| p.os == os && p.architecture == arch)
        })
    })
}

/// Read the image manifest `reference` names in `store`: its digest(s), bytes and config.
fn read_image(
    store: &mut dyn Store,
    reference: &str,
    platform: &str,
    shown: &str,
) -> Result<(Vec<String>, Vec<u8>, Facts), VerifyError> {
    let m = store.manifest(reference)?.ok_or_else(|| {
        VerifyError::source(
            shown,
            format!("{} has no manifest {reference}", store.name()),
        )
    })?;
    let mut digests = vec![m.digest.clone()];
    let doc = ManifestDoc::parse(&m)?;
    let image_doc = if !doc.manifests.is_empty() {
        // An index: mark each entry's platform, then pick ours.
        let raw: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap_or_default();
        let mut doc = doc;
        if let Some(entries) = raw.get("manifests").and_then(|e| e.as_array()) {
            for (d, r) in doc.manifests.iter_mut().zip(entries) {
                if let Some(p) = r.get("platform") {
                    d.annotations.insert("__platform".into(), p.to_string());
                }
            }
        }
        let entry = platform_entry(&doc, platform).ok_or_else(|| {
            VerifyError::source(
                shown,
                format!("the image index has no manifest for {platform}"),
            )
        })?;
        let pm = store.manifest(&entry.digest)?.ok_or_else(|| {
            VerifyError::source(shown, format!("index entry {} is missing", entry.digest))
        })?;
        digests.push(pm.digest.clone());
        ManifestDoc::parse(&pm)?
    } else {
        doc
    };
    let config = image_doc
        .config
        .as_ref()
        .ok_or_else(|| VerifyError::source(shown, "the manifest has no config"))?;
    let cfg = store.blob(&config.digest)?;
    let v: serde_json::Value = serde_json::from_slice(&cfg)
        .map_err(|e| VerifyError::source(shown, format!("malformed image config: {e}")))?;
    Ok((digests, m.bytes, Facts::from_config(&v)))
}

pub(crate) fn resolve(t: &Target, opts: &moat_image::OpenOptions) -> Result<Resolved, VerifyError> {
    let platform = opts
        .platform
        .clone()
        .unwrap_or_else(|| "linux/amd64".into());
    match &t.source {
        Source::Registry(r) => {
            let parsed = Reference::parse(r).map_err(|e| VerifyError::source(&t.shown, e))?;
            let repo = Repository::open(r, opts)?;
            let mut store: Box<dyn Store> = Box::new(RegistryStore(repo));
            let (digests, manifest, facts) =
                read_image(store.as_mut(), parsed.reference(), &platform, &t.shown)?;
            let name = format!("{}/{}", parsed.registry, parsed.repository);
            let pinned = match &parsed.digest {
                Some(d) => Ok(format!("pinned by digest {d}")),
                None => Err(format!(
                    "referenced by tag {:?} (a tag can be moved); pin it as {name}@{}",
                    parsed.tag.as_deref().unwrap_or("latest"),
                    digests[0]
                )),
            };
            Ok(Resolved {
                scan_source: format!("registry:{name}@{}", digests[0]),
                name,
                registry: Some(parsed.registry.clone()),
                tag: parsed.tag.clone(),
                pinned,
                digests,
                manifest,
                facts: Some(facts),
                store: Some(store),
                notes: Vec::new(),
            })
        }
        Source::OciDir { path, reference } => {
            let store = LayoutStore::open_dir(path)?;
            layout(
                t,
                store,
                reference.as_deref(),
                &platform,
                path.display().to_string(),
            )
        }
        Source::OciArchive(path) => {
            let store = LayoutStore::open_archive(path)?;
            layout(t, store, None, &platform, path.display().to_string())
        }
        other => {
            let img = moat_image::open_source(other, opts)?;
            let md = img.metadata();
            let facts = Facts {
                created: Some(md.created.clone()).filter(|c| !c.is_empty()),
                labels: md.config.labels.clone(),
                history: md
                    .history
                    .iter()
                    .map(|h| format!("{} {}", h.created_by, h.comment))
                    .collect(),
            };
            let (name, pinned, note) = match other {
                Source::Docker(r) => (
                    r.clone(),
                    if r.contains("@sha256:") {
                        Ok("pinned by digest".to_string())
                    } else {
                        Err(format!("engine image {r:?} is named by tag, not by digest"))
                    },
                    "signatures cannot be looked up for a docker: source: the engine keeps no \
                     signature manifests; verify the registry reference the image was pulled from",
                ),
                Source::DockerArchive(p) => (
                    p.display().to_string(),
                    Ok("a local archive (its content is what was given)".to_string()),
                    "signatures cannot be looked up in a docker-archive: it holds no signature \
                     manifests; save the image as an OCI layout with its signatures (cosign save)",
                ),
                _ => (
                    t.shown.clone(),
                    Err("a directory is not an image".to_string()),
                    "signatures cannot be looked up for a directory",
                ),
            };
            Ok(Resolved {
                name,
                registry: None,
                tag: None,
                pinned,
                digests: vec![md.digest.clone()],
                manifest: Vec::new(),
                facts: Some(facts),
                store: None,
                notes: vec![note.to_string()],
                scan_source: t.shown.clone(),
            })
        }
    }
}

fn layout(
    t: &Target,
    mut store: LayoutStore,
    reference: Option<&str>,
    platform: &str,
    path: String,
) -> Result<Resolved, VerifyError> {
    let reference = match reference {
        Some(r) => r.to_string(),
        None => {
            let images: Vec<String> = store
                .entries()
                .iter()
                .filter(|d| {
                    let n = d.annotations.get("org.opencontainers.image.ref.name");
                    !n.is_some_and(|n| n.starts_with("sha256-"))
                        && d.artifact_type.is_none()
                        && !d.annotations.contains_key("kind")
                })
                .map(|d| d.digest.clone())
                .collect();
            match images.as_slice() {
                [one] => one.clone(),
                [] => return Err(VerifyError::source(&t.shown, "the layout holds no image")),
                _ => {
                    return Err(VerifyError::source(
                        &t.shown,
                        "the layout holds several images; name one (oci-dir:PATH:TAG or @DIGEST)",
                    ));
                }
            }
        }
    };
    let (digests, manifest, facts) = read_image(&mut store, &reference, platform, &t.shown)?;
    let pinned = Ok("a local OCI layout, image named by digest in its index".to_string());
    Ok(Resolved {
        name: path,
        registry: None,
        tag: None,
        pinned,
        scan_source: t.shown.clone(),
        digests,
        manifest,
        facts: Some(facts),
        store: Some(Box::new(store)),
        notes: Vec::new(),
    })
}

/// A signature or attestation, verified, with who made it.
struct Judged {
    by: Option<SignedBy>,
}

/// The listed result of one signature judged by `by` (None: not verified, `reason`
/// says why), with the key or identity that made it.
fn signature(
    kind: &str,
    by: Option<SignedBy>,
    reason: &str,
    origin: &str,
    m: &Material,
    certs: &[Cert],
) -> (SignatureResult, Judged) {
    let (key_id, identity) = signer_ids(&by, m, certs);
    (
        SignatureResult {
            kind: kind.into(),
            key_id,
            identity,
            verified: by.is_some(),
            reason: format!("{reason} ({origin})"),
        },
        Judged { by },
    )
}

fn identity_of(certs: &[Cert]) -> Option<String> {
    let leaf = certs.first()?;
    Some(format!(
        "{} (issuer {})",
        leaf.san_identities().join(", "),
        leaf.oidc_issuer().unwrap_or_else(|| "?".into())
    ))
}

fn signer_ids(
    by: &Option<SignedBy>,
    m: &Material,
    certs: &[Cert],
) -> (Option<String>, Option<String>) {
    match by {
        Some(SignedBy::Key(i)) => (m.keys.get(*i).map(NamedKey::id), None),
        Some(SignedBy::Identity { issuer, subjects }) => (
            None,
            Some(format!("{} (issuer {issuer})", subjects.join(", "))),
        ),
        None => (None, identity_of(certs)),
    }
}

/// Judge everything found; returns the reports and who signed what.
fn judge(
    found: Vec<Found>,
    from_att_tag: bool,
    r: &Resolved,
    m: &Material,
    sigs: &mut Vec<(SignatureResult, Judged)>,
    atts: &mut Vec<(AttestationResult, Judged, Option<String>)>,
) {
    let this = r.digests.join(" or ");
    for f in found {
        match f.item {
            Item::Broken(w) => {
                let reason = format!("{}: unreadable: {w}", f.origin);
                if from_att_tag {
                    atts.push((
                        AttestationResult {
                            kind: f.kind.into(),
                            predicate_type: "?".into(),
                            key_id: None,
                            identity: None,
                            verified: false,
                            reason,
                            builder: None,
                            materials: Vec::new(),
                        },
                        Judged { by: None },
                        None,
                    ));
                } else {
                    sigs.push((
                        SignatureResult {
                            kind: f.kind.into(),
                            key_id: None,
                            identity: None,
                            verified: false,
                            reason,
                        },
                        Judged { by: None },
                    ));
                }
            }
            Item::Simple { raw, payload } => {
                let (by, reason) = match check::verify(&raw, m) {
                    Err(w) => (None, format!("{w}")),
                    Ok((by, how)) => match payload {
                        Err(w) => (None, format!("the signature verifies, but {w}")),
                        Ok(p) if !r.digests.contains(&p.critical.image.docker_manifest_digest) => (
                            None,
                            format!(
                                "the signature verifies, but its payload is for {}, not this image ({this}): a signature of another image",
                                p.critical.image.docker_manifest_digest
                            ),
                        ),
                        Ok(p)
                            if !p
                                .critical
                                .kind
                                .eq_ignore_ascii_case("cosign container image signature") =>
                        {
                            (
                                None,
                                format!(
                                    "payload type {:?} is not a cosign image signature",
                                    p.critical.kind
                                ),
                            )
                        }
                        Ok(_) => (Some(by), format!("{how}; payload names this digest")),
                    },
                };
                sigs.push(signature(f.kind, by, &reason, &f.origin, m, &raw.certs));
            }
            Item::Message { raw, digest } => {
                let (by, reason) = if !r.digests.contains(&digest) {
                    (
                        None,
                        format!("the bundle signs {digest}, not this image ({this})"),
                    )
                } else {
                    match check::verify(&raw, m) {
                        Err(w) => (None, w.0),
                        Ok((by, how)) => (Some(by), how),
                    }
                };
                sigs.push(signature(f.kind, by, &reason, &f.origin, m, &raw.certs));
            }
            Item::Dsse { raw, statement } => {
                let verified = check::verify(&raw, m);
                let st = statement.as_ref().ok();
                let pt = st
                    .map(|s| s.predicate_type.clone())
                    .unwrap_or_else(|| "?".into());
                let (by, reason) = match (verified, &statement) {
                    (Err(w), _) => (None, w.0),
                    (Ok(_), Err(w)) => (None, format!("the envelope verifies, but {w}")),
                    (Ok((by, how)), Ok(s)) => {
                        if r.digests.iter().any(|d| s.names(d)) {
                            (Some(by), format!("{how}; subject is this image"))
                        } else {
                            (
                                None,
                                format!(
                                    "the envelope verifies, but its subject is {}, not this image ({this})",
                                    s.subject_digests()
                                ),
                            )
                        }
                    }
                };
                let (key_id, identity) = signer_ids(&by, m, &raw.certs);
                if pt == COSIGN_SIGN_PREDICATE {
                    sigs.push((
                        SignatureResult {
                            kind: f.kind.into(),
                            key_id,
                            identity,
                            verified: by.is_some(),
                            reason: format!("{} ({})", reason, f.origin),
                        },
                        Judged { by },
                    ));
                } else {
                    let builder = st.and_then(|s| s.builder_id());
                    atts.push((
                        AttestationResult {
                            kind: f.kind.into(),
                            predicate_type: pt,
                            key_id,
                            identity,
                            verified: by.is_some(),
                            reason: format!("{} ({})", reason, f.origin),
                            builder: builder.clone(),
                            materials: st.map(|s| s.materials()).unwrap_or_default(),
                        },
                        Judged { by },
                        builder,
                    ));
                }
            }
        }
    }
}

fn signer_matches(s: &Signer, by: &Option<SignedBy>, m: &Material) -> bool {
    match (s, by) {
        (Signer::Keys(paths), Some(SignedBy::Key(i))) => m
            .keys
            .get(*i)
            .is_some_and(|k| paths.iter().any(|p| p.display().to_string() == k.name)),
        (
            Signer::Keyless { issuer, subject },
            Some(SignedBy::Identity {
                issuer: is,
                subjects,
            }),
        ) => issuer == is && subjects.iter().any(|x| subject.is_match(x)),
        _ => false,
    }
}

fn describe(s: &Signer) -> String {
    match s {
        Signer::Keys(p) => format!(
            "key {}",
            p.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Signer::Keyless { issuer, subject } => {
            format!("identity {:?} from issuer {issuer}", subject.text())
        }
    }
}

fn days_since(created: &str, now: i64) -> Option<i64> {
    let t = time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some((now - t.unix_timestamp()).div_euclid(86_400))
}

/// Everything one image is judged on.
pub(crate) struct Ctx<'a> {
    pub policy: Option<&'a Policy>,
    pub material: &'a Material,
    pub now: i64,
    pub scan: Option<&'a dyn ScanRunner>,
}

pub(crate) fn verify_target(
    t: &Target,
    cx: &Ctx,
    opts: &moat_image::OpenOptions,
) -> Result<ImageVerdict, VerifyError> {
    let mut r = resolve(t, opts)?;
    let mut v = ImageVerdict {
        reference: t.shown.clone(),
        digest: r.digests.first().cloned(),
        notes: std::mem::take(&mut r.notes),
        ..ImageVerdict::default()
    };
    if let Some(o) = &t.origin {
        v.notes.push(format!("referenced at {o}"));
    }
    // Find and judge every signature and attestation.
    let mut sigs = Vec::new();
    let mut atts = Vec::new();
    if let Some(mut store) = r.store.take() {
        let mut looked = Vec::new();
        for d in r.digests.clone() {
            let s = find::cosign_signatures(store.as_mut(), &d)?;
            judge(s, false, &r, cx.material, &mut sigs, &mut atts);
            let a = find::cosign_attestations(store.as_mut(), &d)?;
            judge(a, true, &r, cx.material, &mut sigs, &mut atts);
            let manifest = if d == r.digests[0] {
                r.manifest.clone()
            } else {
                Vec::new()
            };
            let (b, how) = find::bundles(store.as_mut(), &d, &manifest)?;
            judge(b, false, &r, cx.material, &mut sigs, &mut atts);
            looked.push(format!(
                "{}, {}, {how}",
                crate::cosign::tag_for(&d, ".sig"),
                crate::cosign::tag_for(&d, ".att")
            ));
        }
        if sigs.is_empty() && atts.is_empty() {
            v.notes.push(format!(
                "no signature or attestation found in {} (looked up {})",
                store.name(),
                looked.join("; ")
            ));
        }
        r.store = Some(store);
    }

    match cx.policy {
        None => {
            // Without a policy only the given keys vouch: a keyless signature needs the
            // policy's identity (issuer + subject) to mean anything.
            let ok = sigs
                .iter()
                .find(|(s, j)| s.verified && matches!(j.by, Some(SignedBy::Key(_))));
            v.checks.push(Check {
                rule: "signature".into(),
                passed: ok.is_some(),
                evidence: match ok {
                    Some((s, _)) => format!(
                        "signed by {}",
                        s.key_id.clone().or(s.identity.clone()).unwrap_or_default()
                    ),
                    None if sigs.is_empty() => format!("unsigned: {}", no_sig_reason(&v)),
                    None => format!(
                        "none of the {} signature(s) found verifies with the given key(s)",
                        sigs.len()
                    ),
                },
            });
        }
        Some(p) => {
            let rules = p.rules_for(&name_for_rules(&r));
            if rules.is_empty() {
                v.checks.push(Check {
                    rule: "policy".into(),
                    passed: p.unmatched_allowed,
                    evidence: format!(
                        "no rule of {} covers {} (unmatched: {})",
                        p.path,
                        r.name,
                        if p.unmatched_allowed { "allow" } else { "deny" }
                    ),
                });
            }
            for rule in rules {
                apply_rule(rule, &r, cx, &sigs, &atts, &mut v)?;
            }
        }
    }
    v.signatures = sigs.into_iter().map(|(s, _)| s).collect();
    v.attestations = atts.into_iter().map(|(a, _, _)| a).collect();
    Ok(v)
}

fn no_sig_reason(v: &ImageVerdict) -> String {
    v.notes
        .iter()
        .find(|n| n.contains("signature"))
        .cloned()
        .unwrap_or_else(|| "no signature found".into())
}

fn name_for_rules(r: &Resolved) -> String {
    match &r.tag {
        Some(t) => format!("{}:{t}", r.name),
        None => r.name.clone(),
    }
}

fn apply_rule(
    rule: &Rule,
    r: &Resolved,
    cx: &Ctx,
    sigs: &[(SignatureResult, Judged)],
    atts: &[(AttestationResult, Judged, Option<String>)],
    v: &mut ImageVerdict,
) -> Result<(), VerifyError> {
    let mut out: Vec<Check> = Vec::new();
    let mut push = |rule_name: &str, passed: bool, evidence: String| {
        out.push(Check {
            rule: rule_name.into(),
            passed,
            evidence: format!("{evidence} [{}]", rule.name),
        });
    };
    if !rule.allowed_registries.is_empty() {
        let globs: Vec<&str> = rule
            .allowed_registries
            .iter()
            .map(|g| g.text.as_str())
            .collect();
        match &r.registry {
            Some(reg) if rule.allowed_registries.iter().any(|g| g.is_match(reg)) => {
                push("registry", true, format!("registry {reg} is allowed"))
            }
            Some(reg) => push(
                "registry",
                false,
                format!(
                    "registry {reg} is not among the allowed ({})",
                    globs.join(", ")
                ),
            ),
            None => push(
                "registry",
                false,
                "a local source comes from no registry".into(),
            ),
        }
    }
    if !rule.allowed_repositories.is_empty() {
        let ok = r.registry.is_some()
            && rule
                .allowed_repositories
                .iter()
                .any(|g| g.is_match(&r.name));
        let globs: Vec<&str> = rule
            .allowed_repositories
            .iter()
            .map(|g| g.text.as_str())
            .collect();
        push(
            "repository",
            ok,
            if ok {
                format!("repository {} is allowed", r.name)
            } else {
                format!(
                    "repository {} is not among the allowed ({})",
                    r.name,
                    globs.join(", ")
                )
            },
        );
    }
    if rule.require_digest {
        match &r.pinned {
            Ok(e) => push("pinned", true, e.clone()),
            Err(e) => push("pinned", false, e.clone()),
        }
    }
    if let Some(max) = rule.max_age_days {
        match r.facts.as_ref().and_then(|f| f.created.clone()) {
            None => push(
                "max-age",
                false,
                "the image config records no creation time".into(),
            ),
            Some(c) => match days_since(&c, cx.now) {
                None => push("max-age", false, format!("unreadable creation time {c:?}")),
                Some(d) if d > max as i64 => push(
                    "max-age",
                    false,
                    format!("built {c}, {d} days ago: older than the {max} days allowed"),
                ),
                Some(d) => push(
                    "max-age",
                    true,
                    format!("built {c}, {d} days ago (at most {max})"),
                ),
            },
        }
    }
    if !rule.forbidden_base_images.is_empty() {
        let facts = r.facts.clone().unwrap_or_default();
        let base = facts
            .labels
            .get("org.opencontainers.image.base.name")
            .cloned();
        let base_digest = facts
            .labels
            .get("org.opencontainers.image.base.digest")
            .cloned();
        let mut hit = None;
        for g in &rule.forbidden_base_images {
            let cands = base
                .iter()
                .flat_map(|b| {
                    let norm = Reference::parse(b)
                        .map(|p| match &p.tag {
                            Some(t) => format!("{}/{}:{t}", p.registry, p.repository),
                            None => format!("{}/{}", p.registry, p.repository),
                        })
                        .unwrap_or_else(|_| b.clone());
                    [b.clone(), norm]
                })
                .chain(base_digest.iter().cloned());
            let found = cands.into_iter().find(|c| g.is_match(c));
            let found = found.or_else(|| {
                facts
                    .history
                    .iter()
                    .flat_map(|h| h.split_whitespace())
                    .find(|w| g.is_match(w))
                    .map(|w| format!("{w} (in the image history)"))
            });
            if let Some(f) = found {
                hit = Some(format!("base image {f} matches the forbidden {:?}", g.text));
                break;
            }
        }
        match hit {
            Some(h) => push("base-image", false, h),
            None => push(
                "base-image",
                true,
                match &base {
                    Some(b) => format!("base image {b} is not forbidden"),
                    None => "no forbidden base in the history; no org.opencontainers.image.base.name label".into(),
                },
            ),
        }
    }
    for req in &rule.signatures {
        let ok = sigs
            .iter()
            .find(|(s, j)| s.verified && signer_matches(&req.signer, &j.by, cx.material));
        let evidence = match ok {
            Some((s, _)) => format!(
                "signed by {} as required",
                s.key_id.clone().or(s.identity.clone()).unwrap_or_default()
            ),
            None => {
                let verified: Vec<String> = sigs
                    .iter()
                    .filter(|(s, _)| s.verified)
                    .filter_map(|(s, _)| s.key_id.clone().or(s.identity.clone()))
                    .collect();
                if sigs.is_empty() {
                    format!(
                        "no signature by {}: unsigned ({})",
                        describe(&req.signer),
                        no_sig_reason(v)
                    )
                } else if !verified.is_empty() {
                    format!(
                        "no signature by {}; signed only by {}",
                        describe(&req.signer),
                        verified.join(", ")
                    )
                } else {
                    format!(
                        "no signature by {}: none of the {} found verifies ({})",
                        describe(&req.signer),
                        sigs.len(),
                        sigs.iter()
                            .map(|(s, _)| s.reason.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                }
            }
        };
        push("signature", ok.is_some(), evidence);
    }
    for req in &rule.attestations {
        let typed: Vec<&(AttestationResult, Judged, Option<String>)> = atts
            .iter()
            .filter(|(a, _, _)| a.predicate_type == req.predicate_type)
            .collect();
        let good = typed.iter().find(|(a, j, b)| {
            a.verified
                && req
                    .signer
                    .as_ref()
                    .is_none_or(|s| signer_matches(s, &j.by, cx.material))
                && req
                    .builder_id
                    .as_ref()
                    .is_none_or(|want| b.as_ref() == Some(want))
        });
        let evidence = match good {
            Some((a, _, b)) => {
                format!(
                    "{} attestation verified{}",
                    req.predicate_type,
                    b.as_ref()
                        .map(|b| format!(", builder {b}"))
                        .unwrap_or_default()
                ) + &a
                    .key_id
                    .clone()
                    .or(a.identity.clone())
                    .map(|s| format!(", signed by {s}"))
                    .unwrap_or_default()
            }
            None if typed.is_empty() => format!("no {} attestation found", req.predicate_type),
            None => {
                let why: Vec<String> = typed
                    .iter()
                    .map(|(a, j, b)| {
                        if !a.verified {
                            a.reason.clone()
                        } else if let Some(want) =
                            req.builder_id.as_ref().filter(|w| b.as_ref() != Some(*w))
                        {
                            format!(
                                "builder is {}, not {want}",
                                b.as_deref().unwrap_or("(none)")
                            )
                        } else if let Some(s) = &req.signer
                            && !signer_matches(s, &j.by, cx.material)
                        {
                            format!("not signed by {}", describe(s))
                        } else {
                            a.reason.clone()
                        }
                    })
                    .collect();
                format!(
                    "no acceptable {} attestation: {}",
                    req.predicate_type,
                    why.join("; ")
                )
            }
        };
        push("attestation", good.is_some(), evidence);
    }
    if rule.scan.is_some() && cx.scan.is_none() {
        push(
            "scan",
            false,
            "the scan gate is not available in this run".into(),
        );
    }
    if let (Some(gate), Some(runner)) = (rule.scan, cx.scan) {
        let res = runner.scan(&r.scan_source)?;
        if let Some(max) = gate.max_severity {
            let mut over: Vec<&GateFinding> =
                res.findings.iter().filter(|f| f.severity > max).collect();
            over.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
            push(
                "scan",
                over.is_empty(),
                if over.is_empty() {
                    format!(
                        "no finding above {} ({} finding(s) in all)",
                        max.as_str().to_ascii_lowercase(),
                        res.findings.len()
                    )
                } else {
                    format!(
                        "{} finding(s) above {}: {}",
                        over.len(),
                        max.as_str().to_ascii_lowercase(),
                        over.iter()
                            .take(5)
                            .map(|f| format!(
                                "{} ({})",
                                f.id,
                                f.severity.as_str().to_ascii_lowercase()
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            );
        }
        if gate.kev_deny {
            if res.kev_known {
                let kev: Vec<&str> = res
                    .findings
                    .iter()
                    .filter(|f| f.kev)
                    .map(|f| f.id.as_str())
                    .collect();
                push(
                    "kev",
                    kev.is_empty(),
                    if kev.is_empty() {
                        "no known exploited vulnerability".into()
                    } else {
                        format!("known exploited: {}", kev.join(", "))
                    },
                );
            } else {
                push(
                    "kev",
                    true,
                    "not enforced: the advisory database holds no CVE records, so KEV membership is unknown (import them: docs/database.md)".into(),
                );
            }
        }
    }
    v.checks.extend(out);
    Ok(())
}
