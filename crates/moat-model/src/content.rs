//! Findings of the content scanners (moat-content): secrets, malware, risky files and
//! package-integrity mismatches. Each reads through the common [`FindingHeader`].
//!
//! A matched secret never appears in these types: only its redacted form (a short
//! prefix, then `*` for the rest, so the length shows) and its length.

use crate::Severity;
use crate::location::FindingLocation;
use serde::{Deserialize, Serialize};

/// A credential found in a file of some layer, in the image config or its history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The rule id (`aws-access-key-id`).
    pub rule: String,
    /// The rule family (`AWS`, `GitHub`, `PrivateKey`...).
    pub category: String,
    pub severity: Severity,
    pub title: String,
    /// A file path, or `config:Env`, `config:Labels`, `config:Cmd`,
    /// `config:Entrypoint`, `history:N` (N 0-based) for the image config.
    pub location: FindingLocation,
    /// The match, redacted: a prefix, then `*` for every further character.
    pub redacted: String,
    /// The length of the matched secret, in bytes.
    pub length: usize,
    /// The line, with every secret on it redacted, cut to 160 characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
    /// The layer that deleted or overwrote the file (the secret stays in the lower
    /// layer's blob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_in: Option<String>,
}

/// One matched string of a malware rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StringMatch {
    /// The string's identifier in the rule (`$miner`).
    pub id: String,
    pub offset: u64,
    /// The matched bytes, printable ASCII kept and the rest escaped, at most 64.
    pub data: String,
}

/// A file that a malware rule or the known-bad hash list matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MalwareFinding {
    /// The YARA rule name, or `known-bad-hash`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub location: FindingLocation,
    /// The rules file (`bundled:miners.yar`, a path) or the hash list it came from.
    pub source: String,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_in: Option<String>,
}

/// A risky file or directory: setuid not owned by a package, file capabilities,
/// world-writable without sticky bit, SSH keys, `.git`, package caches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileFinding {
    /// `setuid-unowned`, `setgid-unowned`, `file-capabilities`, `world-writable-dir`,
    /// `ssh-host-key`, `authorized-keys`, `git-directory`, `package-cache`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub location: FindingLocation,
    /// Permission bits, setuid/setgid/sticky included.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes (of the whole tree for a directory or cache).
    pub size: u64,
}

/// A file owned by a package whose content differs from the package database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IntegrityFinding {
    /// `package-file-modified`, `package-conffile-modified`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub location: FindingLocation,
    pub package: String,
    /// `md5` (dpkg), `sha1` (apk `Z:Q1`), `sha256` (rpm).
    pub algorithm: String,
    /// Hex digests.
    pub expected: String,
    pub actual: String,
    /// A configuration file (dpkg conffile, rpm `%config`, apk file under /etc).
    pub config: bool,
}
