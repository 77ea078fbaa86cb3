//! Machine-readable JSON: the reports as they are, pretty-printed, one final newline.
//! Field names are an interface other tools read: change one only with a line in
//! CHANGELOG.md.

use moat_model::{ConfigFinding, Report};
use serde::Serialize;
use std::io::{self, Write};

/// Any serializable report, pretty-printed with a final newline.
pub fn write<T: Serialize + ?Sized>(value: &T, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::other)?;
    writeln!(w)
}

/// The scan report.
pub fn scan(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    write(report, w)
}

/// A file that could not be linted, and why.
#[derive(Debug, Clone, Serialize)]
pub struct FileError<'a> {
    pub path: &'a str,
    pub message: &'a str,
}

/// `moat lint --format json`: `{files, findings, errors}`.
pub fn lint(
    files: usize,
    findings: &[ConfigFinding],
    errors: &[FileError<'_>],
    w: &mut dyn Write,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        errors: &'a [FileError<'a>],
        files: usize,
        findings: &'a [ConfigFinding],
    }
    // Through a `Value`, whose maps are sorted: the keys of every finding come out in
    // alphabetical order, as they always have in this output.
    let doc = serde_json::to_value(Doc {
        errors,
        files,
        findings,
    })
    .map_err(io::Error::other)?;
    write(&doc, w)
}
