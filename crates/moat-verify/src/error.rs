//! The error of moat-verify: an input that could not be read or understood (exit 2),
//! as opposed to a policy failure, which is a verdict, not an error.

/// What went wrong, naming the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The policy file is invalid: the message names the line and key.
    #[error("{path}:{line}: {key}: {message}")]
    Policy {
        path: String,
        line: u32,
        key: String,
        message: String,
    },
    /// A key, certificate or trusted root that cannot be used.
    #[error("{what}: {message}")]
    Material { what: String, message: String },
    /// A source, compose file or Dockerfile that cannot be read.
    #[error("{input}: {message}")]
    Source { input: String, message: String },
    /// A registry that cannot be reached or refused (not: a signature that is absent).
    #[error("{0}")]
    Registry(#[from] moat_image::registry::RegistryError),
    #[error("{0}")]
    Image(#[from] moat_image::ImageError),
    /// The scan gate could not scan.
    #[error("scan gate on {image}: {message}")]
    Scan { image: String, message: String },
}

impl VerifyError {
    pub(crate) fn material(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        VerifyError::Material {
            what: what.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn source(input: impl Into<String>, message: impl std::fmt::Display) -> Self {
        VerifyError::Source {
            input: input.into(),
            message: message.to_string(),
        }
    }
}

/// Why one signature, certificate or document does not verify: a reason for the
/// report (not an error of the run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Why(pub String);

impl From<String> for Why {
    fn from(s: String) -> Self {
        Why(s)
    }
}

impl From<&str> for Why {
    fn from(s: &str) -> Self {
        Why(s.to_string())
    }
}
