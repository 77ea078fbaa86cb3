//! `moat verify`'s result and its renderers (table, JSON, SARIF).
//!
//! The types live here, beside their renderers, because moat-verify (L3) fills them
//! and only moat-report draws tables and writes SARIF.

use crate::table::esc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::{self, Write};

/// The verdicts of one `moat verify` run, images in the order they were named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VerifyReport {
    /// Every image satisfies the policy.
    pub passed: bool,
    pub images: Vec<ImageVerdict>,
}

/// One image: what was checked, every signature and attestation found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageVerdict {
    /// The image as named (`registry:host/repo:tag`, or as the Dockerfile/compose wrote it).
    pub reference: String,
    /// The manifest digest the checks are about (`None` when it could not be resolved).
    pub digest: Option<String>,
    pub checks: Vec<Check>,
    pub signatures: Vec<SignatureResult>,
    pub attestations: Vec<AttestationResult>,
    /// What could not be looked at, and why (a source without a registry...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ImageVerdict {
    /// Every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// One policy rule applied to one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// `registry`, `pinned`, `max-age`, `signature`, `attestation`, `base-image`, `scan`.
    pub rule: String,
    pub passed: bool,
    /// Why: what was found against what the policy asks.
    pub evidence: String,
}

/// One signature found for an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureResult {
    /// `cosign` (simple signing under `sha256-<hex>.sig`) or `sigstore-bundle`.
    pub kind: String,
    /// The key that verified it (file name and SHA-256 of its public key), for keyed
    /// signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `SUBJECT (issuer ISSUER)` of a keyless certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub verified: bool,
    pub reason: String,
}

/// One in-toto attestation (a DSSE envelope) found for an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationResult {
    /// `cosign` (`sha256-<hex>.att`) or `sigstore-bundle`.
    pub kind: String,
    pub predicate_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub verified: bool,
    pub reason: String,
    /// SLSA provenance: the builder id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// SLSA provenance: the materials / resolved dependencies (`uri@digest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<String>,
}

/// The report as JSON, pretty-printed, with a final newline.
pub fn json(r: &VerifyReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r).map_err(io::Error::other)?;
    writeln!(w)
}

fn new_table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t
}

/// Per image: the verdict, the checks, the signatures, the attestations.
pub fn table(r: &VerifyReport, w: &mut dyn Write) -> io::Result<()> {
    for img in &r.images {
        writeln!(
            w,
            "{} {}{}",
            if img.passed() { "PASS" } else { "FAIL" },
            esc(&img.reference),
            img.digest
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )?;
        if !img.checks.is_empty() {
            let mut t = new_table();
            t.set_header(["RULE", "RESULT", "EVIDENCE"]);
            for c in &img.checks {
                t.add_row([
                    esc(&c.rule),
                    if c.passed { "pass" } else { "FAIL" }.to_string(),
                    esc(&c.evidence),
                ]);
            }
            writeln!(w, "{t}")?;
        }
        if !img.signatures.is_empty() {
            let mut t = new_table();
            t.set_header(["SIGNATURE", "KEY / IDENTITY", "VERIFIED", "REASON"]);
            for s in &img.signatures {
                t.add_row([
                    esc(&s.kind),
                    esc(s.key_id.as_deref().or(s.identity.as_deref()).unwrap_or("-")),
                    if s.verified { "yes" } else { "no" }.to_string(),
                    esc(&s.reason),
                ]);
            }
            writeln!(w, "{t}")?;
        }
        if !img.attestations.is_empty() {
            let mut t = new_table();
            t.set_header([
                "ATTESTATION",
                "PREDICATE",
                "VERIFIED",
                "REASON",
                "BUILDER / MATERIALS",
            ]);
            for a in &img.attestations {
                let mut prov = a.builder.clone().unwrap_or_default();
                for m in &a.materials {
                    prov.push('\n');
                    prov.push_str(m);
                }
                t.add_row([
                    esc(&a.kind),
                    esc(&a.predicate_type),
                    if a.verified { "yes" } else { "no" }.to_string(),
                    esc(&a.reason),
                    esc(prov.trim()),
                ]);
            }
            writeln!(w, "{t}")?;
        }
        for n in &img.notes {
            writeln!(w, "note: {}", esc(n))?;
        }
    }
    let failed = r.images.iter().filter(|i| !i.passed()).count();
    writeln!(
        w,
        "{} image(s) verified, {} failed the policy",
        r.images.len(),
        failed
    )
}

/// SARIF 2.1.0: one result per failed check (level `error`), located at the image.
pub fn sarif_document(r: &VerifyReport) -> Value {
    let mut rules: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for img in &r.images {
        for c in img.checks.iter().filter(|c| !c.passed) {
            if !rules.contains(&c.rule) {
                rules.push(c.rule.clone());
            }
            let at = match &img.digest {
                Some(d) => format!("{}@{d}", img.reference),
                None => img.reference.clone(),
            };
            results.push(json!({
                "ruleId": format!("verify/{}", c.rule),
                "level": "error",
                "message": {"text": format!("{}: {}", img.reference, c.evidence)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": at}}}],
            }));
        }
    }
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": format!("verify/{r}"),
                "shortDescription": {"text": format!("moat verify policy rule `{r}`")},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "moat-verify",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/moat",
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

/// [`sarif_document`], pretty-printed, with a final newline.
pub fn sarif(r: &VerifyReport, w: &mut dyn Write) -> io::Result<()> {
    crate::sarif::write(&sarif_document(r), w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> VerifyReport {
        VerifyReport {
            passed: false,
            images: vec![ImageVerdict {
                reference: "registry:127.0.0.1:5000/app:1".into(),
                digest: Some(format!("sha256:{}", "a".repeat(64))),
                checks: vec![
                    Check {
                        rule: "pinned".into(),
                        passed: true,
                        evidence: "pinned by digest".into(),
                    },
                    Check {
                        rule: "signature".into(),
                        passed: false,
                        evidence: "no signature verifies with key.pub".into(),
                    },
                ],
                signatures: vec![SignatureResult {
                    kind: "cosign".into(),
                    key_id: Some("key.pub".into()),
                    identity: None,
                    verified: false,
                    reason: "the signature does not verify".into(),
                }],
                attestations: vec![],
                notes: vec![],
            }],
        }
    }

    #[test]
    fn json_has_the_issue_shape() {
        let mut out = Vec::new();
        json(&report(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let img = &v["images"][0];
        for k in [
            "reference",
            "digest",
            "checks",
            "signatures",
            "attestations",
        ] {
            assert!(img.get(k).is_some(), "{k} missing: {img}");
        }
        assert_eq!(img["checks"][1]["passed"], false);
        assert_eq!(img["signatures"][0]["key_id"], "key.pub");
        assert!(img["signatures"][0].get("identity").is_none());
    }

    #[test]
    fn table_and_sarif_name_the_failure() {
        let mut out = Vec::new();
        table(&report(), &mut out).unwrap();
        let t = String::from_utf8(out).unwrap();
        assert!(t.starts_with("FAIL registry:127.0.0.1:5000/app:1"), "{t}");
        assert!(t.contains("no signature verifies with key.pub"), "{t}");
        let s = sarif_document(&report());
        let results = s["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0]["ruleId"], "verify/signature");
    }
}
