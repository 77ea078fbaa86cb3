//! Content scanners of `moat scan --scanners secret,malware,file,integrity`:
//!
//! - [`secrets`]: credentials in files and in the image config (rules in
//!   `rules/secrets.yaml`, an Aho-Corasick prefilter, regexes, allow-lists).
//! - [`malware`]: a YARA subset ([`yara`]) with bundled rules (`rules/malware/*.yar`),
//!   the user's rules and a sha256 list of known-bad files.
//! - [`files`]: risky files (setuid not owned by a package, world-writable
//!   directories, SSH keys, `.git`, package caches).
//! - [`integrity`]: package files whose content differs from the package database
//!   (dpkg `md5sums` and conffiles, apk `Z:` checksums).
//!
//! Everything reads through [`moat_fs::FileResolver`]; the per-layer walk (deleted and
//! overwritten files) is moat-scan's, which hands each layer's files to
//! [`Engine::scan_file`].

pub mod config;
pub mod files;
pub mod integrity;
pub mod malware;
pub mod secrets;
pub mod yara;

use moat_model::content::{MalwareFinding, SecretFinding};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped when a scanner's output for the same input changes (cache key).
pub const CONTENT_VERSION: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentErrorKind {
    /// A rules file (secret YAML, YARA) is invalid.
    Rules,
    /// A file named by the user could not be read.
    Io,
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ContentError {
    pub kind: ContentErrorKind,
    /// The file or rule set at fault.
    pub origin: String,
    pub message: String,
}

impl ContentError {
    pub fn rules(origin: impl Into<String>, message: impl Into<String>) -> Self {
        ContentError {
            kind: ContentErrorKind::Rules,
            origin: origin.into(),
            message: message.into(),
        }
    }
    pub fn io(origin: impl Into<String>, e: &std::io::Error) -> Self {
        ContentError {
            kind: ContentErrorKind::Io,
            origin: origin.into(),
            message: e.to_string(),
        }
    }
}

impl From<yara::YaraError> for ContentError {
    fn from(e: yara::YaraError) -> Self {
        ContentError::rules(e.origin, e.message)
    }
}

/// What to scan for, and the user's files.
#[derive(Debug, Clone, Default)]
pub struct ContentOptions {
    pub secret: bool,
    pub malware: bool,
    pub file: bool,
    pub integrity: bool,
    /// `--secret-config FILE`.
    pub secret_config: Option<PathBuf>,
    /// `--yara-rules DIR` (every `*.yar` / `*.yara` in it).
    pub yara_rules: Option<PathBuf>,
    /// `--malware-hashes FILE` (one sha256 a line, `#` comments).
    pub malware_hashes: Option<PathBuf>,
    pub limits: Limits,
}

/// Size caps: larger files are not read by the content scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files searched for secrets (bytes).
    pub secret_max_file: u64,
    /// Files matched against malware rules and hashes (bytes).
    pub malware_max_file: u64,
    /// Files hashed for the integrity check (bytes).
    pub integrity_max_file: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            secret_max_file: 8 << 20,
            malware_max_file: 64 << 20,
            integrity_max_file: 512 << 20,
        }
    }
}

/// The compiled scanners, built once per scan (a bad rules file fails here).
#[derive(Debug, Clone)]
pub struct Engine {
    pub opts: ContentOptions,
    pub secrets: Option<secrets::SecretScanner>,
    pub malware: Option<malware::MalwareScanner>,
    /// Hash of everything that shapes the output (rules, user files, options).
    fingerprint: String,
}

/// What [`Engine::scan_file`] found in one file.
#[derive(Debug, Default)]
pub struct FileHits {
    pub secrets: Vec<SecretFinding>,
    pub malware: Vec<MalwareFinding>,
}

impl Engine {
    pub fn new(opts: ContentOptions) -> Result<Engine, ContentError> {
        let mut h = Sha256::new();
        h.update(format!(
            "moat-content {CONTENT_VERSION} {} {} {} {} {:?}\n",
            opts.secret, opts.malware, opts.file, opts.integrity, opts.limits
        ));
        let mut feed = |p: &Path| {
            if let Ok(b) = std::fs::read(p) {
                h.update(p.display().to_string().as_bytes());
                h.update(&b);
            }
        };
        let secrets = if opts.secret {
            if let Some(p) = &opts.secret_config {
                feed(p);
            }
            Some(secrets::SecretScanner::new(opts.secret_config.as_deref())?)
        } else {
            None
        };
        let malware = if opts.malware {
            let m = malware::MalwareScanner::new(
                opts.yara_rules.as_deref(),
                opts.malware_hashes.as_deref(),
            )?;
            for f in &m.user_files {
                feed(f);
            }
            if let Some(p) = &opts.malware_hashes {
                feed(p);
            }
            Some(m)
        } else {
            None
        };
        h.update(secrets::BUNDLED_RULES.as_bytes());
        for (_, text) in malware::BUNDLED {
            h.update(text.as_bytes());
        }
        Ok(Engine {
            opts,
            secrets,
            malware,
            fingerprint: hex::encode(h.finalize()),
        })
    }

    /// Hash of the rules, user files and options (for caches).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// True when some scanner reads file contents layer by layer.
    pub fn reads_files(&self) -> bool {
        self.secrets.is_some() || self.malware.is_some()
    }

    /// The largest file [`Engine::scan_file`] wants to see.
    pub fn max_file(&self) -> u64 {
        let mut m = 0;
        if self.secrets.is_some() {
            m = m.max(self.opts.limits.secret_max_file);
        }
        if self.malware.is_some() {
            m = m.max(self.opts.limits.malware_max_file);
        }
        m
    }

    /// Secrets and malware in one file's content (`packaged`: installed by a package).
    pub fn scan_file(&self, path: &str, data: &[u8], packaged: bool) -> FileHits {
        let mut out = FileHits::default();
        if let Some(s) = &self.secrets
            && data.len() as u64 <= self.opts.limits.secret_max_file
        {
            out.secrets = s.scan(path, data, secrets::Target::File, packaged);
        }
        if let Some(m) = &self.malware {
            out.malware = m.scan(path, data);
        }
        out
    }
}

/// Lowercase hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
