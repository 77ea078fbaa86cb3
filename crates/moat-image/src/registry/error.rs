//! The error of the registry client: a message naming the failing object, or a
//! budget of [`crate::Limits`] that was exceeded.

use crate::{Budget, ImageError, ImageErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Refused, malformed, unreachable or failed; the message names the object.
    #[error("{0}")]
    Failed(String),
    /// `what` exceeded `budget`, whose value is `limit`.
    #[error("{what}: over the {budget} budget ({limit})")]
    Budget {
        what: String,
        budget: Budget,
        limit: u64,
    },
}

impl From<String> for RegistryError {
    fn from(s: String) -> Self {
        RegistryError::Failed(s)
    }
}

impl From<&str> for RegistryError {
    fn from(s: &str) -> Self {
        RegistryError::Failed(s.to_string())
    }
}

impl RegistryError {
    pub(crate) fn budget(what: impl Into<String>, budget: Budget, limit: u64) -> Self {
        RegistryError::Budget {
            what: what.into(),
            budget,
            limit,
        }
    }

    /// As an [`ImageError`] about `input`, keeping the budget.
    pub(crate) fn into_image(self, input: &str) -> ImageError {
        match self {
            RegistryError::Failed(m) => ImageError::new(input, m),
            RegistryError::Budget {
                what,
                budget,
                limit,
            } => {
                let mut e = ImageError::budget(input, what, budget, limit);
                e.kind = ImageErrorKind::Budget { budget, limit };
                e
            }
        }
    }
}
