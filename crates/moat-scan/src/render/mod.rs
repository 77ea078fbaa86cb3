//! Renderers: each takes a finished [`ScanReport`] and a writer.

mod html;
mod sarif;
mod table;

pub use html::html;
pub use sarif::sarif;
pub use table::table;

use crate::ScanReport;
use std::io::{self, Write};

/// Machine-readable JSON: the report as it is.
pub fn json(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report).map_err(io::Error::other)?;
    writeln!(w)
}
