//! The application state every handler shares.

use crate::auth::Verifier;
use crate::store::Store;

/// The application's shared state.
pub struct App {
    pub store: Store,
    pub verifier: Verifier,
}
