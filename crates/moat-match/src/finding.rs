//! What a matcher produces. The types live in `moat_model::finding` (the report model
//! every renderer reads); they are re-exported here for the matchers.

pub use moat_model::finding::*;
