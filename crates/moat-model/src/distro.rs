//! The operating-system release an image is built on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Distro {
    /// `ID` from os-release (`debian`, `alpine`, `ubuntu`, `rhel`, ...).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.21.3`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_codename: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
    /// Other IDs the release is like (`ID_LIKE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
}
