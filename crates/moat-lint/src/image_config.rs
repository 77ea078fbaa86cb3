//! Image config rules (stub).
pub struct ImageInput<'a> {
    pub meta: &'a moat_model::ImageMetadata,
}
