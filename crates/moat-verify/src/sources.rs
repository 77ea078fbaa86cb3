//! What `moat verify SOURCE` checks: an image source, or every image a Dockerfile
//! (`FROM`) or a compose file (`image:`) references.

use crate::error::VerifyError;
use moat_image::Source;
use std::path::Path;

/// One image to verify.
#[derive(Debug, Clone)]
pub struct Target {
    /// As the user (or the file) wrote it.
    pub shown: String,
    pub source: Source,
    /// `Dockerfile:3`, `compose.yml:7 (service web)` when it came from a file.
    pub origin: Option<String>,
}

/// The images `input` stands for.
pub fn expand(input: &str) -> Result<Vec<Target>, VerifyError> {
    let path = Path::new(input);
    if path.is_file() {
        match moat_lint::detect::kind_by_name(input) {
            Some(moat_lint::Kind::Dockerfile) => return dockerfile(path),
            Some(moat_lint::Kind::Compose) => return compose(path),
            _ => {}
        }
    }
    let source = Source::parse(input)?;
    Ok(vec![Target {
        shown: input.to_string(),
        source,
        origin: None,
    }])
}

fn read(path: &Path) -> Result<String, VerifyError> {
    let meta =
        std::fs::metadata(path).map_err(|e| VerifyError::source(path.display().to_string(), e))?;
    if meta.len() > 4 << 20 {
        return Err(VerifyError::source(
            path.display().to_string(),
            "over 4 MiB",
        ));
    }
    std::fs::read_to_string(path).map_err(|e| VerifyError::source(path.display().to_string(), e))
}

fn registry_target(image: &str, origin: String) -> Result<Target, VerifyError> {
    if image.contains('$') {
        return Err(VerifyError::source(
            &origin,
            format!("image {image:?} uses a variable without a value; cannot verify it"),
        ));
    }
    Ok(Target {
        shown: image.to_string(),
        source: Source::Registry(image.to_string()),
        origin: Some(origin),
    })
}

fn dockerfile(path: &Path) -> Result<Vec<Target>, VerifyError> {
    let text = read(path)?;
    let df = moat_lint::dockerfile::parse(&text);
    let mut out = Vec::new();
    for s in &df.stages {
        if s.parent.is_some() {
            continue; // FROM an earlier stage
        }
        let image = s.image_resolved.clone().unwrap_or_else(|| s.image.clone());
        if image.eq_ignore_ascii_case("scratch") {
            continue;
        }
        out.push(registry_target(
            &image,
            format!("{}:{}", path.display(), s.line),
        )?);
    }
    if out.is_empty() {
        return Err(VerifyError::source(
            path.display().to_string(),
            "no FROM image to verify (only scratch or earlier stages)",
        ));
    }
    Ok(out)
}

fn compose(path: &Path) -> Result<Vec<Target>, VerifyError> {
    let text = read(path)?;
    let env = path.with_file_name(".env");
    let vars = std::fs::read_to_string(&env)
        .map(|t| moat_lint::compose::parse_dotenv(&t))
        .unwrap_or_default();
    let c = moat_lint::compose::parse(&text, &vars)
        .map_err(|e| VerifyError::source(path.display().to_string(), e))?;
    let mut out = Vec::new();
    for s in &c.services {
        let Some(img) = s.get("image").and_then(|n| n.as_str()) else {
            continue; // build-only service
        };
        out.push(registry_target(
            &img,
            format!(
                "{}:{} (service {})",
                path.display(),
                s.line_of("image"),
                s.name
            ),
        )?);
    }
    if out.is_empty() {
        return Err(VerifyError::source(
            path.display().to_string(),
            "no service names an image to verify",
        ));
    }
    Ok(out)
}
