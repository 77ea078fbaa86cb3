//! What image-config rules see: a leaf module that the rule registry and the image
//! config entry point both use, so that neither imports the other.

use moat_model::ImageMetadata;

/// What an image rule sees.
pub struct ImageInput<'a> {
    pub meta: &'a ImageMetadata,
    pub resolver: &'a dyn moat_fs::FileResolver,
}

/// `KEY=VALUE` assignments in a history command line (`ENV`, `ARG`, `RUN` prefixes).
pub(crate) fn assignments(s: &str) -> Vec<(String, String)> {
    crate::dockerfile::split_words(s)
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            let k = k.trim_start_matches("|1").trim();
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}
